package auth_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/auth/internal/auth"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/sealbox"
	"github.com/workpulse/workpulse/test/testkit"
)

// ssoPublicURL is where the provider sends browsers back to; the tests'
// browsers stop at the redirect and pass its code and state on as the
// web app's callback page does.
const ssoPublicURL = "http://app.test"

// ssoEnv is auth with an organization whose single sign-on is the
// example provider, which knows ann (corp.test, verified), uma
// (corp.test, not verified) and eve (other.test, verified).
type ssoEnv struct {
	*env
	op       *testkit.OIDCProvider
	adminTok string
	org      string
}

func newSSOEnv(t *testing.T, vars map[string]string) *ssoEnv {
	t.Helper()
	op := testkit.StartOIDCProvider(t, []testkit.OIDCUser{
		{ID: "ann", Username: "ann", Password: "ann-password", FirstName: "Ann", LastName: "Archer", Email: "Ann@corp.test", EmailVerified: true},
		{ID: "uma", Username: "uma", Password: "uma-password", FirstName: "Uma", LastName: "Unverified", Email: "uma@corp.test"},
		{ID: "eve", Username: "eve", Password: "eve-password", FirstName: "Eve", LastName: "Elsewhere", Email: "eve@other.test", EmailVerified: true},
	}, ssoPublicURL+"/sso/callback")
	all := map[string]string{"PUBLIC_URL": ssoPublicURL, "SSO_ALLOW_PRIVATE_ISSUERS": "true"}
	for k, v := range vars {
		all[k] = v
	}
	// The provider's ID tokens expire by the wall clock, so the service's
	// clock stands at the wall clock's now.
	e := newEnvAt(t, clock.Real.Now(), all)
	tok, admin := e.register("admin@corp.test", "Corp")
	s := &ssoEnv{env: e, op: op, adminTok: tok, org: admin["organization_id"].(string)}
	if r := s.putSSO(s.adminTok, s.config(nil)); r.Status != 200 {
		t.Fatalf("set up single sign-on: %d %s", r.Status, r.Raw)
	}
	return s
}

// config is the organization's single sign-on with changes applied.
func (s *ssoEnv) config(changes map[string]any) map[string]any {
	c := map[string]any{"issuer_url": s.op.Issuer, "client_id": s.op.ClientID, "client_secret": s.op.ClientSecret,
		"domains": []string{"corp.test"}, "sso_only": false}
	for k, v := range changes {
		c[k] = v
	}
	return c
}

func (s *ssoEnv) putSSO(token string, body map[string]any) response {
	s.t.Helper()
	return s.do("PUT", "/api/organization/sso", token, body)
}

// browser is an HTTP client with its own cookies, as a browser has.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar}
}

