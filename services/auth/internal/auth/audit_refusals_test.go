package auth_test

import (
	"testing"
	"time"
)

// refusals are the entries of action in the log adminTok reads, checked
// to number want, of which only a tenth says further ones go unrecorded.
func refusals(t *testing.T, e *env, adminTok, action string, want int) []map[string]any {
	t.Helper()
	r := e.do("GET", "/api/audit?limit=100&action="+action, adminTok, nil)
	if r.Status != 200 || len(r.List) != want {
		t.Fatalf("%d %s entries; want %d: %s", len(r.List), action, want, r.Raw)
	}
	flagged := 0
	for _, en := range r.List {
		if en["details"].(map[string]any)["further_failures_unrecorded"] == true {
			flagged++
		}
	}
	if tenth := want == 10; flagged != map[bool]int{true: 1, false: 0}[tenth] {
		t.Errorf("%d of %d entries say further refusals go unrecorded; only a tenth does: %s", flagged, want, r.Raw)
	}
	return r.List
}

func TestAWrongCurrentPasswordIsAuditedAtMostTenTimesADay(t *testing.T) {
	t.Parallel()
	// The throttle would slow the guesses down; the log's own bound is
	// what this checks.
	e := newEnv(t, map[string]string{"LOGIN_MAX_FAILURES_PER_EMAIL": "1000"})
	adminTok, _ := e.register("boss@wrongpw.example", "Wrongpw")
	workerTok, worker := e.join(adminTok, "worker@wrongpw.example", "employee")
	change := func(current string, want int) {
		t.Helper()
		e.clock.Advance(time.Second)
		r := e.do("POST", "/api/users/me/password", workerTok, map[string]any{"current_password": current, "new_password": "another long password"})
		if r.Status != want {
			t.Fatalf("change password with %q: %d %s", current, r.Status, r.Raw)
		}
	}
	change("wrong guess", 401)
	got := refusals(t, e, adminTok, "user.password_change_failed", 1)
	d := got[0]["details"].(map[string]any)
	if got[0]["actor_id"] != worker || got[0]["subject_id"] != worker || d["ip"] != "127.0.0.1" || d["user_agent"] == "" {
		t.Fatalf("the refusal's entry: %v", got[0])
	}
	for range 14 {
		change("wrong guess", 401)
	}
	refusals(t, e, adminTok, "user.password_change_failed", 10)
	// The right password changes it, and is audited as before.
	change("correct horse", 200)
	if n := countOf(e.auditLog(adminTok), "user.password_changed"); n != 1 {
		t.Fatalf("%d user.password_changed entries; want 1", n)
	}
}

func TestSigningOutOfOneSessionIsAuditedOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@signout.example", "Signout")
	_, worker := e.join(adminTok, "worker@signout.example", "employee")
	session := e.loginFull(t, "worker@signout.example")
	tok := session.Body["access_token"].(string)
	if r := e.do("POST", "/api/auth/logout", tok, nil); r.Status != 204 {
		t.Fatalf("logout: %d %s", r.Status, r.Raw)
	}
	log := e.auditLog(adminTok)
	en := entryOf(t, log, "user.signed_out")
	sid, _ := claims(t, tok)["sid"].(string)
	if en["actor_id"] != worker || en["subject_id"] != worker || en["details"].(map[string]any)["session_id"] != sid || sid == "" {
		t.Fatalf("the sign-out's entry: %v (session %q)", en, sid)
	}
	// The signed-out token is refused, and signs out nothing again.
	e.poll()
	if r := e.do("POST", "/api/auth/logout", tok, nil); r.Status != 401 {
		t.Fatalf("logout with the signed-out token: %d %s", r.Status, r.Raw)
	}
	if n := countOf(e.auditLog(adminTok), "user.signed_out"); n != 1 {
		t.Fatalf("%d user.signed_out entries; want 1", n)
	}
}

func TestRefusedSingleSignOnsAreAuditedAtMostTenADayPerOrganization(t *testing.T) {
	s := newSSOEnv(t, nil)
	attempts := []struct{ username, reason, email string }{{"eve", "domain_not_allowed", "eve@other.test"}, {"uma", "email_unverified", "uma@corp.test"}}
	for i := range 11 {
		a := attempts[i%2]
		if r := s.signIn(a.username, map[string]any{"organization_id": s.org}); r.Status != 403 {
			t.Fatalf("sign-in %d as %s: %d %s", i, a.username, r.Status, r.Raw)
		}
		if i == 1 {
			// The tests' clock stands still, so both entries share an instant:
			// their reasons, with the email the provider named, are compared
			// as a set.
			emails := map[any]any{}
			for j, en := range refusals(t, s.env, s.adminTok, "user.login_failed", 2) {
				d := en["details"].(map[string]any)
				if en["subject_type"] != "organization" || en["subject_id"] != s.org || en["actor_id"] != nil || d["method"] != "sso" {
					t.Fatalf("refused sign-on entry %d: %v", j, en)
				}
				emails[d["reason"]] = d["email"]
			}
			for _, a := range attempts {
				if emails[a.reason] != a.email {
					t.Fatalf("the refused sign-ons' reasons and emails: %v; want %s with %s", emails, a.reason, a.email)
				}
			}
		}
	}
	refusals(t, s.env, s.adminTok, "user.login_failed", 10)
}

func TestARefusedSingleSignOnOfADeactivatedMemberIsAuditedAgainstThatMember(t *testing.T) {
	s := newSSOEnv(t, nil)
	first := s.signIn("ann", map[string]any{"email": "ann@corp.test"})
	if first.Status != 200 {
		t.Fatalf("ann's first sign-in: %d %s", first.Status, first.Raw)
	}
	ann := first.Body["user"].(map[string]any)["id"].(string)
	if r := s.do("PATCH", "/api/users/"+ann, s.adminTok, map[string]any{"active": false}); r.Status != 200 {
		t.Fatalf("deactivate ann: %d %s", r.Status, r.Raw)
	}
	if r := s.signIn("ann", map[string]any{"organization_id": s.org}); r.Status != 403 || r.code() != "AUTH_ACCOUNT_DISABLED" {
		t.Fatalf("the deactivated member's sign-in: %d %s; want 403 AUTH_ACCOUNT_DISABLED", r.Status, r.Raw)
	}
	// A refusal naming no member still has the organization as its subject.
	if r := s.signIn("eve", map[string]any{"organization_id": s.org}); r.Status != 403 {
		t.Fatalf("eve's sign-in: %d %s", r.Status, r.Raw)
	}
	r := s.do("GET", "/api/audit?action=user.login_failed&subject_id="+ann, s.adminTok, nil)
	if r.Status != 200 || len(r.List) != 1 {
		t.Fatalf("the refusals of ann: %d %s; want one entry", r.Status, r.Raw)
	}
	en := r.List[0]
	d := en["details"].(map[string]any)
	if en["subject_type"] != "user" || en["actor_id"] != nil || d["reason"] != "account_disabled" || d["method"] != "sso" || d["email"] != "Ann@corp.test" {
		t.Fatalf("the deactivated member's refused sign-on: %v", en)
	}
	got := refusals(t, s.env, s.adminTok, "user.login_failed", 2)
	subjects := map[any]any{}
	for _, en := range got {
		subjects[en["details"].(map[string]any)["reason"]] = en["subject_id"]
	}
	if subjects["account_disabled"] != ann || subjects["domain_not_allowed"] != s.org {
		t.Fatalf("the refusals' subjects by reason: %v; want ann's and the organization's", subjects)
	}
}
