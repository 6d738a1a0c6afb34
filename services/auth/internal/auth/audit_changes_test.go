package auth_test

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
)

// auditLog is the organization's whole audit log as GET /api/audit
// answers token, newest first.
func (e *env) auditLog(token string) []map[string]any {
	e.t.Helper()
	r := e.do("GET", "/api/audit?limit=200", token, nil)
	if r.Status != 200 {
		e.t.Fatalf("audit log: %d %s", r.Status, r.Raw)
	}
	return r.List
}

// entryOf is the newest entry of action in log, failing the test without
// one.
func entryOf(t *testing.T, log []map[string]any, action string) map[string]any {
	t.Helper()
	for _, e := range log {
		if e["action"] == action {
			return e
		}
	}
	t.Fatalf("no %s in the audit log %v", action, log)
	return nil
}

// countOf counts the entries of action in log.
func countOf(log []map[string]any, action string) int {
	n := 0
	for _, e := range log {
		if e["action"] == action {
			n++
		}
	}
	return n
}

// sameJSON compares got, as decoded from JSON, with want's JSON.
func sameJSON(got, want any) bool {
	raw, _ := json.Marshal(want)
	var w any
	_ = json.Unmarshal(raw, &w)
	return reflect.DeepEqual(got, w)
}

func TestTeamChangesAreAuditedWithTheirActorTargetAndBeforeAndAfter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	adminTok, adminUser := e.register("boss@teamaudit.example", "Teamaudit")
	admin := adminUser["id"].(string)
	_, worker := e.join(adminTok, "worker@teamaudit.example", "employee")
	_, lead := e.join(adminTok, "lead@teamaudit.example", "manager")
	strangerTok, _ := e.register("boss@elsewhere.example", "Elsewhere")

	// Each change a second after the one before, so that newest first is
	// one order.
	tick := func() { e.clock.Advance(time.Second) }
	team := e.team(adminTok, "Red")
	tick()
	if r := e.do("PATCH", "/api/teams/"+team, adminTok, map[string]any{"name": "Crimson"}); r.Status != 200 {
		t.Fatalf("rename: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/teams/"+team, adminTok, map[string]any{"name": "Crimson"}); r.Status != 200 {
		t.Fatalf("rename to the same name: %d %s", r.Status, r.Raw)
	}
	for _, step := range []struct{ user, role string }{{worker, "member"}, {lead, "member"}, {lead, "manager"}, {lead, "manager"}} {
		tick()
		e.putMember(adminTok, team, step.user, step.role)
	}
	tick()
	if r := e.do("DELETE", "/api/teams/"+team+"/members/"+worker, adminTok, nil); r.Status != 204 {
		t.Fatalf("remove the worker: %d %s", r.Status, r.Raw)
	}
	if r := e.do("DELETE", "/api/teams/"+team, adminTok, nil); r.Status != 204 {
		t.Fatalf("delete the team: %d %s", r.Status, r.Raw)
	}

	log := e.auditLog(adminTok)
	tests := []struct {
		name, action, subjectType, subject string
		details                            map[string]any
	}{
		{"Creating a team records its name.", "team.created", "team", team, map[string]any{"name": "Red"}},
		{"Renaming it records the name before and after.", "team.renamed", "team", team, map[string]any{"before": "Red", "after": "Crimson"}},
		{"Removing a member records their role in the team.", "team.member_removed", "user", worker,
			map[string]any{"team_id": team, "team_name": "Crimson", "role": "member"}},
		{"Making a member the team's manager records the role before and after.", "team.member_role_changed", "user", lead,
			map[string]any{"team_id": team, "team_name": "Crimson", "before": "member", "after": "manager"}},
		{"Deleting the team records its name, members and managers.", "team.deleted", "team", team,
			map[string]any{"name": "Crimson", "members": []string{lead}, "managers": []string{lead}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			en := entryOf(t, log, tt.action)
			if en["actor_id"] != admin || en["subject_type"] != tt.subjectType || en["subject_id"] != tt.subject || !sameJSON(en["details"], tt.details) {
				t.Fatalf("%v; want by %s to %s %s with %v", en, admin, tt.subjectType, tt.subject, tt.details)
			}
		})
	}
	counts := []struct {
		name, action string
		want         int
	}{
		{"A rename to the team's own name records nothing.", "team.renamed", 1},
		{"Putting a member in again with the role they have records nothing.", "team.member_role_changed", 1},
		{"Each member added is recorded once.", "team.member_added", 2},
	}
	for _, c := range counts {
		t.Run(c.name, func(t *testing.T) {
			if n := countOf(log, c.action); n != c.want {
				t.Fatalf("%d %s entries; want %d", n, c.action, c.want)
			}
		})
	}
	if added := entryOf(t, log, "team.member_added"); added["subject_id"] != lead || !sameJSON(added["details"], map[string]any{"team_id": team, "team_name": "Crimson", "role": "member"}) {
		t.Errorf("the newest member added: %v", added)
	}
	if other := e.auditLog(strangerTok); len(other) != 0 {
		t.Errorf("another organization's admin sees %v", other)
	}
}

