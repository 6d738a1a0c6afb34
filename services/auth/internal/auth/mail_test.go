package auth_test

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/auth/internal/auth"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/test/testkit"
)

// mailSettings send mail to mp without transport security, checking for
// queued mail every 50 ms.
func mailSettings(mp *testkit.Mailpit) map[string]string {
	return map[string]string{"SMTP_HOST": mp.SMTPHost, "SMTP_PORT": strconv.Itoa(mp.SMTPPort), "SMTP_SECURITY": "none",
		"SMTP_FROM": "noreply@workpulse.test", "PUBLIC_URL": "https://workpulse.test/", "MAIL_POLL_INTERVAL": "50ms"}
}

// newMailEnv is newEnv sending its mail to a mailpit of its own.
func newMailEnv(t *testing.T, overrides map[string]string) (*env, *testkit.Mailpit) {
	t.Helper()
	mp := testkit.StartMailpit(t)
	vars := mailSettings(mp)
	for k, v := range overrides {
		vars[k] = v
	}
	return newEnv(t, vars), mp
}

var resetLink = regexp.MustCompile(`https://workpulse\.test/reset#token=([A-Za-z0-9_-]+)`)

// resetToken waits for the n-th reset mail to email and returns its token.
func resetToken(t *testing.T, mp *testkit.Mailpit, email string, n int) string {
	t.Helper()
	msgs := mp.WaitForMessages(t, email, n, 30*time.Second)
	m := resetLink.FindStringSubmatch(msgs[0].Text)
	if msgs[0].Subject != "Reset your WorkPulse password" || m == nil {
		t.Fatalf("the reset mail to %s: %q\n%s", email, msgs[0].Subject, msgs[0].Text)
	}
	return m[1]
}

// mailCounter is the value of a counter of the mail sender's metrics.
func (e *env) mailCounter(name string) float64 {
	e.t.Helper()
	families, err := e.mailMetrics.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() == name {
			return f.GetMetric()[0].GetCounter().GetValue()
		}
	}
	e.t.Fatalf("no metric %s", name)
	return 0
}

func TestAPasswordResetMailsASingleUseLinkThatSetsANewPasswordAndEndsEverySession(t *testing.T) {
	e, mp := newMailEnv(t, nil)
	r := e.do("POST", "/api/auth/register", "", map[string]any{"email": "boss@example.com", "password": "correct horse", "name": "Boss",
		"organization_name": "Bossco"})
	if r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	oldAccess, oldRefresh := r.Body["access_token"].(string), r.Body["refresh_token"].(string)

	if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": " Boss@Example.com "}); r.Status != 202 {
		t.Fatalf("reset request: %d %s", r.Status, r.Raw)
	}
	token := resetToken(t, mp, "boss@example.com", 1)
	if !strings.Contains(mp.Messages(t, "boss@example.com")[0].Text, "Bossco") {
		t.Error("the reset mail does not name the organization")
	}
	var stored int
	if err := e.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.password_resets WHERE token_hash = sha256($1::bytea)",
		[]byte(token)).Scan(&stored); err != nil || stored != 1 {
		t.Fatalf("%d resets stored by the token's hash (%v); want 1", stored, err)
	}

	if r := e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": token, "new_password": "battery staple"}); r.Status != 204 {
		t.Fatalf("confirm: %d %s", r.Status, r.Raw)
	}
	e.poll()
	checks := []struct {
		name   string
		got    response
		status int
		code   string
	}{
		{"The access token from before the reset is refused.", e.do("GET", "/api/users/me", oldAccess, nil), 401, "AUTH_TOKEN_REVOKED"},
		{"The refresh token from before the reset is refused.", e.refresh(oldRefresh), 401, "AUTH_INVALID_TOKEN"},
		{"The old password no longer opens the account.", e.do("POST", "/api/auth/login", "", map[string]any{"email": "boss@example.com", "password": "correct horse"}), 401, "AUTH_INVALID_CREDENTIALS"},
		{"The new password opens it.", e.do("POST", "/api/auth/login", "", map[string]any{"email": "boss@example.com", "password": "battery staple"}), 200, ""},
		{"The link works once.", e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": token, "new_password": "another one"}), 400, "AUTH_RESET_TOKEN_INVALID"},
		{"A made-up token is refused.", e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": "made-up", "new_password": "another one"}), 400, "AUTH_RESET_TOKEN_INVALID"},
		{"A short new password is refused.", e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": token, "new_password": "short"}), 400, "VALIDATION_FAILED"},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			if c.got.Status != c.status || c.got.code() != c.code {
				t.Fatalf("%d %s; want %d %s", c.got.Status, c.got.Raw, c.status, c.code)
			}
		})
	}
	var queued int
	if err := e.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.mail_outbox").Scan(&queued); err != nil || queued != 0 {
		t.Errorf("%d messages still queued after delivery (%v)", queued, err)
	}
}

