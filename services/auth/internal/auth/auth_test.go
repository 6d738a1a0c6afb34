package auth_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"github.com/workpulse/workpulse/services/auth/internal/auth"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/platform/sealbox"
	"github.com/workpulse/workpulse/test/testkit"
)

type env struct {
	t    *testing.T
	url  string
	db   *testkit.DB
	keys *auth.KeyStore
	// clock is the service's clock; tests move it.
	clock *testkit.Clock
	// revocations is the service's revocation list; tests poll it.
	revocations *authn.Revocations
	// mailMetrics holds the mail sender's metrics, when SMTP_HOST is set.
	mailMetrics *prometheus.Registry
	// cfg is the service's configuration, for tests that build a part of
	// it (a mail sender) themselves.
	cfg auth.Config
}

// envInstant is where an env's clock stands until a test moves it: a
// fixed instant, so that no verdict depends on the day the suite runs.
var envInstant = time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC)

func newEnv(t *testing.T, overrides map[string]string) *env {
	t.Helper()
	return newEnvAt(t, envInstant, overrides)
}

// newEnvAt is newEnv with the clock standing at at.
func newEnvAt(t *testing.T, at time.Time, overrides map[string]string) *env {
	t.Helper()
	clk := testkit.NewClock(at)
	db := testkit.NewDB(t)
	rdb, prefix := testkit.Redis(t)
	vars := map[string]string{"OPERATOR_TOKEN": "operator-secret"}
	for k, v := range overrides {
		vars[k] = v
	}
	e := config.FromMap(vars)
	cfg := auth.LoadConfig(e, config.LoadCommon(e, "auth", ":0"))
	if err := e.Err(); err != nil {
		t.Fatal(err)
	}
	pool := db.Pool(t, "workpulse_auth")
	keys := auth.NewKeyStore(pool, cfg.KeyRotation, cfg.TokenTTL, cfg.KeyCipher, clk).KeepPublished(cfg.DeviceTokenTTL)
	if err := keys.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	revocations := authn.NewRevocations(authn.PGRevocations{DB: pool}, clk)
	h := auth.NewServer(auth.Deps{Config: cfg, DB: pool, Redis: rdb, RedisPrefix: prefix, Keys: keys, Revocations: revocations,
		Metrics: metrics.NewHTTP(prometheus.NewRegistry(), "auth"), Clock: clk})
	srv := httptest.NewServer(httpx.Stack(clk, h, 64<<10))
	t.Cleanup(srv.Close)
	mailMetrics := prometheus.NewRegistry()
	if cfg.Mail.Enabled() {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- auth.NewMailer(pool, cfg.Mail, cfg.KeyCipher, mailMetrics, slog.Default(), clk).Run(ctx)
		}()
		t.Cleanup(func() { cancel(); <-done })
	}
	return &env{t: t, url: srv.URL, db: db, keys: keys, clock: clk, revocations: revocations, mailMetrics: mailMetrics, cfg: cfg}
}

type response struct {
	Status int
	Header http.Header
	Body   map[string]any
	List   []map[string]any
	Raw    string
}

func (r response) code() string {
	if e, ok := r.Body["error"].(map[string]any); ok {
		return e["code"].(string)
	}
	return ""
}

func (e *env) do(method, path, token string, body any) response {
	e.t.Helper()
	r, err := e.send(method, path, token, body, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// send is do for any goroutine: it reports a failed round trip instead of
// failing the test, and sends header besides.
func (e *env) send(method, path, token string, body any, header http.Header) (response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		rd = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, e.url+path, rd)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(raw)}
	if len(raw) > 0 && raw[0] == '[' {
		_ = json.Unmarshal(raw, &out.List)
	} else {
		_ = json.Unmarshal(raw, &out.Body)
	}
	return out, nil
}

// burst sends n requests at once, the i-th made by req(i), and counts the
// answers by status; a failed round trip fails the test.
func (e *env) burst(n int, req func(i int) (path string, body any, header http.Header)) map[int]int {
	e.t.Helper()
	var mu sync.Mutex
	var wg sync.WaitGroup
	byStatus := map[int]int{}
	var errs []error
	for i := 0; i < n; i++ {
		path, body, header := req(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := e.send("POST", path, "", body, header)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			byStatus[r.Status]++
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		e.t.Fatalf("%d of %d requests failed, the first with %v", len(errs), n, errs[0])
	}
	return byStatus
}

// from is a request header forwarding for the i-th client address.
func from(i int) http.Header {
	return http.Header{"X-Forwarded-For": {fmt.Sprintf("198.51.%d.%d", i/250, i%250+1)}}
}

func (e *env) register(email, org string) (token string, user map[string]any) {
	e.t.Helper()
	r := e.do("POST", "/api/auth/register", "", map[string]any{"email": email, "password": "correct horse", "name": "Member " + email[:3], "organization_name": org})
	if r.Status != 201 {
		e.t.Fatalf("register %s: %d %s", email, r.Status, r.Raw)
	}
	return r.Body["access_token"].(string), r.Body["user"].(map[string]any)
}

func claims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	_ = json.Unmarshal(raw, &c)
	return c
}