func TestPasswordChangesAndSignInsAreAuditedWithTheirClientsInTheirOrganizationsOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@signin.example", "Signin")
	workerTok, worker := e.join(adminTok, "worker@signin.example", "employee")
	// The same email in another organization: a failed sign-in naming no
	// organization is recorded in each, a successful one only where it
	// signed in.
	otherTok, _ := e.register("boss@othersignin.example", "Other Signin")
	_, otherWorker := e.join(otherTok, "worker@signin.example", "employee")

	if r := e.do("POST", "/api/users/me/password", workerTok, map[string]any{"current_password": "correct horse", "new_password": "battery staple"}); r.Status != 200 {
		t.Fatalf("change password: %d %s", r.Status, r.Raw)
	}
	login := func(password, ip, agent string) response {
		t.Helper()
		r, err := e.send("POST", "/api/auth/login", "", map[string]any{"email": "worker@signin.example", "password": password},
			http.Header{"X-Forwarded-For": {ip}, "User-Agent": {agent}})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	for i, ip := range []string{"198.51.100.1", "198.51.100.2", "198.51.100.3"} {
		e.clock.Advance(time.Second)
		if r := login("wrong guess", ip, "guesser/"+string(rune('1'+i))); r.Status != 401 {
			t.Fatalf("wrong password: %d %s", r.Status, r.Raw)
		}
	}
	firstFailure := e.clock.Now().UTC().Add(-2 * time.Second)
	e.clock.Advance(25 * time.Hour)
	if r := login("wrong again", "198.51.100.9", "guesser/9"); r.Status != 401 {
		t.Fatalf("a wrong password the next day: %d %s", r.Status, r.Raw)
	}
	agent := strings.Repeat("Mozilla/5.0 ", 100)
	r, err := e.send("POST", "/api/auth/login", "", map[string]any{"email": "worker@signin.example", "password": "battery staple"},
		http.Header{"X-Forwarded-For": {"203.0.113.7"}, "User-Agent": {agent}})
	if err != nil || r.Status != 200 {
		t.Fatalf("sign in with the new password: %v %d %s", err, r.Status, r.Raw)
	}

	// A day on, the admins sign in again to read the log.
	adminTok, otherTok = e.login(t, "boss@signin.example"), e.login(t, "boss@othersignin.example")
	log := e.auditLog(adminTok)
	changed := entryOf(t, log, "user.password_changed")
	if changed["actor_id"] != worker || changed["subject_id"] != worker {
		t.Errorf("the password change: %v", changed)
	}
	var signedIn map[string]any
	for _, en := range log {
		if en["action"] == "user.login_succeeded" && en["subject_id"] == worker {
			signedIn = en
			break
		}
	}
	if signedIn == nil {
		t.Fatalf("no sign-in of the worker in %v", log)
	}
	d := signedIn["details"].(map[string]any)
	if signedIn["actor_id"] != worker || signedIn["subject_id"] != worker || d["ip"] != "203.0.113.7" || d["method"] != "password" ||
		d["user_agent"] != agent[:256] || d["session_id"] == "" {
		t.Errorf("the sign-in: %v", signedIn)
	}
	var failures []map[string]any
	for _, en := range log {
		if en["action"] == "user.login_failed" {
			failures = append(failures, en)
		}
	}
	// Newest first: the next day's failure, then the first day's three.
	wantIPs := []string{"198.51.100.9", "198.51.100.3", "198.51.100.2", "198.51.100.1"}
	wantAgents := []string{"guesser/9", "guesser/3", "guesser/2", "guesser/1"}
	if len(failures) != len(wantIPs) {
		t.Fatalf("%d user.login_failed entries; want one per failure: %v", len(failures), failures)
	}
	for i, en := range failures {
		d := en["details"].(map[string]any)
		if en["actor_id"] != nil || en["subject_id"] != worker || d["ip"] != wantIPs[i] || d["user_agent"] != wantAgents[i] ||
			d["reason"] != "invalid_password" || d["method"] != "password" || d["further_failures_unrecorded"] != nil {
			t.Errorf("failure %d: %v; want nobody's failure at %s from %s (%s)", i, en, worker, wantIPs[i], wantAgents[i])
		}
	}
	if at, _ := time.Parse(time.RFC3339Nano, failures[3]["occurred_at"].(string)); !at.Equal(firstFailure) {
		t.Errorf("the first failure recorded at %v; want %v", failures[3]["occurred_at"], firstFailure)
	}
	other := e.auditLog(otherTok)
	if countOf(other, "user.login_failed") != 4 || countOf(other, "user.password_changed") != 0 {
		t.Errorf("the other organization's log: %v", other)
	}
	for _, en := range other {
		if en["action"] == "user.login_succeeded" && en["subject_id"] == otherWorker {
			t.Errorf("a sign-in to this organization's account recorded in the other's: %v", en)
		}
	}
	for _, en := range other {
		if en["subject_id"] == worker || en["actor_id"] == worker {
			t.Errorf("the other organization sees an entry of this one's member: %v", en)
		}
	}
}