func TestAPasswordResetRequestAnswersAlikeForEveryEmailAndMailsOnlyActiveAccounts(t *testing.T) {
	e, mp := newMailEnv(t, nil)
	bossTok, _ := e.register("boss@example.com", "Bossco")
	_, gone := e.join(bossTok, "gone@example.com", "employee")
	if r := e.do("PATCH", "/api/users/"+gone, bossTok, map[string]any{"active": false}); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Raw)
	}
	// The same person in a second organization gets a link for each.
	otherTok, _ := e.register("chief@example.com", "Otherco")
	e.join(otherTok, "boss@example.com", "employee")

	for _, email := range []string{"nobody@example.com", "gone@example.com", "boss@example.com"} {
		if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": email}); r.Status != 202 || r.Raw != "" {
			t.Fatalf("reset request for %s: %d %q; want 202 and no body", email, r.Status, r.Raw)
		}
	}
	got := mp.WaitForMessages(t, "boss@example.com", 2, 30*time.Second)
	if text := got[0].Text + got[1].Text; !strings.Contains(text, "Bossco") || !strings.Contains(text, "Otherco") {
		t.Errorf("the two links do not name both organizations:\n%s", text)
	}
	// Mail goes out in the order it was queued: by now any for the
	// others would have arrived.
	for _, email := range []string{"nobody@example.com", "gone@example.com"} {
		for _, m := range mp.Messages(t, email) {
			if m.Subject == "Reset your WorkPulse password" {
				t.Errorf("a reset mail to %s", email)
			}
		}
	}
	if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": "not an email"}); r.Status != 400 || r.code() != "VALIDATION_FAILED" {
		t.Errorf("a malformed email: %d %s", r.Status, r.Raw)
	}
}

func TestAResetLinkExpiresAndEveryOpenLinkIsSpentByTheFirstUsed(t *testing.T) {
	e, mp := newMailEnv(t, map[string]string{"PASSWORD_RESET_TTL": "30m"})
	e.register("boss@example.com", "Bossco")
	request := func() {
		if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": "boss@example.com"}); r.Status != 202 {
			t.Fatalf("reset request: %d %s", r.Status, r.Raw)
		}
	}
	request()
	expired := resetToken(t, mp, "boss@example.com", 1)
	e.clock.Advance(30 * time.Minute)
	if r := e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": expired, "new_password": "battery staple"}); r.Status != 400 || r.code() != "AUTH_RESET_TOKEN_INVALID" {
		t.Fatalf("a link at its expiry: %d %s", r.Status, r.Raw)
	}
	request()
	first := resetToken(t, mp, "boss@example.com", 2)
	request()
	second := resetToken(t, mp, "boss@example.com", 3)
	if r := e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": second, "new_password": "battery staple"}); r.Status != 204 {
		t.Fatalf("the newest link: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": first, "new_password": "another one"}); r.Status != 400 || r.code() != "AUTH_RESET_TOKEN_INVALID" {
		t.Fatalf("an older link after the newest was used: %d %s", r.Status, r.Raw)
	}
}

func TestResetRequestsAreThrottledPerEmailWhetherOrNotItHasAnAccount(t *testing.T) {
	e, _ := newMailEnv(t, map[string]string{"PASSWORD_RESET_MAX_PER_EMAIL": "2"})
	e.register("boss@example.com", "Bossco")
	for _, email := range []string{"boss@example.com", "nobody@example.com"} {
		t.Run(email, func(t *testing.T) {
			for i := 1; i <= 3; i++ {
				r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": email})
				want := 202
				if i == 3 {
					want = 429
				}
				if r.Status != want {
					t.Fatalf("request %d: %d %s; want %d", i, r.Status, r.Raw, want)
				}
				if want == 429 && (r.code() != "AUTH_TOO_MANY_ATTEMPTS" || r.Header.Get("Retry-After") != "3600") {
					t.Fatalf("the throttled answer: %s, Retry-After %q", r.Raw, r.Header.Get("Retry-After"))
				}
			}
		})
	}
	// The reset requests are not login failures: the owner still signs in.
	e.login(t, "boss@example.com")
}