// post sends body to auth with c's cookies.
func (s *ssoEnv) post(c *http.Client, path string, body any) response {
	s.t.Helper()
	raw, _ := json.Marshal(body)
	resp, err := c.Post(s.url+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := response{Status: resp.StatusCode, Header: resp.Header, Raw: string(b)}
	_ = json.Unmarshal(b, &out.Body)
	return out
}

// start begins a sign-in in browser c and returns the provider's
// authorization URL.
func (s *ssoEnv) start(c *http.Client, body map[string]any) string {
	s.t.Helper()
	r := s.post(c, "/api/auth/sso/start", body)
	if r.Status != 200 {
		s.t.Fatalf("start a sign-in with %v: %d %s", body, r.Status, r.Raw)
	}
	return r.Body["authorization_url"].(string)
}

// providerLogin signs in at the provider and returns the code and state
// it sent the browser back with.
func (s *ssoEnv) providerLogin(c *http.Client, authURL, username string) (code, state string) {
	s.t.Helper()
	back := s.op.Login(s.t, c, authURL, username, username+"-password")
	if back.Path != "/sso/callback" || back.Query().Get("code") == "" {
		s.t.Fatalf("the provider sent the browser back to %s", back)
	}
	return back.Query().Get("code"), back.Query().Get("state")
}

// signIn is a whole sign-in of username started by body, in a new browser.
func (s *ssoEnv) signIn(username string, body map[string]any) response {
	s.t.Helper()
	c := browser(s.t)
	code, state := s.providerLogin(c, s.start(c, body), username)
	return s.post(c, "/api/auth/sso/callback", map[string]any{"code": code, "state": state})
}

func TestAPersonSignsInThroughTheirProviderAndIsProvisionedAsAnEmployeeOnTheFirstSignIn(t *testing.T) {
	s := newSSOEnv(t, nil)
	first := s.signIn("ann", map[string]any{"email": "ann@corp.test"})
	if first.Status != 200 || first.Body["refresh_token"] == "" || first.Body["expires_in"] == nil {
		t.Fatalf("the first sign-in: %d %s", first.Status, first.Raw)
	}
	user := first.Body["user"].(map[string]any)
	if user["email"] != "Ann@corp.test" || user["name"] != "Ann Archer" || user["role"] != "employee" || user["organization_id"] != s.org {
		t.Fatalf("the provisioned member is %v; want the employee Ann Archer <Ann@corp.test> of the organization", user)
	}
	me := s.do("GET", "/api/users/me", first.Body["access_token"].(string), nil)
	if me.Status != 200 || me.Body["id"] != user["id"] {
		t.Fatalf("the access token of the sign-in: %d %s", me.Status, me.Raw)
	}
	if r := s.do("POST", "/api/auth/refresh", "", map[string]any{"refresh_token": first.Body["refresh_token"]}); r.Status != 200 {
		t.Fatalf("the refresh token of the sign-in: %d %s", r.Status, r.Raw)
	}
	// Started from the organization's id this time: the same member.
	again := s.signIn("ann", map[string]any{"organization_id": s.org})
	if again.Status != 200 || again.Body["user"].(map[string]any)["id"] != user["id"] {
		t.Fatalf("the second sign-in: %d %s; want member %s again", again.Status, again.Raw, user["id"])
	}
	var members int
	if err := s.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.users WHERE organization_id = $1", s.org).Scan(&members); err != nil || members != 2 {
		t.Fatalf("the organization has %d members (%v); want the admin and Ann", members, err)
	}
	// No password opens the account the provider created.
	if r := s.do("POST", "/api/auth/login", "", map[string]any{"email": "ann@corp.test", "password": ""}); r.Status != 400 {
		t.Fatalf("a password login with an empty password: %d %s", r.Status, r.Raw)
	}
}

func TestSignInsTheProviderDoesNotVouchForAreRefused(t *testing.T) {
	s := newSSOEnv(t, nil)
	cases := []struct {
		name, username string
		start          map[string]any
		status         int
		code           string
	}{
		{"A verified email of a domain the organization does not list is refused.", "eve", map[string]any{"organization_id": s.org}, 403, "SSO_DOMAIN_NOT_ALLOWED"},
		{"An email the provider has not verified is refused.", "uma", map[string]any{"email": "uma@corp.test"}, 403, "SSO_EMAIL_UNVERIFIED"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := s.signIn(c.username, c.start); r.Status != c.status || r.code() != c.code {
				t.Fatalf("got %d %s; want %d %s", r.Status, r.Raw, c.status, c.code)
			}
		})
	}
	var members int
	if err := s.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.users").Scan(&members); err != nil || members != 1 {
		t.Fatalf("%d members after the refused sign-ins (%v); want the admin alone", members, err)
	}
	if r := s.post(browser(t), "/api/auth/sso/start", map[string]any{"email": "eve@other.test"}); r.Status != 404 || r.code() != "SSO_NOT_CONFIGURED" {
		t.Fatalf("a sign-in started for a domain no organization lists: %d %s; want 404 SSO_NOT_CONFIGURED", r.Status, r.Raw)
	}
}