func TestRefusedSignInsOfOneAccountAddAtMostTenEntriesADay(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@disabled.example", "Disabled")
	_, worker := e.join(adminTok, "worker@disabled.example", "employee")
	if r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"active": false}); r.Status != 200 {
		t.Fatalf("deactivate: %d %s", r.Status, r.Raw)
	}
	// The throttle refunds a deactivated account's right password, so
	// nothing slows these down: the log's own bound is what holds.
	signIn := func() {
		t.Helper()
		e.clock.Advance(time.Second)
		if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "worker@disabled.example", "password": "correct horse"}); r.Status != 403 {
			t.Fatalf("a deactivated member's sign-in: %d %s", r.Status, r.Raw)
		}
	}
	for range 15 {
		signIn()
	}
	failures := func() []map[string]any {
		r := e.do("GET", "/api/audit?action=user.login_failed&limit=100", adminTok, nil)
		if r.Status != 200 {
			t.Fatalf("audit log: %d %s", r.Status, r.Raw)
		}
		return r.List
	}
	got := failures()
	if len(got) != 10 {
		t.Fatalf("%d entries for 15 refusals; want 10", len(got))
	}
	for i, en := range got {
		d := en["details"].(map[string]any)
		if en["subject_id"] != worker || d["reason"] != "account_disabled" || (d["further_failures_unrecorded"] == true) != (i == 0) {
			t.Errorf("entry %d (newest first): %v; only the tenth says further failures go unrecorded", i, en)
		}
	}
	e.clock.Advance(24 * time.Hour)
	signIn()
	adminTok = e.login(t, "boss@disabled.example")
	if n := len(failures()); n != 11 {
		t.Fatalf("%d entries after a refusal the next day; want 11", n)
	}
}

func TestAPasswordResetIsAuditedAsTheMembersOwnWithItsClient(t *testing.T) {
	t.Parallel()
	e, mp := newMailEnv(t, nil)
	_, adminUser := e.register("boss@resetaudit.example", "Resetaudit")
	admin := adminUser["id"].(string)
	if r := e.do("POST", "/api/auth/password-reset", "", map[string]any{"email": "boss@resetaudit.example"}); r.Status != 202 {
		t.Fatalf("reset request: %d %s", r.Status, r.Raw)
	}
	token := resetToken(t, mp, "boss@resetaudit.example", 1)
	r, err := e.send("POST", "/api/auth/password-reset/confirm", "", map[string]any{"token": token, "new_password": "battery staple"},
		http.Header{"X-Forwarded-For": {"198.51.100.44"}, "User-Agent": {"resetter/1"}})
	if err != nil || r.Status != 204 {
		t.Fatalf("confirm: %v %d %s", err, r.Status, r.Raw)
	}
	tok := e.do("POST", "/api/auth/login", "", map[string]any{"email": "boss@resetaudit.example", "password": "battery staple"}).Body["access_token"].(string)
	reset := entryOf(t, e.auditLog(tok), "user.password_reset")
	if d := reset["details"].(map[string]any); reset["actor_id"] != admin || reset["subject_id"] != admin || d["ip"] != "198.51.100.44" || d["user_agent"] != "resetter/1" {
		t.Fatalf("the reset: %v", reset)
	}
}