func TestInvitationsAreMailedWithTheLinkThatJoins(t *testing.T) {
	e, mp := newMailEnv(t, nil)
	bossTok, _ := e.register("boss@example.com", "Bossco")
	inv := e.do("POST", "/api/users/invitations", bossTok, map[string]any{"email": "new@example.com", "role": "manager"})
	if inv.Status != 201 || inv.Body["emailed"] != true {
		t.Fatalf("invite: %d %s", inv.Status, inv.Raw)
	}
	msg := mp.WaitForMessages(t, "new@example.com", 1, 30*time.Second)[0]
	link := regexp.MustCompile(`https://workpulse\.test/join#email=new%40example\.com&token=([A-Za-z0-9_-]+)`).FindStringSubmatch(msg.Text)
	if msg.Subject != "You are invited to Bossco on WorkPulse" || link == nil || link[1] != inv.Body["token"] {
		t.Fatalf("the invitation mail: %q\n%s", msg.Subject, msg.Text)
	}
	r := e.do("POST", "/api/auth/register", "", map[string]any{"email": "new@example.com", "password": "correct horse", "name": "Newcomer",
		"invitation_token": link[1]})
	if r.Status != 201 || r.Body["user"].(map[string]any)["role"] != "manager" {
		t.Fatalf("join through the mailed link: %d %s", r.Status, r.Raw)
	}
}

// hungSMTPServer accepts connections and never answers, as a server
// stuck under load does.
func hungSMTPServer(t *testing.T) (host, port string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	host, port, _ = net.SplitHostPort(l.Addr().String())
	return host, port
}

func TestAFailingSMTPServerNeverHoldsUpARequestAndItsMailIsRetried(t *testing.T) {
	mp := testkit.StartMailpit(t)
	hungHost, hungPort := hungSMTPServer(t)
	cases := []struct {
		name     string
		settings map[string]string
	}{
		{"A server that never answers times out.", map[string]string{"SMTP_HOST": hungHost, "SMTP_PORT": hungPort, "SMTP_TIMEOUT": "5s"}},
		{"A server without STARTTLS is refused when STARTTLS is required.", map[string]string{"SMTP_SECURITY": "starttls"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := mailSettings(mp)
			for k, v := range tc.settings {
				vars[k] = v
			}
			e := newEnv(t, vars)
			e.register("boss@example.com", "Bossco")
			// The sender holds the hung connection for its whole timeout;
			// the requests queue mail and answer meanwhile.
			for i := range 3 {
				watch := clock.Start()
				if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": "boss@example.com"}); r.Status != 202 {
					t.Fatalf("reset request %d: %d %s", i, r.Status, r.Raw)
				}
				if took := watch.Elapsed(); took >= 5*time.Second {
					t.Fatalf("reset request %d took %v, as long as the SMTP timeout", i, took)
				}
				time.Sleep(100 * time.Millisecond)
			}
			testkit.Eventually(t, 30*time.Second, "a failed delivery", func() bool { return e.mailCounter("workpulse_mail_send_failures_total") >= 1 })
			var attempts int
			var lastError string
			if err := e.db.Owner.QueryRow(context.Background(), "SELECT attempts, last_error FROM auth.mail_outbox ORDER BY id LIMIT 1").Scan(&attempts, &lastError); err != nil {
				t.Fatal(err)
			}
			if attempts != 1 || lastError == "" {
				t.Errorf("the queued message after a failure: %d attempts, last error %q", attempts, lastError)
			}
			if sent := e.mailCounter("workpulse_mail_sent_total"); sent != 0 {
				t.Errorf("%v messages counted as sent", sent)
			}
			if msgs := mp.Messages(t, "boss@example.com"); len(msgs) != 0 {
				t.Errorf("%d messages delivered", len(msgs))
			}
		})
	}
}

func TestWithoutSMTPNoMailIsQueuedAndResetsAreUnavailable(t *testing.T) {
	e := newEnv(t, nil)
	bossTok, _ := e.register("boss@example.com", "Bossco")
	if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": "boss@example.com"}); r.Status != 503 || r.code() != "AUTH_MAIL_UNAVAILABLE" {
		t.Fatalf("reset request: %d %s", r.Status, r.Raw)
	}
	if inv := e.do("POST", "/api/users/invitations", bossTok, map[string]any{"email": "new@example.com"}); inv.Status != 201 || inv.Body["emailed"] != false {
		t.Fatalf("invite: %d %s", inv.Status, inv.Raw)
	}
	var queued int
	if err := e.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.mail_outbox").Scan(&queued); err != nil || queued != 0 {
		t.Errorf("%d messages queued without SMTP (%v)", queued, err)
	}
}