func TestRegistrationCreatesAnOrganizationWhoseCreatorIsAdmin(t *testing.T) {
	e := newEnv(t, nil)
	_, victimUser := e.register("victim@example.com", "Victim Corp")
	r := e.do("POST", "/api/auth/register", "", map[string]any{"email": "mallory@example.com", "password": "correct horse", "name": "Mallory",
		"organization_name": "Mallory Inc", "plan_type": "pro", "role": "employee", "organization_id": victimUser["organization_id"]})
	if r.Status != 201 {
		t.Fatalf("register: %d %s", r.Status, r.Raw)
	}
	user, org := r.Body["user"].(map[string]any), r.Body["organization"].(map[string]any)
	if user["role"] != "admin" || user["organization_id"] == victimUser["organization_id"] || org["plan_type"] != "pro" || org["name"] != "Mallory Inc" {
		t.Fatalf("register let the body choose the role or organization: %s", r.Raw)
	}
	if strings.Contains(r.Raw, "password") {
		t.Fatalf("the response mentions the password: %s", r.Raw)
	}
	c := claims(t, r.Body["access_token"].(string))
	if c["sub"] != user["id"] || c["organization_id"] != org["id"] || c["role"] != "admin" || c["iss"] != "workpulse" || c["email"] != "mallory@example.com" {
		t.Fatalf("token claims %v do not match the user", c)
	}
	var types []string
	rows, _ := e.db.Owner.Query(context.Background(), "SELECT payload->>'type' FROM auth.outbox WHERE payload->>'organization_id' = $1 ORDER BY id", org["id"])
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		types = append(types, s)
	}
	if strings.Join(types, ",") != "organization.created,user.created" {
		t.Fatalf("registration queued events %v; want organization.created then user.created", types)
	}
}

func TestRegistrationRefusesBadInput(t *testing.T) {
	e := newEnv(t, nil)
	e.register("taken@example.com", "Taken")
	valid := func(mod func(m map[string]any)) map[string]any {
		m := map[string]any{"email": "new@example.com", "password": "correct horse", "name": "Newton", "organization_name": "New Org"}
		mod(m)
		return m
	}
	cases := []struct {
		name       string
		body       any
		wantStatus int
		wantCode   string
		wantField  string
	}{
		{"A password shorter than 8 characters is refused.", valid(func(m map[string]any) { m["password"] = "short" }), 400, "VALIDATION_FAILED", "password"},
		{"An invalid email is refused.", valid(func(m map[string]any) { m["email"] = "not-an-email" }), 400, "VALIDATION_FAILED", "email"},
		{"A one-letter name is refused.", valid(func(m map[string]any) { m["name"] = "N" }), 400, "VALIDATION_FAILED", "name"},
		{"A missing organization name is refused.", valid(func(m map[string]any) { delete(m, "organization_name") }), 400, "VALIDATION_FAILED", "organization_name"},
		{"An unknown plan is refused.", valid(func(m map[string]any) { m["plan_type"] = "platinum" }), 400, "VALIDATION_FAILED", "plan_type"},
		{"A password of the wrong type is refused.", valid(func(m map[string]any) { m["password"] = 12345678 }), 400, "VALIDATION_FAILED", "password"},
		{"An unknown field is refused.", valid(func(m map[string]any) { m["is_superuser"] = true }), 400, "VALIDATION_FAILED", "is_superuser"},
		{"Malformed JSON is refused.", `{"email":`, 400, "VALIDATION_FAILED", ""},
		{"An oversized body is refused with 413.", valid(func(m map[string]any) { m["name"] = strings.Repeat("n", 100<<10) }), 413, "REQUEST_TOO_LARGE", ""},
		{"An email already registered is refused.", valid(func(m map[string]any) { m["email"] = "TAKEN@example.com" }), 409, "AUTH_USER_EXISTS", ""},
		{"SQL metacharacters are stored as text, not run.", valid(func(m map[string]any) { m["organization_name"] = "x'); DROP TABLE auth.users; --" }), 201, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/auth/register", "", c.body)
			if r.Status != c.wantStatus || r.code() != c.wantCode {
				t.Fatalf("got %d %s; want %d %s", r.Status, r.Raw, c.wantStatus, c.wantCode)
			}
			if c.wantField != "" && !strings.Contains(r.Raw, `"field":"`+c.wantField+`"`) {
				t.Fatalf("the error does not name the field %s: %s", c.wantField, r.Raw)
			}
			if c.wantStatus >= 400 && r.Body["success"] != false {
				t.Fatalf("the error is not in the envelope: %s", r.Raw)
			}
		})
	}
}