func TestACallbackWhoseStateDoesNotMatchItsBrowsersSignInIsRefused(t *testing.T) {
	s := newSSOEnv(t, nil)
	victim, attacker := browser(t), browser(t)
	s.start(victim, map[string]any{"email": "ann@corp.test"})
	code, state := s.providerLogin(attacker, s.start(attacker, map[string]any{"email": "ann@corp.test"}), "ann")
	cases := []struct {
		name   string
		client *http.Client
		body   map[string]any
	}{
		{"The attacker's code and state planted in another browser are refused.", victim, map[string]any{"code": code, "state": state}},
		{"A state no sign-in started is refused.", attacker, map[string]any{"code": code, "state": "made-up"}},
		{"A callback without the state cookie is refused.", http.DefaultClient, map[string]any{"code": code, "state": state}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := s.post(c.client, "/api/auth/sso/callback", c.body); r.Status != 400 || r.code() != "SSO_STATE_INVALID" {
				t.Fatalf("got %d %s; want 400 SSO_STATE_INVALID", r.Status, r.Raw)
			}
		})
	}
	if r := s.post(attacker, "/api/auth/sso/callback", map[string]any{"code": code, "state": state}); r.Status != 200 {
		t.Fatalf("the sign-in in its own browser: %d %s", r.Status, r.Raw)
	}
	c := browser(t)
	code, state = s.providerLogin(c, s.start(c, map[string]any{"email": "ann@corp.test"}), "ann")
	if r := s.post(c, "/api/auth/sso/callback", map[string]any{"code": code, "state": state}); r.Status != 200 {
		t.Fatalf("a second sign-in: %d %s", r.Status, r.Raw)
	}
	// The response cleared the cookie; a replay with it put back is
	// refused, the state being spent.
	replay := browser(t)
	replay.Jar.SetCookies(mustURL(t, s.url+"/api/auth/sso/"), []*http.Cookie{{Name: "wp_sso_state", Value: state, Path: "/api/auth/sso"}})
	if r := s.post(replay, "/api/auth/sso/callback", map[string]any{"code": code, "state": state}); r.Status != 400 || r.code() != "SSO_STATE_INVALID" {
		t.Fatalf("a spent state presented again: %d %s; want 400 SSO_STATE_INVALID", r.Status, r.Raw)
	}
}

func TestAnSSOOnlyOrganizationRefusesPasswordsToMembersButNotToItsAdmins(t *testing.T) {
	s := newSSOEnv(t, nil)
	s.join(s.adminTok, "bob@corp.test", "employee")
	if r := s.putSSO(s.adminTok, s.config(map[string]any{"sso_only": true, "client_secret": ""})); r.Status != 200 || r.Body["sso_only"] != true {
		t.Fatalf("switch SSO only on, keeping the secret: %d %s", r.Status, r.Raw)
	}
	cases := []struct {
		name, email, password string
		status                int
		code                  string
	}{
		{"A member's right password is refused for single sign-on.", "bob@corp.test", "correct horse", 403, "AUTH_SSO_REQUIRED"},
		{"A member's wrong password tells nothing of single sign-on.", "bob@corp.test", "wrong horse", 401, "AUTH_INVALID_CREDENTIALS"},
		{"An admin keeps their password as the way back in.", "admin@corp.test", "correct horse", 200, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := s.do("POST", "/api/auth/login", "", map[string]any{"email": c.email, "password": c.password}); r.Status != c.status || r.code() != c.code {
				t.Fatalf("got %d %s; want %d %s", r.Status, r.Raw, c.status, c.code)
			}
		})
	}
	if r := s.signIn("ann", map[string]any{"email": "ann@corp.test"}); r.Status != 200 {
		t.Fatalf("single sign-on of an SSO-only organization: %d %s", r.Status, r.Raw)
	}
	if r := s.do("DELETE", "/api/organization/sso", s.adminTok, nil); r.Status != 204 {
		t.Fatalf("remove single sign-on: %d %s", r.Status, r.Raw)
	}
	if r := s.do("POST", "/api/auth/login", "", map[string]any{"email": "bob@corp.test", "password": "correct horse"}); r.Status != 200 {
		t.Fatalf("a member's password after single sign-on was removed: %d %s", r.Status, r.Raw)
	}
	if r := s.post(browser(t), "/api/auth/sso/start", map[string]any{"email": "ann@corp.test"}); r.Status != 404 || r.code() != "SSO_NOT_CONFIGURED" {
		t.Fatalf("a sign-in after single sign-on was removed: %d %s; want 404 SSO_NOT_CONFIGURED", r.Status, r.Raw)
	}
}