func TestMailSettingsAreValidatedAtStartAndThePasswordIsNeverPrinted(t *testing.T) {
	base := map[string]string{"SMTP_HOST": "smtp.example.com", "SMTP_FROM": "noreply@example.com", "PUBLIC_URL": "https://workpulse.example.com"}
	cases := []struct {
		name    string
		change  map[string]string
		refused string
	}{
		{"Complete settings are accepted.", nil, ""},
		{"A host without a sender is refused.", map[string]string{"SMTP_FROM": ""}, "SMTP_FROM"},
		{"A sender that is not an email address is refused.", map[string]string{"SMTP_FROM": "WorkPulse"}, "SMTP_FROM"},
		{"A host without the web app's address is refused.", map[string]string{"PUBLIC_URL": ""}, "PUBLIC_URL"},
		{"An address that is not http(s) is refused.", map[string]string{"PUBLIC_URL": "workpulse.example.com"}, "PUBLIC_URL"},
		{"A user name without a password is refused.", map[string]string{"SMTP_USERNAME": "mailer"}, "SMTP_USERNAME"},
		{"An unknown transport security is refused.", map[string]string{"SMTP_SECURITY": "ssl"}, "SMTP_SECURITY"},
		{"A port out of range is refused.", map[string]string{"SMTP_PORT": "70000"}, "SMTP_PORT"},
		{"Without a host nothing else is required.", map[string]string{"SMTP_HOST": "", "SMTP_FROM": "", "PUBLIC_URL": ""}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vars := map[string]string{}
			for k, v := range base {
				vars[k] = v
			}
			for k, v := range tc.change {
				vars[k] = v
			}
			e := config.FromMap(vars)
			auth.LoadConfig(e, config.LoadCommon(e, "auth", ":0"))
			err := e.Err()
			if tc.refused == "" && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if tc.refused != "" && (err == nil || !strings.Contains(err.Error(), tc.refused)) {
				t.Fatalf("got %v; want %s refused", err, tc.refused)
			}
		})
	}
	vars := map[string]string{"SMTP_USERNAME": "mailer", "SMTP_PASSWORD": "s3cret-smtp-password"}
	for k, v := range base {
		vars[k] = v
	}
	e := config.FromMap(vars)
	cfg := auth.LoadConfig(e, config.LoadCommon(e, "auth", ":0"))
	if printed := cfg.Mail.String(); strings.Contains(printed, "s3cret") || !strings.Contains(printed, "smtp.example.com") {
		t.Errorf("the mail settings print as %q", printed)
	}
}