func TestLoginIssuesATokenAndRefusesWrongPasswords(t *testing.T) {
	e := newEnv(t, nil)
	_, user := e.register("ann@example.com", "Acme")
	cases := []struct {
		name     string
		body     map[string]any
		want     int
		wantCode string
	}{
		{"The right password logs in.", map[string]any{"email": "ann@example.com", "password": "correct horse"}, 200, ""},
		{"The email is matched case-insensitively.", map[string]any{"email": "ANN@example.com", "password": "correct horse"}, 200, ""},
		{"A wrong password is refused.", map[string]any{"email": "ann@example.com", "password": "wrong horse"}, 401, "AUTH_INVALID_CREDENTIALS"},
		{"An unknown email is refused the same way.", map[string]any{"email": "nobody@example.com", "password": "correct horse"}, 401, "AUTH_INVALID_CREDENTIALS"},
		{"Another organization's id does not open the account.", map[string]any{"email": "ann@example.com", "password": "correct horse", "organization_id": "00000000-0000-4000-8000-000000000000"}, 401, "AUTH_INVALID_CREDENTIALS"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "/api/auth/login", "", c.body)
			if r.Status != c.want || r.code() != c.wantCode {
				t.Fatalf("got %d %s; want %d %s", r.Status, r.Raw, c.want, c.wantCode)
			}
			if c.want == 200 && r.Body["user"].(map[string]any)["id"] != user["id"] {
				t.Fatalf("logged in as %v; want %v", r.Body["user"], user["id"])
			}
		})
	}
}

// TestRepeatedLoginFailuresSlowTheAccountDownWithoutLockingItsOwnerOut
// guesses an account's password: after the free attempts each next one
// waits a delay that doubles per failure up to a minute, so the guesser
// gets a few attempts a minute, while the owner, who waits out the delay,
// gets in (a hard lock would turn five wrong guesses into a denial of
// service of the right password).
func TestRepeatedLoginFailuresSlowTheAccountDownWithoutLockingItsOwnerOut(t *testing.T) {
	e := newEnv(t, map[string]string{"LOGIN_MAX_FAILURES_PER_EMAIL": "3"})
	e.register("bob@example.com", "Bobs")
	guess := func(i int) response {
		return e.do("POST", "/api/auth/login", "", map[string]any{"email": "bob@example.com", "password": fmt.Sprintf("guess %d", i)})
	}
	for i := 0; i < 3; i++ {
		if r := guess(i); r.Status != 401 {
			t.Fatalf("free attempt %d: %d %s", i, r.Status, r.Raw)
		}
	}
	right := map[string]any{"email": "bob@example.com", "password": "correct horse"}
	r := e.do("POST", "/api/auth/login", "", right)
	if ra := r.Header.Get("Retry-After"); r.Status != 429 || r.code() != "AUTH_TOO_MANY_ATTEMPTS" || ra != "1" {
		t.Fatalf("right after 3 failures: %d Retry-After %q %s; want 429 AUTH_TOO_MANY_ATTEMPTS after 1 s", r.Status, ra, r.Raw)
	}
	if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "other@example.com", "password": "x"}); r.Status != 401 {
		t.Fatalf("another email was throttled too: %d", r.Status)
	}
	// Each further failure doubles the delay: 1, 2, 4, 8, 16, 32 s, then
	// a minute at most.
	for i, want := range []string{"2", "4", "8", "16", "32", "60", "60"} {
		e.clock.Advance(time.Minute)
		if r := guess(10 + i); r.Status != 401 {
			t.Fatalf("guess %d after waiting: %d %s", i, r.Status, r.Raw)
		}
		if r := e.do("POST", "/api/auth/login", "", right); r.Status != 429 || r.Header.Get("Retry-After") != want {
			t.Fatalf("after guess %d: %d Retry-After %q; want 429 after %s s", i, r.Status, r.Header.Get("Retry-After"), want)
		}
	}
	e.clock.Advance(59 * time.Second)
	if r := e.do("POST", "/api/auth/login", "", right); r.Status != 429 || r.Header.Get("Retry-After") != "1" {
		t.Fatalf("a second before the delay ends: %d Retry-After %q", r.Status, r.Header.Get("Retry-After"))
	}
	e.clock.Advance(time.Second)
	if r := e.do("POST", "/api/auth/login", "", right); r.Status != 200 {
		t.Fatalf("the owner after the delay: %d %s", r.Status, r.Raw)
	}
	// Success clears the account's count.
	if r := guess(99); r.Status != 401 {
		t.Fatalf("a wrong password after a success: %d %s", r.Status, r.Raw)
	}
}