func TestOnlyAdminsSetUpSingleSignOnAndItsClientSecretIsSealedAndNeverShown(t *testing.T) {
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	s := newSSOEnv(t, map[string]string{"SIGNING_KEY_ENCRYPTION_KEY": base64.StdEncoding.EncodeToString(raw)})
	got := s.do("GET", "/api/organization/sso", s.adminTok, nil)
	if got.Status != 200 || got.Body["client_secret_set"] != true || got.Body["client_secret"] != nil ||
		got.Body["redirect_url"] != ssoPublicURL+"/sso/callback" || got.Body["issuer_url"] != s.op.Issuer {
		t.Fatalf("GET /api/organization/sso: %d %s", got.Status, got.Raw)
	}
	var sealed []byte
	if err := s.db.Owner.QueryRow(context.Background(), "SELECT client_secret FROM auth.sso_configs").Scan(&sealed); err != nil ||
		bytes.Contains(sealed, []byte(s.op.ClientSecret)) {
		t.Fatalf("the stored client secret %q (%v) holds the secret", sealed, err)
	}
	empTok, _ := s.join(s.adminTok, "emp@corp.test", "employee")
	other, _ := s.register("admin@other.test", "Other")
	cases := []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
	}{
		{"An employee may not change single sign-on.", empTok, s.config(nil), 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"An issuer where no provider answers is refused.", s.adminTok, s.config(map[string]any{"issuer_url": s.url + "/nothing/"}), 400, "VALIDATION_FAILED"},
		{"An issuer that is not a URL is refused.", s.adminTok, s.config(map[string]any{"issuer_url": "corp.test"}), 400, "VALIDATION_FAILED"},
		{"A domain that is not an email domain is refused.", s.adminTok, s.config(map[string]any{"domains": []string{"corp"}}), 400, "VALIDATION_FAILED"},
		{"No domain at all is refused.", s.adminTok, s.config(map[string]any{"domains": []string{}}), 400, "VALIDATION_FAILED"},
		{"A first set-up without a client secret is refused.", other, s.config(map[string]any{"client_secret": "", "domains": []string{"other.test"}}), 400, "VALIDATION_FAILED"},
		{"A domain another organization signs in is refused.", other, s.config(map[string]any{"domains": []string{"CORP.test"}}), 409, "SSO_DOMAIN_TAKEN"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := s.putSSO(c.token, c.body); r.Status != c.status || r.code() != c.code {
				t.Fatalf("got %d %s; want %d %s", r.Status, r.Raw, c.status, c.code)
			}
		})
	}
	if r := s.do("GET", "/api/organization/sso", other, nil); r.Status != 404 || r.code() != "SSO_NOT_CONFIGURED" {
		t.Fatalf("another organization's single sign-on: %d %s; want 404 SSO_NOT_CONFIGURED", r.Status, r.Raw)
	}
	if r := s.signIn("ann", map[string]any{"email": "ann@corp.test"}); r.Status != 200 {
		t.Fatalf("a sign-in with the sealed secret after the refused changes: %d %s", r.Status, r.Raw)
	}
}