func TestSingleSignOnChangesAreAuditedWithoutTheClientSecret(t *testing.T) {
	t.Parallel()
	s := newSSOEnv(t, nil)
	admin := claims(t, s.adminTok)["sub"]
	// A secret no other text of an entry could contain by chance.
	secret := "client-secret-" + uuid.NewString()
	s.clock.Advance(time.Second)
	if r := s.putSSO(s.adminTok, s.config(map[string]any{"client_secret": secret})); r.Status != 200 {
		t.Fatalf("a new secret: %d %s", r.Status, r.Raw)
	}
	s.clock.Advance(time.Second)
	if r := s.putSSO(s.adminTok, s.config(map[string]any{"client_secret": "", "sso_only": true, "domains": []string{"corp.test", "corp2.test"}})); r.Status != 200 {
		t.Fatalf("change: %d %s", r.Status, r.Raw)
	}
	s.clock.Advance(time.Second)
	if r := s.do("DELETE", "/api/organization/sso", s.adminTok, nil); r.Status != 204 {
		t.Fatalf("remove: %d %s", r.Status, r.Raw)
	}
	r := s.do("GET", "/api/audit?action=sso.configured", s.adminTok, nil)
	if r.Status != 200 || len(r.List) != 3 {
		t.Fatalf("sso.configured entries: %d %s", r.Status, r.Raw)
	}
	first := map[string]any{"issuer_url": s.op.Issuer, "client_id": s.op.ClientID, "domains": []string{"corp.test"}, "sso_only": false}
	second := map[string]any{"issuer_url": s.op.Issuer, "client_id": s.op.ClientID, "domains": []string{"corp.test", "corp2.test"}, "sso_only": true}
	removed := entryOf(t, s.auditLog(s.adminTok), "sso.removed")
	tests := []struct {
		name  string
		entry map[string]any
		want  map[string]any
	}{
		{"Setting it up records no before and a new secret.", r.List[2], map[string]any{"before": nil, "after": first, "client_secret_changed": true}},
		{"A new secret alone is recorded as a change of the secret.", r.List[1], map[string]any{"before": first, "after": first, "client_secret_changed": true}},
		{"Changing it records before and after, and that the secret was kept.", r.List[0], map[string]any{"before": first, "after": second, "client_secret_changed": false}},
		{"Removing it records what it was.", removed, map[string]any{"before": second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.entry["actor_id"] != admin || tt.entry["subject_type"] != "organization" || tt.entry["subject_id"] != s.org || !sameJSON(tt.entry["details"], tt.want) {
				t.Fatalf("%v; want %v", tt.entry, tt.want)
			}
		})
	}
	var leaked int
	if err := s.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.audit_log WHERE details::text LIKE '%' || $1 || '%'", secret).Scan(&leaked); err != nil || leaked != 0 {
		t.Fatalf("%d audit rows hold the client secret (%v)", leaked, err)
	}
}

func TestTheOperatorsChangesAreAuditedAsThePlatformsInTheirOrganizationOnly(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	otherTok, _ := e.register("boss@bystander.example", "Bystander")
	org := uuid.NewString()
	put := func(gen int, idle int) {
		t.Helper()
		r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", map[string]any{"name": "Operated", "plan_type": "pro", "active": true,
			"generation": gen, "tenant_uid": org, "idle_threshold_seconds": idle, "time_zone": "Europe/Berlin",
			"admin": map[string]any{"email": "root@operated.example", "name": "Root", "password": "initial-password"}})
		if r.Status != 200 {
			t.Fatalf("provision generation %d: %d %s", gen, r.Status, r.Raw)
		}
	}
	put(1, 300)
	e.clock.Advance(time.Second)
	put(2, 600)
	e.clock.Advance(time.Second)
	put(2, 600) // the same generation again changes nothing
	r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "root@operated.example", "password": "initial-password"})
	if r.Status != 200 {
		t.Fatalf("the tenant's admin signs in: %d %s", r.Status, r.Raw)
	}
	tok, root := r.Body["access_token"].(string), r.Body["user"].(map[string]any)["id"].(string)
	log := e.auditLog(tok)
	if n := countOf(log, "organization.settings_changed"); n != 2 {
		t.Fatalf("%d settings entries; want one per generation applied: %v", n, log)
	}
	var settings []map[string]any
	for _, en := range log {
		if en["action"] == "organization.settings_changed" {
			settings = append(settings, en)
		}
	}
	provisioned := entryOf(t, log, "user.provisioned")
	tests := []struct {
		name   string
		ok     bool
		detail any
	}{
		{"Provisioning the organization records no settings before, the declared ones after.", settings[1]["actor_id"] == nil && settings[1]["subject_id"] == org &&
			settings[1]["details"].(map[string]any)["before"] == nil && settings[1]["details"].(map[string]any)["after"].(map[string]any)["idle_threshold_seconds"] == 300.0, settings[1]},
		{"A new generation records the settings before and after.", settings[0]["actor_id"] == nil &&
			settings[0]["details"].(map[string]any)["before"].(map[string]any)["idle_threshold_seconds"] == 300.0 &&
			settings[0]["details"].(map[string]any)["after"].(map[string]any)["idle_threshold_seconds"] == 600.0 &&
			settings[0]["details"].(map[string]any)["generation"] == 2.0, settings[0]},
		{"The bootstrap admin is recorded as provisioned by the platform.", provisioned["actor_id"] == nil && provisioned["subject_id"] == root &&
			sameJSON(provisioned["details"], map[string]any{"email": "root@operated.example", "role": "admin"}), provisioned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !tt.ok {
				t.Fatalf("%v", tt.detail)
			}
		})
	}
	if bystander := e.auditLog(otherTok); len(bystander) != 0 {
		t.Errorf("another organization sees %v", bystander)
	}
}