// TestConcurrentWrongLoginsAreCountedBeforeAnyIsVerified sends 100 wrong
// passwords for one account at once: only the free attempts are hashed,
// every other one is refused with 429 (when attempts were counted after
// verifying, all 100 passed the check and got 401).
func TestConcurrentWrongLoginsAreCountedBeforeAnyIsVerified(t *testing.T) {
	e := newEnv(t, nil)
	e.register("target@example.com", "Target")
	got := e.burst(100, func(i int) (string, any, http.Header) {
		return "/api/auth/login", map[string]any{"email": "target@example.com", "password": fmt.Sprintf("guess %d", i)}, nil
	})
	if got[401] > 5 || got[401]+got[429] != 100 {
		t.Fatalf("answers by status %v; want at most 5 401s and the rest 429", got)
	}
}

// TestAddressesAreCappedAndOnlyTrustedProxiesMayNameThem sends failures
// from one address: the 50 allowed a window are counted, the rest get
// 429; a peer outside the trusted proxy ranges cannot escape the cap by
// naming other addresses in X-Forwarded-For.
func TestAddressesAreCappedAndOnlyTrustedProxiesMayNameThem(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted string
		want401 int
	}{
		{"A trusted proxy's forwarded addresses are each capped on their own.", "127.0.0.0/8", 60},
		{"An untrusted peer's forwarded addresses are ignored.", "10.0.0.0/8", 50},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, map[string]string{"TRUSTED_PROXY_CIDRS": c.trusted, "PASSWORD_HASH_QUEUE": "100"})
			got := e.burst(60, func(i int) (string, any, http.Header) {
				return "/api/auth/login", map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "password": "guess"}, from(i)
			})
			if got[401] != c.want401 || got[401]+got[429] != 60 {
				t.Fatalf("answers by status %v; want %d 401s and the rest 429", got, c.want401)
			}
		})
	}
}

// TestRegistrationIsThrottledPerAddress creates organizations from one
// address until the cap; joining through an invitation does not count.
func TestRegistrationIsThrottledPerAddress(t *testing.T) {
	e := newEnv(t, map[string]string{"REGISTER_MAX_PER_IP": "3"})
	adminTok, _ := e.register("first@example.com", "First")
	e.register("second@example.com", "Second")
	inv := e.do("POST", "/api/users/invitations", adminTok, map[string]any{"email": "joiner@example.com"})
	if r := e.do("POST", "/api/auth/register", "", map[string]any{"email": "joiner@example.com", "password": "correct horse", "name": "Joiner", "invitation_token": inv.Body["token"]}); r.Status != 201 {
		t.Fatalf("joining by invitation: %d %s", r.Status, r.Raw)
	}
	e.register("third@example.com", "Third")
	r := e.do("POST", "/api/auth/register", "", map[string]any{"email": "fourth@example.com", "password": "correct horse", "name": "Fourth", "organization_name": "Fourth"})
	if ra := r.Header.Get("Retry-After"); r.Status != 429 || r.code() != "AUTH_TOO_MANY_ATTEMPTS" || ra != "3600" {
		t.Fatalf("a fourth organization from one address: %d Retry-After %q %s; want 429 after an hour", r.Status, ra, r.Raw)
	}
	e.clock.Advance(time.Hour)
	e.register("fourth@example.com", "Fourth")
}

// TestPasswordHashingIsBoundedAndRefusesTheOverflowWith503 sends more
// logins and registrations at once, from as many addresses, than there
// are hashing slots and queue places: the overflow is refused at once
// with 503 and Retry-After, the rest answered as usual.
func TestPasswordHashingIsBoundedAndRefusesTheOverflowWith503(t *testing.T) {
	e := newEnv(t, map[string]string{"PASSWORD_HASH_CONCURRENCY": "1", "PASSWORD_HASH_QUEUE": "1"})
	got := e.burst(40, func(i int) (string, any, http.Header) {
		if i%2 == 0 {
			return "/api/auth/login", map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "password": "guess"}, from(i)
		}
		return "/api/auth/register", map[string]any{"email": fmt.Sprintf("u%d@example.com", i), "password": "correct horse",
			"name": "Newcomer", "organization_name": fmt.Sprintf("Org %d", i)}, from(i)
	})
	if got[503] == 0 || got[401]+got[201] == 0 || got[401]+got[201]+got[503] != 40 {
		t.Fatalf("answers by status %v; want 401s and 201s, the overflow 503", got)
	}
	r := e.do("GET", "/api/auth/.well-known/jwks.json", "", nil)
	if r.Status != 200 {
		t.Fatalf("JWKS after the burst: %d", r.Status)
	}
}