func TestAnIssuerOnAPrivateAddressIsRefusedUnlessTheInstallationAllowsIt(t *testing.T) {
	op := testkit.StartOIDCProvider(t, nil, ssoPublicURL+"/sso/callback")
	e := newEnv(t, map[string]string{"PUBLIC_URL": ssoPublicURL})
	tok, _ := e.register("admin@corp.test", "Corp")
	cases := []struct{ name, issuer string }{
		{"A provider on the loopback address is refused.", op.Issuer},
		{"A plain http issuer is refused.", "http://login.corp.test/"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("PUT", "/api/organization/sso", tok, map[string]any{"issuer_url": c.issuer, "client_id": op.ClientID,
				"client_secret": op.ClientSecret, "domains": []string{"corp.test"}})
			if r.Status != 400 || r.code() != "VALIDATION_FAILED" {
				t.Fatalf("got %d %s; want 400 VALIDATION_ERROR", r.Status, r.Raw)
			}
		})
	}
	https := "https" + op.Issuer[len("http"):]
	r := e.do("PUT", "/api/organization/sso", tok, map[string]any{"issuer_url": https, "client_id": op.ClientID,
		"client_secret": op.ClientSecret, "domains": []string{"corp.test"}})
	if r.Status != 400 || !bytes.Contains([]byte(r.Raw), []byte("private")) {
		t.Fatalf("an https issuer on the loopback address: %d %s; want 400 naming the private address", r.Status, r.Raw)
	}
}

func TestSelfRegistrationSwitchedOffRefusesNewOrganizationsButNotInvitations(t *testing.T) {
	e := newEnv(t, map[string]string{"SELF_REGISTRATION": "false"})
	r := e.do("POST", "/api/auth/register", "", map[string]any{"email": "new@corp.test", "password": "correct horse", "name": "New", "organization_name": "New"})
	if r.Status != 403 || r.code() != "AUTH_REGISTRATION_DISABLED" {
		t.Fatalf("a registration of a new organization: %d %s; want 403 AUTH_REGISTRATION_DISABLED", r.Status, r.Raw)
	}
	org := uuid.NewString()
	if r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", map[string]any{"name": "Provisioned", "plan_type": "pro", "active": true,
		"generation": 1, "tenant_uid": org, "admin": map[string]any{"email": "admin@corp.test", "name": "Admin", "password": "correct horse"}}); r.Status != 200 {
		t.Fatalf("the operator provisions an organization: %d %s", r.Status, r.Raw)
	}
	e.join(e.login(t, "admin@corp.test"), "member@corp.test", "employee")
}

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSingleSignOnIsUnavailableWithoutThePublicURLProvidersSendBrowsersBackTo(t *testing.T) {
	e := newEnv(t, nil)
	tok, user := e.register("admin@corp.test", "Corp")
	cases := []struct {
		name, method, path, token string
		body                      map[string]any
	}{
		{"Setting single sign-on up is refused.", "PUT", "/api/organization/sso", tok, map[string]any{"issuer_url": "https://login.corp.test/",
			"client_id": "workpulse", "client_secret": "secret", "domains": []string{"corp.test"}}},
		{"Starting a sign-in is refused.", "POST", "/api/auth/sso/start", "", map[string]any{"organization_id": user["organization_id"]}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if r := e.do(c.method, c.path, c.token, c.body); r.Status != 503 || r.code() != "SSO_UNAVAILABLE" {
				t.Fatalf("got %d %s; want 503 SSO_UNAVAILABLE", r.Status, r.Raw)
			}
		})
	}
}

func TestAClientSecretStoredBeforeEncryptionIsResealedWhenTheEncryptionKeyIsSet(t *testing.T) {
	s := newSSOEnv(t, nil)
	ctx := context.Background()
	stored := func() []byte {
		t.Helper()
		var raw []byte
		if err := s.db.Owner.QueryRow(ctx, "SELECT client_secret FROM auth.sso_configs").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		return raw
	}
	if !bytes.Contains(stored(), []byte(s.op.ClientSecret)) {
		t.Fatal("without an encryption key the secret is not stored as it is")
	}
	raw := make([]byte, 32)
	_, _ = rand.Read(raw)
	c, err := sealbox.New(base64.StdEncoding.EncodeToString(raw), nil)
	if err != nil {
		t.Fatal(err)
	}
	ks := auth.NewKeyStore(s.db.Pool(t, "workpulse_auth"), 30*24*time.Hour, 24*time.Hour, c, s.clock)
	// The signing key and the client secret.
	if n, err := ks.Reseal(ctx); err != nil || n != 2 {
		t.Fatalf("the first start with an encryption key resealed %d (%v); want 2", n, err)
	}
	if bytes.Contains(stored(), []byte(s.op.ClientSecret)) {
		t.Fatalf("the resealed secret still holds the secret: %q", stored())
	}
	if n, err := ks.Reseal(ctx); err != nil || n != 0 {
		t.Fatalf("a restart with the same key resealed %d (%v); want 0", n, err)
	}
}