// tablesHolding names the tables of e's database with a row that holds
// secret, as text or as the bytes of a bytea column: what a copy of the
// database would give away.
func (e *env) tablesHolding(t *testing.T, secret string) []string {
	t.Helper()
	ctx := context.Background()
	rows, err := e.db.Owner.Query(ctx, "SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var holding []string
	for _, table := range tables {
		var n int
		if err := e.db.Owner.QueryRow(ctx, "SELECT count(*) FROM "+table+" x WHERE strpos(x::text, $1) > 0 OR strpos(x::text, $2) > 0",
			secret, hex.EncodeToString([]byte(secret))).Scan(&n); err != nil {
			t.Fatalf("search %s: %v", table, err)
		}
		if n > 0 {
			holding = append(holding, table)
		}
	}
	return holding
}

func TestQueuedMailHoldsItsLinkSealedUntilSentAndNothingOfItAfter(t *testing.T) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	// The service's own sender waits a minute between passes: this test
	// sends with a sender of its own, once it has searched the queue.
	e, mp := newMailEnv(t, map[string]string{"SIGNING_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(raw), "MAIL_POLL_INTERVAL": "1m"})
	bossTok, _ := e.register("boss@example.com", "Bossco")
	inv := e.do("POST", "/api/users/invitations", bossTok, map[string]any{"email": "new@example.com", "role": "employee"})
	if inv.Status != 201 || inv.Body["emailed"] != true {
		t.Fatalf("invite: %d %s", inv.Status, inv.Raw)
	}
	invToken := inv.Body["token"].(string)
	if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": "boss@example.com"}); r.Status != 202 {
		t.Fatalf("reset request: %d %s", r.Status, r.Raw)
	}
	ctx := context.Background()
	// A body queued before bodies were sealed, as the migration left it.
	if _, err := e.db.Owner.Exec(ctx, "INSERT INTO auth.mail_outbox (organization_id, recipient, subject, body)"+
		" SELECT organization_id, 'old@example.com', 'Before', 'wpp1'::bytea || convert_to('an old link https://workpulse.test/reset#token=old-queued', 'UTF8')"+
		" FROM auth.users WHERE email = 'boss@example.com'"); err != nil {
		t.Fatal(err)
	}
	if n, err := e.keys.Reseal(ctx); err != nil || n != 1 {
		t.Fatalf("reseal: %d rewritten (%v); want the one body queued before sealing", n, err)
	}

	queued := []struct {
		name, secret string
	}{
		{"The invitation's token is in no table while its mail is queued.", invToken},
		{"No table holds a reset link while its mail is queued.", "workpulse.test/reset"},
		{"No table holds an invitation link while its mail is queued.", "workpulse.test/join"},
		{"The body queued before sealing was resealed.", "old-queued"},
	}
	for _, c := range queued {
		t.Run(c.name, func(t *testing.T) {
			if holding := e.tablesHolding(t, c.secret); len(holding) != 0 {
				t.Errorf("%q is in %v", c.secret, holding)
			}
		})
	}
	var sealed int
	if err := e.db.Owner.QueryRow(ctx, "SELECT count(*) FROM auth.mail_outbox WHERE substring(body FOR 4) = 'wpk1'::bytea").Scan(&sealed); err != nil || sealed != 3 {
		t.Fatalf("%d of the queued bodies sealed (%v); want 3", sealed, err)
	}

	sender := auth.NewMailer(e.db.Pool(t, "workpulse_auth"), e.cfg.Mail, e.cfg.KeyCipher, prometheus.NewRegistry(), slog.Default(), e.clock)
	if n, err := sender.SendDue(ctx); err != nil || n != 3 {
		t.Fatalf("sent %d (%v); want 3", n, err)
	}
	resetTok := resetToken(t, mp, "boss@example.com", 1)
	joined := mp.WaitForMessages(t, "new@example.com", 1, 30*time.Second)[0]
	if old := mp.WaitForMessages(t, "old@example.com", 1, 30*time.Second)[0]; !strings.Contains(old.Text, "token=old-queued") {
		t.Errorf("the body queued before sealing arrived as %q", old.Text)
	}
	sent := []struct {
		name, secret string
	}{
		{"The sent reset link's token is in no table.", resetTok},
		{"The sent invitation's token is in no table.", invToken},
		{"No table holds a link once the mail is sent.", "workpulse.test/"},
	}
	for _, c := range sent {
		t.Run(c.name, func(t *testing.T) {
			if holding := e.tablesHolding(t, c.secret); len(holding) != 0 {
				t.Errorf("%q is in %v", c.secret, holding)
			}
		})
	}
	if !strings.Contains(joined.Text, invToken) {
		t.Fatalf("the invitation mail lacks its token:\n%s", joined.Text)
	}
	if r := e.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": resetTok, "new_password": "battery staple"}); r.Status != 204 {
		t.Fatalf("the mailed reset link: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/auth/register", "", map[string]any{"email": "new@example.com", "password": "correct horse", "name": "Newcomer",
		"invitation_token": invToken}); r.Status != 201 {
		t.Fatalf("join through the mailed invitation: %d %s", r.Status, r.Raw)
	}
}

func TestAQueuedBodyMovedToAnotherRecipientDoesNotOpenAndIsNotSent(t *testing.T) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	e, mp := newMailEnv(t, map[string]string{"SIGNING_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(raw), "MAIL_POLL_INTERVAL": "1m",
		"MAIL_MAX_ATTEMPTS": "1"})
	e.register("boss@example.com", "Bossco")
	if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": "boss@example.com"}); r.Status != 202 {
		t.Fatalf("reset request: %d %s", r.Status, r.Raw)
	}
	// Someone who may write the table but holds no key points the link
	// at their own mailbox.
	if _, err := e.db.Owner.Exec(context.Background(), "UPDATE auth.mail_outbox SET recipient = 'mallory@example.com'"); err != nil {
		t.Fatal(err)
	}
	sender := auth.NewMailer(e.db.Pool(t, "workpulse_auth"), e.cfg.Mail, e.cfg.KeyCipher, prometheus.NewRegistry(), slog.Default(), e.clock)
	if n, err := sender.SendDue(context.Background()); n != 0 || err == nil || !strings.Contains(err.Error(), "does not open") {
		t.Fatalf("sent %d (%v); want none and the body refused", n, err)
	}
	if msgs := mp.Messages(t, "mallory@example.com"); len(msgs) != 0 {
		t.Errorf("%d messages delivered to the changed recipient", len(msgs))
	}
}