// TestInvitationsAndTokensExpireByTheClockAtEveryCalendarInstant stands the
// service on each calendar instant: an invitation and a token expire at
// their lifetime from the instant, across a day's, a month's and a year's
// end, on the clock and not on the day the suite runs.
func TestInvitationsAndTokensExpireByTheClockAtEveryCalendarInstant(t *testing.T) {
	for _, inst := range testkit.CalendarInstants() {
		t.Run(inst.Name, func(t *testing.T) {
			t.Parallel()
			e := newEnvAt(t, inst.At, nil)
			adminTok, _ := e.register("boss@example.com", "Calendar")
			c := claims(t, adminTok)
			if exp := int64(c["exp"].(float64)); exp != inst.At.Add(15*time.Minute).Unix() {
				t.Errorf("the token expires at %v, want 15 minutes after %v", time.Unix(exp, 0).UTC(), inst.At)
			}
			var invites []response
			for _, email := range []string{"on-time@example.com", "late@example.com"} {
				inv := e.do("POST", "/api/users/invitations", adminTok, map[string]any{"email": email, "expires_in_hours": 1})
				if inv.Status != 201 || inv.Body["expires_at"] != inst.At.Add(time.Hour).Format(time.RFC3339) {
					t.Fatalf("invite %s: %d %s; want it to expire at %s", email, inv.Status, inv.Raw, inst.At.Add(time.Hour).Format(time.RFC3339))
				}
				invites = append(invites, inv)
			}
			join := func(email string, inv response) response {
				return e.do("POST", "/api/auth/register", "", map[string]any{"email": email, "password": "correct horse", "name": "Worker", "invitation_token": inv.Body["token"]})
			}
			e.clock.Set(inst.At.Add(time.Hour))
			if r := join("on-time@example.com", invites[0]); r.Status != 201 {
				t.Errorf("an invitation at its expiry instant: %d %s", r.Status, r.Raw)
			}
			e.clock.Advance(time.Second)
			if r := join("late@example.com", invites[1]); r.Status != 400 || r.code() != "AUTH_INVITATION_INVALID" {
				t.Errorf("an invitation a second after its expiry: %d %s", r.Status, r.Raw)
			}
			e.clock.Set(inst.At.Add(15 * time.Minute))
			if r := e.do("GET", "/api/users/employees", adminTok, nil); r.Status != 200 {
				t.Errorf("a token at its expiry instant: %d %s", r.Status, r.Raw)
			}
			e.clock.Advance(time.Minute)
			if r := e.do("GET", "/api/users/employees", adminTok, nil); r.Status != 401 || r.code() != "AUTH_TOKEN_EXPIRED" {
				t.Errorf("a token a minute after its expiry: %d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestInvitationsAreTheOnlyWayIntoAnExistingOrganization(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@example.com", "Bossco")
	invite := func(t *testing.T, token, email, role string) response {
		return e.do("POST", "/api/users/invitations", token, map[string]any{"email": email, "role": role})
	}
	inv := invite(t, adminTok, "worker@example.com", "employee")
	if inv.Status != 201 || inv.Body["token"] == "" {
		t.Fatalf("invite: %d %s", inv.Status, inv.Raw)
	}
	join := func(email, token string) response {
		return e.do("POST", "/api/auth/register", "", map[string]any{"email": email, "password": "correct horse", "name": "Worker", "invitation_token": token})
	}
	if r := join("someone-else@example.com", inv.Body["token"].(string)); r.Status != 400 || r.code() != "AUTH_INVITATION_INVALID" {
		t.Fatalf("another email used the invitation: %d %s", r.Status, r.Raw)
	}
	r := join("worker@example.com", inv.Body["token"].(string))
	if r.Status != 201 {
		t.Fatalf("join: %d %s", r.Status, r.Raw)
	}
	worker := r.Body["user"].(map[string]any)
	if worker["organization_id"] != admin["organization_id"] || worker["role"] != "employee" {
		t.Fatalf("the invitee joined as %v; want an employee of %v", worker, admin["organization_id"])
	}
	if c := claims(t, r.Body["access_token"].(string)); c["role"] != "employee" || c["organization_id"] != admin["organization_id"] {
		t.Fatalf("the invitee's token claims %v", c)
	}
	if r := join("worker@example.com", inv.Body["token"].(string)); r.Status != 400 || r.code() != "AUTH_INVITATION_INVALID" {
		t.Fatalf("an invitation was used twice: %d %s", r.Status, r.Raw)
	}
	expired := invite(t, adminTok, "late@example.com", "admin")
	if _, err := e.db.Owner.Exec(context.Background(), "UPDATE auth.invitations SET expires_at = $2 WHERE id = $1", expired.Body["id"], e.clock.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if r := join("late@example.com", expired.Body["token"].(string)); r.Status != 400 || r.code() != "AUTH_INVITATION_INVALID" {
		t.Fatalf("an expired invitation worked: %d %s", r.Status, r.Raw)
	}
	if r := invite(t, r.Body["access_token"].(string), "x@example.com", "admin"); r.Status != 403 {
		t.Fatalf("an employee invited someone: %d %s", r.Status, r.Raw)
	}

	// The same person invited into a second organization has two accounts;
	// login then needs to know which.
	otherTok, other := e.register("other-boss@example.com", "Otherco")
	second := invite(t, otherTok, "worker@example.com", "employee")
	if r := join("worker@example.com", second.Body["token"].(string)); r.Status != 201 {
		t.Fatalf("joining a second organization: %d %s", r.Status, r.Raw)
	}
	login := map[string]any{"email": "worker@example.com", "password": "correct horse"}
	if r := e.do("POST", "/api/auth/login", "", login); r.Status != 400 || r.code() != "AUTH_ORGANIZATION_REQUIRED" {
		t.Fatalf("ambiguous login: %d %s; want AUTH_ORGANIZATION_REQUIRED", r.Status, r.Raw)
	}
	login["organization_id"] = other["organization_id"]
	if r := e.do("POST", "/api/auth/login", "", login); r.Status != 200 || r.Body["user"].(map[string]any)["organization_id"] != other["organization_id"] {
		t.Fatalf("login with organization_id: %d %s", r.Status, r.Raw)
	}
}

func TestEmployeeListIsForAdminsAndNeverCrossesOrganizations(t *testing.T) {
	e := newEnv(t, nil)
	adminA, _ := e.register("a-admin@example.com", "A")
	adminB, _ := e.register("b-admin@example.com", "B")
	inv := e.do("POST", "/api/users/invitations", adminA, map[string]any{"email": "a-emp@example.com"})
	emp := e.do("POST", "/api/auth/register", "", map[string]any{"email": "a-emp@example.com", "password": "correct horse", "name": "Emp", "invitation_token": inv.Body["token"]})
	cases := []struct {
		name   string
		token  string
		want   int
		emails []string
	}{
		{"An admin lists exactly the members of their organization, by name.", adminA, 200, []string{"a-emp@example.com", "a-admin@example.com"}},
		{"The other organization's admin sees only theirs.", adminB, 200, []string{"b-admin@example.com"}},
		{"An employee is forbidden.", emp.Body["access_token"].(string), 403, nil},
		{"An anonymous caller is unauthorized.", "", 401, nil},
		{"A tampered token is unauthorized.", adminA[:len(adminA)-4] + "AAAA", 401, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("GET", "/api/users/employees", c.token, nil)
			if r.Status != c.want {
				t.Fatalf("got %d %s; want %d", r.Status, r.Raw, c.want)
			}
			if c.want != 200 {
				return
			}
			var got []string
			for _, u := range r.List {
				got = append(got, u["email"].(string))
				if _, leaked := u["password_hash"]; leaked {
					t.Fatalf("the list exposes password hashes: %s", r.Raw)
				}
			}
			if strings.Join(got, ",") != strings.Join(c.emails, ",") {
				t.Fatalf("listed %v; want %v", got, c.emails)
			}
		})
	}
}

func TestSigningKeysRotateWithoutInvalidatingIssuedTokens(t *testing.T) {
	// Tokens outlive the rotation's steps, as a long JWT_EXPIRATION's do.
	e := newEnv(t, map[string]string{"JWT_KEY_ROTATION": "1h", "JWT_EXPIRATION": "24h"})
	oldTok, _ := e.register("rot@example.com", "Rotate")
	oldKid := claimsHeaderKid(t, oldTok)
	// The current key nears retirement: a new key is made and published,
	// while the old one keeps signing until it retires.
	ctx := context.Background()
	e.clock.Advance(59 * time.Minute)
	if err := e.keys.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	jwks := e.do("GET", "/api/auth/.well-known/jwks.json", "", nil)
	if keys := jwks.Body["keys"].([]any); len(keys) != 2 {
		t.Fatalf("JWKS publishes %d keys during a rotation; want 2", len(keys))
	}
	if kid := claimsHeaderKid(t, e.login(t, "rot@example.com")); kid != oldKid {
		t.Fatalf("the new key signed before its announcement period ended")
	}
	e.clock.Advance(time.Minute + time.Second)
	if err := e.keys.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	newTok := e.login(t, "rot@example.com")
	if claimsHeaderKid(t, newTok) == oldKid {
		t.Fatal("the retired key still signs")
	}
	for name, tok := range map[string]string{"old": oldTok, "new": newTok} {
		if r := e.do("GET", "/api/users/employees", tok, nil); r.Status != 200 {
			t.Fatalf("a token of the %s key was refused after rotation: %d %s", name, r.Status, r.Raw)
		}
	}
}

func (e *env) login(t *testing.T, email string) string {
	t.Helper()
	r := e.do("POST", "/api/auth/login", "", map[string]any{"email": email, "password": "correct horse"})
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	return r.Body["access_token"].(string)
}

func claimsHeaderKid(t *testing.T, token string) string {
	t.Helper()
	raw, _ := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	var h map[string]any
	_ = json.Unmarshal(raw, &h)
	return h["kid"].(string)
}

func TestOperatorProvisionsTenantsIdempotently(t *testing.T) {
	e := newEnv(t, nil)
	org := "5b0c1d2e-3f40-4a5b-8c6d-7e8f90a1b2c3"
	body := map[string]any{"name": "Tenant", "plan_type": "pro", "time_zone": "Europe/Berlin", "active": true, "generation": 1, "tenant_uid": org,
		"inactive_threshold_seconds": 600, "idle_threshold_seconds": 300, "overtime_threshold_hours": 9,
		"admin": map[string]any{"email": "root@tenant.example", "name": "Root", "password": "initial-password"}}
	if r := e.do("PUT", "/internal/tenants/"+org, "", body); r.Status != 401 {
		t.Fatalf("the internal API answered without the operator token: %d", r.Status)
	}
	if r := e.do("PUT", "/internal/tenants/"+org, "wrong", body); r.Status != 401 {
		t.Fatalf("the internal API answered a wrong operator token: %d", r.Status)
	}
	first := e.do("PUT", "/internal/tenants/"+org, "operator-secret", body)
	again := e.do("PUT", "/internal/tenants/"+org, "operator-secret", body)
	if first.Status != 200 || first.Body["created"] != true || first.Body["admin_created"] != true {
		t.Fatalf("first provisioning: %d %s", first.Status, first.Raw)
	}
	if again.Status != 200 || again.Body["created"] != false || again.Body["admin_created"] != false || again.Body["admin_id"] != first.Body["admin_id"] {
		t.Fatalf("repeated provisioning was not idempotent: %s", again.Raw)
	}
	body["generation"], body["suspended"] = 2, true
	if r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", body); r.Status != 200 {
		t.Fatalf("update: %d %s", r.Status, r.Raw)
	}
	var updates, created int
	if err := e.db.Owner.QueryRow(context.Background(), "SELECT count(*) FILTER (WHERE payload->>'type' = 'tenant.updated'), count(*) FILTER (WHERE payload->>'type' = 'user.created') FROM auth.outbox WHERE payload->>'organization_id' = $1", org).Scan(&updates, &created); err != nil {
		t.Fatal(err)
	}
	if updates != 2 || created != 1 {
		t.Fatalf("queued %d tenant.updated and %d user.created; want 2 (generations 1 and 2) and 1", updates, created)
	}
	if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "root@tenant.example", "password": "initial-password"}); r.Status != 200 {
		t.Fatalf("the bootstrap admin cannot log in: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/internal/tenants/"+org, "operator-secret", nil); r.Status != 200 || r.Body["generation"].(float64) != 2 {
		t.Fatalf("get tenant: %d %s", r.Status, r.Raw)
	}
}

// TestSigningKeysAreSealedAtRestAndResealedWhenTheEncryptionKeyRotates
// reads the signing keys as a copy of the database would: a key stored
// before encryption is resealed at start, after which the table holds
// nothing that signs (the seed was there in plaintext, forging tokens for
// every organization); rotating the encryption key reseals under the new
// one, and tokens issued before any of it keep verifying.
func TestSigningKeysAreSealedAtRestAndResealedWhenTheEncryptionKeyRotates(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.register("keys@example.com", "Keys")
	ctx := context.Background()
	stored := func() (kid string, raw []byte) {
		t.Helper()
		if err := e.db.Owner.QueryRow(ctx, "SELECT kid, private_key FROM auth.signing_keys").Scan(&kid, &raw); err != nil {
			t.Fatal(err)
		}
		return kid, raw
	}
	kid, plain := stored()
	if len(plain) != ed25519.SeedSize {
		t.Fatalf("the key stored without an encryption key is %d bytes; want the %d-byte seed", len(plain), ed25519.SeedSize)
	}
	newKey := func() string {
		raw := make([]byte, 32)
		_, _ = rand.Read(raw)
		return base64.StdEncoding.EncodeToString(raw)
	}
	first, second := newKey(), newKey()
	pool := e.db.Pool(t, "workpulse_auth")
	start := func(current string, previous ...string) (*auth.KeyStore, int, error) {
		t.Helper()
		c, err := sealbox.New(current, previous)
		if err != nil {
			t.Fatal(err)
		}
		ks := auth.NewKeyStore(pool, 30*24*time.Hour, 24*time.Hour, c, e.clock)
		n, err := ks.Reseal(ctx)
		if err == nil {
			err = ks.Refresh(ctx)
		}
		return ks, n, err
	}
	verifies := func(ks *auth.KeyStore) {
		t.Helper()
		if _, err := authn.NewVerifier(ks, "workpulse", e.clock).Verify(ctx, tok); err != nil {
			t.Fatalf("a token issued before: %v", err)
		}
	}

	ks, n, err := start(first)
	if err != nil || n != 1 {
		t.Fatalf("the first start with an encryption key resealed %d keys (%v); want 1", n, err)
	}
	verifies(ks)
	_, sealed := stored()
	if len(sealed) == ed25519.SeedSize || bytes.Contains(sealed, plain) {
		t.Fatalf("the stored key still holds the seed: %x", sealed)
	}
	if _, n, err := start(first); err != nil || n != 0 {
		t.Fatalf("a restart with the same key resealed %d keys (%v); want 0", n, err)
	}

	// Rotation: the new key seals, the old one only opens until the reseal.
	ks, n, err = start(second, first)
	if err != nil || n != 1 {
		t.Fatalf("the start with a rotated key resealed %d keys (%v); want 1", n, err)
	}
	verifies(ks)
	if ks, n, err = start(second); err != nil || n != 0 {
		t.Fatalf("the start without the old key: %d resealed, %v", n, err)
	}
	verifies(ks)
	if _, _, err := start(first); err == nil {
		t.Fatal("a key sealed with the new encryption key opened with the old one")
	}

	// A key sealed for one kid does not open under another.
	_, raw := stored()
	if _, err := e.db.Owner.Exec(ctx, "INSERT INTO auth.signing_keys (kid, private_key, retire_at, expire_at) SELECT 'moved', private_key, retire_at, expire_at FROM auth.signing_keys WHERE kid = $1", kid); err != nil {
		t.Fatal(err)
	}
	if _, _, err := start(second); err == nil || !strings.Contains(err.Error(), "moved") {
		t.Fatalf("a sealed key copied to another kid (%d bytes) opened: %v", len(raw), err)
	}
}

// TestAnImportedUserLogsInWithTheOriginalsBcryptPasswordWhichIsThenReplacedByArgon2id
// stores a member as migrate import-original does, with the original
// system's bcrypt hash ($2b$, cost 10).
func TestAnImportedUserLogsInWithTheOriginalsBcryptPasswordWhichIsThenReplacedByArgon2id(t *testing.T) {
	e := newEnv(t, nil)
	ctx := context.Background()
	raw, err := bcrypt.GenerateFromPassword([]byte("old secret 1"), 10)
	if err != nil {
		t.Fatal(err)
	}
	old := "$2b$" + strings.TrimPrefix(string(raw), "$2a$")
	org, user := uuid.NewString(), uuid.NewString()
	if _, err := e.db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name) VALUES ($1, 'Imported')", org); err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Owner.Exec(ctx, "INSERT INTO auth.users (id, organization_id, email, name, password_hash, role) VALUES ($1, $2, 'old@example.com', 'Old Timer', $3, 'employee')",
		user, org, old); err != nil {
		t.Fatal(err)
	}
	stored := func() string {
		var h string
		if err := e.db.Owner.QueryRow(ctx, "SELECT password_hash FROM auth.users WHERE id = $1", user).Scan(&h); err != nil {
			t.Fatal(err)
		}
		return h
	}
	if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "old@example.com", "password": "wrong secret"}); r.Status != 401 {
		t.Fatalf("a wrong password against the bcrypt hash: %d %s, want 401", r.Status, r.Raw)
	}
	if h := stored(); h != old {
		t.Fatalf("a failed login changed the hash to %q", h)
	}
	for i, step := range []string{"the first login, against bcrypt", "the next login, against argon2id"} {
		r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "old@example.com", "password": "old secret 1"})
		if r.Status != 200 || r.Body["user"].(map[string]any)["id"] != user {
			t.Fatalf("%s: %d %s, want 200 as the imported user", step, r.Status, r.Raw)
		}
		if h := stored(); !strings.HasPrefix(h, "$argon2id$") {
			t.Fatalf("after %s (login %d) the stored hash is %q, want argon2id", step, i+1, h)
		}
	}
	if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "old@example.com", "password": "wrong secret"}); r.Status != 401 {
		t.Fatalf("a wrong password against the new hash: %d %s, want 401", r.Status, r.Raw)
	}
}