func TestAnSSOOnlyOrganizationSetsNoPasswordLoginWouldRefuseAndItsInvitationsLeadToSingleSignOn(t *testing.T) {
	mp := testkit.StartMailpit(t)
	vars := mailSettings(mp)
	delete(vars, "PUBLIC_URL")
	s := newSSOEnv(t, vars)
	s.join(s.adminTok, "bob@corp.test", "employee")
	resetLinkOf := func(email string, n int) string {
		t.Helper()
		msg := mp.WaitForMessages(t, email, n, 30*time.Second)[0]
		m := regexp.MustCompile(`http://app\.test/reset#token=([A-Za-z0-9_-]+)`).FindStringSubmatch(msg.Text)
		if m == nil {
			t.Fatalf("no reset link in the mail to %s:\n%s", email, msg.Text)
		}
		return m[1]
	}
	requestReset := func(email string) {
		t.Helper()
		if r := s.do("POST", "/api/auth/password-reset", "", map[string]any{"email": email}); r.Status != 202 {
			t.Fatalf("reset request for %s: %d %s", email, r.Status, r.Raw)
		}
	}
	// A link mailed before the organization became SSO only.
	requestReset("bob@corp.test")
	bobsOldLink := resetLinkOf("bob@corp.test", 2) // after his invitation
	if r := s.putSSO(s.adminTok, s.config(map[string]any{"sso_only": true, "client_secret": ""})); r.Status != 200 {
		t.Fatalf("switch SSO only on: %d %s", r.Status, r.Raw)
	}
	requestReset("bob@corp.test")
	bobsMail := mp.WaitForMessages(t, "bob@corp.test", 3, 30*time.Second)[0]
	requestReset("admin@corp.test")
	adminsLink := resetLinkOf("admin@corp.test", 1)
	invite := func(email, role string) (token, mail string) {
		t.Helper()
		inv := s.do("POST", "/api/users/invitations", s.adminTok, map[string]any{"email": email, "role": role})
		if inv.Status != 201 {
			t.Fatalf("invite %s: %d %s", email, inv.Status, inv.Raw)
		}
		return inv.Body["token"].(string), mp.WaitForMessages(t, email, 1, 30*time.Second)[0].Text
	}
	// eve's domain is not the organization's: the invitation admits her.
	evesToken, evesMail := invite("eve@other.test", "manager")
	_, adminsInvitation := invite("second@corp.test", "admin")

	t.Run("A member's reset link mailed before is refused, and the password stays.", func(t *testing.T) {
		if r := s.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": bobsOldLink, "new_password": "battery staple"}); r.Status != 403 || r.code() != "AUTH_SSO_REQUIRED" {
			t.Fatalf("%d %s; want 403 AUTH_SSO_REQUIRED", r.Status, r.Raw)
		}
		var hashed string
		if err := s.db.Owner.QueryRow(context.Background(), "SELECT password_hash FROM auth.users WHERE email = 'bob@corp.test'").Scan(&hashed); err != nil {
			t.Fatal(err)
		}
		if ok, err := auth.NewHasher(1, 0).Verify(context.Background(), hashed, "correct horse"); err != nil || !ok {
			t.Errorf("bob's password changed (%v)", err)
		}
	})
	t.Run("A member's new reset request is mailed how to sign in, and no link.", func(t *testing.T) {
		if strings.Contains(bobsMail.Text, "/reset#") || !strings.Contains(bobsMail.Text, "Sign in with SSO") || !strings.Contains(bobsMail.Text, ssoPublicURL+"/signin") {
			t.Fatalf("the mail:\n%s", bobsMail.Text)
		}
	})
	t.Run("An admin's reset still sets the password login accepts.", func(t *testing.T) {
		if r := s.do("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": adminsLink, "new_password": "battery staple"}); r.Status != 204 {
			t.Fatalf("confirm: %d %s", r.Status, r.Raw)
		}
		if r := s.do("POST", "/api/auth/login", "", map[string]any{"email": "admin@corp.test", "password": "battery staple"}); r.Status != 200 {
			t.Fatalf("login: %d %s", r.Status, r.Raw)
		}
	})
	t.Run("An admin's invitation still joins with a password.", func(t *testing.T) {
		if !strings.Contains(adminsInvitation, ssoPublicURL+"/join#") {
			t.Fatalf("the mail:\n%s", adminsInvitation)
		}
	})
	t.Run("A member's invitation leads to single sign-on and sets no password.", func(t *testing.T) {
		if strings.Contains(evesMail, "/join#") || !strings.Contains(evesMail, ssoPublicURL+"/signin") {
			t.Fatalf("the mail:\n%s", evesMail)
		}
		r := s.do("POST", "/api/auth/register", "", map[string]any{"email": "eve@other.test", "password": "correct horse", "name": "Eve",
			"invitation_token": evesToken})
		if r.Status != 403 || r.code() != "AUTH_SSO_REQUIRED" || !strings.Contains(r.Raw, "single sign-on") {
			t.Fatalf("joining with a password: %d %s; want 403 AUTH_SSO_REQUIRED", r.Status, r.Raw)
		}
		for i := range 2 {
			r = s.signIn("eve", map[string]any{"organization_id": s.org})
			if r.Status != 200 {
				t.Fatalf("sign-in %d through the provider: %d %s", i+1, r.Status, r.Raw)
			}
			if u := r.Body["user"].(map[string]any); u["role"] != "manager" || u["email"] != "eve@other.test" {
				t.Fatalf("sign-in %d: the member is %v; want the invited manager", i+1, u)
			}
		}
		// Signing in spent the invitation.
		if r := s.do("POST", "/api/auth/register", "", map[string]any{"email": "eve@other.test", "password": "correct horse", "name": "Eve",
			"invitation_token": evesToken}); r.Status != 400 || r.code() != "AUTH_INVITATION_INVALID" {
			t.Fatalf("the invitation after the sign-in: %d %s", r.Status, r.Raw)
		}
	})
}

