package auth_test

import (
	"testing"
	"time"
)

// loginFull logs in and returns the whole answer.
func (e *env) loginFull(t *testing.T, email string) response {
	t.Helper()
	r := e.do("POST", "/api/auth/login", "", map[string]any{"email": email, "password": "correct horse"})
	if r.Status != 200 {
		t.Fatalf("login: %d %s", r.Status, r.Raw)
	}
	return r
}

func (e *env) refresh(token string) response {
	return e.do("POST", "/api/auth/refresh", "", map[string]any{"refresh_token": token})
}

func TestALoginKeepsTheOriginalsFieldsAndAddsAShortAccessTokenWithARefreshToken(t *testing.T) {
	e := newEnv(t, nil)
	e.register("boss@example.com", "Bossco")
	r := e.loginFull(t, "boss@example.com")
	user, _ := r.Body["user"].(map[string]any)
	if r.Body["access_token"] == "" || user["id"] == nil || user["email"] != "boss@example.com" || user["role"] != "admin" || user["organization_id"] == nil {
		t.Fatalf("the original's fields: %s", r.Raw)
	}
	c := claims(t, r.Body["access_token"].(string))
	if r.Body["expires_in"] != float64(900) || c["exp"].(float64)-c["iat"].(float64) != 900 || c["sid"] == nil {
		t.Fatalf("want a 15-minute access token of a session: expires_in %v, claims %v", r.Body["expires_in"], c)
	}
	if tok, _ := r.Body["refresh_token"].(string); len(tok) < 40 {
		t.Fatalf("refresh token %q", tok)
	}
}