// TestTheProvidersCodeIsBoundToTheSignInsPKCEVerifier checks the
// authorization code flow's PKCE: each sign-in sends its own S256 challenge,
// so a code intercepted on its way back (from the browser's history, a
// proxy's log) cannot be redeemed by anyone without the verifier auth keeps,
// even with the client's credentials.
func TestTheProvidersCodeIsBoundToTheSignInsPKCEVerifier(t *testing.T) {
	s := newSSOEnv(t, nil)
	challenges := map[string]bool{}
	var authURL string
	for range 2 {
		authURL = s.start(browser(t), map[string]any{"email": "ann@corp.test"})
		u, err := url.Parse(authURL)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
			t.Fatalf("the authorization request %s carries no S256 challenge", authURL)
		}
		challenges[q.Get("code_challenge")] = true
	}
	if len(challenges) != 2 {
		t.Fatalf("two sign-ins sent the same challenge: %v", challenges)
	}

	code, _ := s.providerLogin(browser(t), authURL, "ann")
	resp, err := http.Get(s.op.Issuer + ".well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var discovery struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	err = json.NewDecoder(resp.Body).Decode(&discovery)
	resp.Body.Close()
	if err != nil || discovery.TokenEndpoint == "" {
		t.Fatalf("the provider's discovery document: %v %+v", err, discovery)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {ssoPublicURL + "/sso/callback"}}
	req, _ := http.NewRequest(http.MethodPost, discovery.TokenEndpoint, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(s.op.ClientID, s.op.ClientSecret)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK || strings.Contains(string(body), "id_token") {
		t.Fatalf("the intercepted code was redeemed without the verifier: %d %s", resp.StatusCode, body)
	}
}