func TestRefreshTokensRotateAndAReusedOneRevokesItsSession(t *testing.T) {
	e := newEnv(t, nil)
	e.register("boss@example.com", "Bossco")
	first := e.loginFull(t, "boss@example.com")
	other := e.loginFull(t, "boss@example.com")

	e.clock.Advance(20 * time.Minute)
	if r := e.do("GET", "/api/organization", first.Body["access_token"].(string), nil); r.Status != 401 || r.code() != "AUTH_TOKEN_EXPIRED" {
		t.Fatalf("a 20-minute-old access token: %d %s", r.Status, r.Raw)
	}
	second := e.refresh(first.Body["refresh_token"].(string))
	if second.Status != 200 || second.Body["refresh_token"] == first.Body["refresh_token"] {
		t.Fatalf("refresh: %d %s", second.Status, second.Raw)
	}
	if claims(t, second.Body["access_token"].(string))["sid"] != claims(t, first.Body["access_token"].(string))["sid"] {
		t.Fatal("a refresh moved to another session")
	}
	if r := e.do("GET", "/api/organization", second.Body["access_token"].(string), nil); r.Status != 200 {
		t.Fatalf("the refreshed access token: %d %s", r.Status, r.Raw)
	}
	third := e.refresh(second.Body["refresh_token"].(string))
	if third.Status != 200 {
		t.Fatalf("second refresh: %d %s", third.Status, third.Raw)
	}

	// A thief replays the first, already rotated refresh token.
	if r := e.refresh(first.Body["refresh_token"].(string)); r.Status != 401 || r.code() != "AUTH_REFRESH_TOKEN_REUSED" {
		t.Fatalf("a reused refresh token: %d %s", r.Status, r.Raw)
	}
	// The whole session is revoked: the owner's latest tokens too.
	if r := e.refresh(third.Body["refresh_token"].(string)); r.Status != 401 || r.code() != "AUTH_INVALID_TOKEN" {
		t.Fatalf("the session's latest refresh token after the reuse: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.do("GET", "/api/organization", third.Body["access_token"].(string), nil); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
		t.Fatalf("the session's latest access token after the reuse: %d %s", r.Status, r.Raw)
	}
	// Other sessions of the user are untouched.
	if r := e.refresh(other.Body["refresh_token"].(string)); r.Status != 200 {
		t.Fatalf("another session after the reuse: %d %s", r.Status, r.Raw)
	}

	for _, bad := range []any{"", "not-a-token", 42} {
		if r := e.do("POST", "/api/auth/refresh", "", map[string]any{"refresh_token": bad}); r.Status != 400 && r.Status != 401 {
			t.Errorf("refresh token %v: %d %s", bad, r.Status, r.Raw)
		}
	}
	e.clock.Advance(31 * 24 * time.Hour)
	if r := e.refresh(other.Body["refresh_token"].(string)); r.Status == 200 {
		t.Fatalf("a refresh token past the session's 30 days: %d %s", r.Status, r.Raw)
	}
}

func TestLogoutEndsOneSessionAndSignOutEverywhereEndsThemAll(t *testing.T) {
	e := newEnv(t, nil)
	e.register("boss@example.com", "Bossco")
	laptop := e.loginFull(t, "boss@example.com")
	phone := e.loginFull(t, "boss@example.com")
	tablet := e.loginFull(t, "boss@example.com")
	tok := func(r response) string { return r.Body["access_token"].(string) }

	if r := e.do("POST", "/api/auth/logout", tok(laptop), nil); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.do("GET", "/api/organization", tok(laptop), nil); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
		t.Fatalf("a signed-out session's access token: %d %s", r.Status, r.Raw)
	}
	if r := e.refresh(laptop.Body["refresh_token"].(string)); r.Status != 401 {
		t.Fatalf("a signed-out session's refresh token: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/organization", tok(phone), nil); r.Status != 200 {
		t.Fatalf("another session after a logout: %d %s", r.Status, r.Raw)
	}

	if r := e.do("POST", "/api/auth/logout-all", tok(phone), nil); r.Status != 204 {
		t.Fatalf("sign out everywhere: %d %s", r.Status, r.Raw)
	}
	e.poll()
	for name, s := range map[string]response{"phone": phone, "tablet": tablet} {
		if r := e.do("GET", "/api/organization", tok(s), nil); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
			t.Errorf("%s's access token after signing out everywhere: %d %s", name, r.Status, r.Raw)
		}
		if r := e.refresh(s.Body["refresh_token"].(string)); r.Status != 401 {
			t.Errorf("%s's refresh token after signing out everywhere: %d %s", name, r.Status, r.Raw)
		}
	}
	if r := e.do("GET", "/api/organization", tok(e.loginFull(t, "boss@example.com")), nil); r.Status != 200 {
		t.Fatalf("a new login after signing out everywhere: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/auth/logout", "", nil); r.Status != 401 {
		t.Fatalf("an anonymous logout: %d %s", r.Status, r.Raw)
	}
}

func TestADeactivatedMembersRefreshTokensStopWorking(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@example.com", "Bossco")
	_, worker := e.join(adminTok, "worker@example.com", "employee")
	s := e.loginFull(t, "worker@example.com")
	if r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"active": false}); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Raw)
	}
	if r := e.refresh(s.Body["refresh_token"].(string)); r.Status != 401 {
		t.Fatalf("a deactivated member's refresh: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"active": true}); r.Status != 200 {
		t.Fatalf("reactivate: %d %s", r.Status, r.Raw)
	}
	if r := e.refresh(s.Body["refresh_token"].(string)); r.Status != 401 {
		t.Fatalf("a refresh token from before the deactivation after reactivation: %d %s", r.Status, r.Raw)
	}
	// A role change keeps the session; its next refresh carries the role.
	s = e.loginFull(t, "worker@example.com")
	if r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"role": "manager"}); r.Status != 200 {
		t.Fatalf("role change: %d %s", r.Status, r.Raw)
	}
	r := e.refresh(s.Body["refresh_token"].(string))
	if r.Status != 200 || claims(t, r.Body["access_token"].(string))["role"] != "manager" {
		t.Fatalf("a refresh after a role change: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.do("GET", "/api/organization", r.Body["access_token"].(string), nil); r.Status != 200 {
		t.Fatalf("the refreshed token after the role change: %d %s", r.Status, r.Raw)
	}
}
