package auth_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/page"
)

// join invites email into the admin's organization as role and registers
// it; it returns the member's token and id.
func (e *env) join(adminTok, email, role string) (token, id string) {
	e.t.Helper()
	inv := e.do("POST", "/api/users/invitations", adminTok, map[string]any{"email": email, "role": role})
	if inv.Status != 201 {
		e.t.Fatalf("invite %s: %d %s", email, inv.Status, inv.Raw)
	}
	r := e.do("POST", "/api/auth/register", "", map[string]any{"email": email, "password": "correct horse", "name": "Member " + email[:3],
		"invitation_token": inv.Body["token"]})
	if r.Status != 201 {
		e.t.Fatalf("join %s: %d %s", email, r.Status, r.Raw)
	}
	return r.Body["access_token"].(string), r.Body["user"].(map[string]any)["id"].(string)
}

func TestAnAdminDeactivatesReactivatesAndChangesTheRoleOfAMember(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@example.com", "Bossco")
	workerTok, worker := e.join(adminTok, "worker@example.com", "employee")
	if r := e.do("GET", "/api/organization", workerTok, nil); r.Status != 200 {
		t.Fatalf("the member before: %d %s", r.Status, r.Raw)
	}

	r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"active": false})
	if r.Status != 200 || r.Body["active"] != false {
		t.Fatalf("deactivate: %d %s", r.Status, r.Raw)
	}
	// The token works until the list is read: within a poll, a second.
	if r := e.do("GET", "/api/organization", workerTok, nil); r.Status != 200 {
		t.Fatalf("before the poll: %d %s", r.Status, r.Raw)
	}
	other := e.poll()
	if r := e.do("GET", "/api/organization", workerTok, nil); r.Status != 403 || r.code() != "AUTH_ACCOUNT_DISABLED" {
		t.Fatalf("a deactivated member's token: %d %s", r.Status, r.Raw)
	}
	if _, err := other.Verify(context.Background(), workerTok); err == nil {
		t.Fatal("another service still accepts a deactivated member's token")
	}
	if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "worker@example.com", "password": "correct horse"}); r.Status != 403 || r.code() != "AUTH_ACCOUNT_DISABLED" {
		t.Fatalf("a deactivated member's login: %d %s", r.Status, r.Raw)
	}

	if r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"active": true}); r.Status != 200 || r.Body["active"] != true {
		t.Fatalf("reactivate: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.do("GET", "/api/organization", workerTok, nil); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
		t.Fatalf("a token from before the deactivation after reactivation: %d %s", r.Status, r.Raw)
	}
	fresh := e.login(t, "worker@example.com")
	if r := e.do("GET", "/api/organization", fresh, nil); r.Status != 200 {
		t.Fatalf("a new login after reactivation: %d %s", r.Status, r.Raw)
	}

	if r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"role": "manager"}); r.Status != 200 || r.Body["role"] != "manager" {
		t.Fatalf("make manager: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.do("GET", "/api/organization", fresh, nil); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
		t.Fatalf("a token carrying the old role: %d %s", r.Status, r.Raw)
	}
	if c := claims(t, e.login(t, "worker@example.com")); c["role"] != "manager" {
		t.Fatalf("a new login claims %v", c)
	}
	var queued int
	if err := e.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM auth.outbox WHERE payload->>'type' = 'user.updated' AND payload->>'key' = $1", worker).Scan(&queued); err != nil {
		t.Fatal(err)
	}
	if queued != 1 {
		t.Errorf("%d user.updated events for the role change; want 1", queued)
	}

	refused := []struct {
		name, id string
		body     map[string]any
		status   int
		code     string
	}{
		{"The last active admin cannot demote themself.", admin["id"].(string), map[string]any{"role": "employee"}, 409, "USER_LAST_ADMIN"},
		{"The last active admin cannot deactivate themself.", admin["id"].(string), map[string]any{"active": false}, 409, "USER_LAST_ADMIN"},
		{"An unknown role is refused.", worker, map[string]any{"role": "root"}, 400, "VALIDATION_FAILED"},
		{"An empty change is refused.", worker, map[string]any{}, 400, "VALIDATION_FAILED"},
		{"An unknown field is refused.", worker, map[string]any{"password_hash": "x"}, 400, "VALIDATION_FAILED"},
		{"A user who does not exist is not found.", uuid.NewString(), map[string]any{"active": false}, 404, "USER_NOT_FOUND"},
		{"An id that is not a UUID is not found.", "me2", map[string]any{"active": false}, 404, "USER_NOT_FOUND"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do("PATCH", "/api/users/"+tc.id, adminTok, tc.body); r.Status != tc.status || r.code() != tc.code {
				t.Fatalf("%d %s; want %d %s", r.Status, r.Raw, tc.status, tc.code)
			}
		})
	}
	// With a second admin, the first may step down.
	_, second := e.join(adminTok, "deputy@example.com", "admin")
	if r := e.do("PATCH", "/api/users/"+admin["id"].(string), adminTok, map[string]any{"role": "employee"}); r.Status != 200 {
		t.Fatalf("an admin stepping down beside another: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/users/"+second, e.login(t, "deputy@example.com"), map[string]any{"active": false}); r.Status != 409 {
		t.Fatalf("the remaining admin deactivated themself: %d %s", r.Status, r.Raw)
	}
}

func TestOnlyAdminsAdministerMembersAndNeverAcrossOrganizations(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@example.com", "Bossco")
	employeeTok, employee := e.join(adminTok, "worker@example.com", "employee")
	managerTok, _ := e.join(adminTok, "lead@example.com", "manager")
	strangerTok, _ := e.register("rival@example.com", "Rivalco")
	cases := []struct {
		name, method, path, token string
		body                      any
		status                    int
	}{
		{"Anonymous callers may not list members.", "GET", "/api/users", "", nil, 401},
		{"An employee may not list members.", "GET", "/api/users", employeeTok, nil, 403},
		{"A manager may not list members.", "GET", "/api/users", managerTok, nil, 403},
		{"An admin lists members.", "GET", "/api/users", adminTok, nil, 200},
		{"An employee may not change a role.", "PATCH", "/api/users/" + employee, employeeTok, map[string]any{"role": "admin"}, 403},
		{"A manager may not deactivate a member.", "PATCH", "/api/users/" + employee, managerTok, map[string]any{"active": false}, 403},
		{"Another organization's admin does not find the member.", "PATCH", "/api/users/" + employee, strangerTok, map[string]any{"active": false}, 404},
		{"Anonymous callers have no profile.", "PATCH", "/api/users/me", "", map[string]any{"name": "Nobody"}, 401},
		{"A manager renames themself.", "PATCH", "/api/users/me", managerTok, map[string]any{"name": "Team Lead"}, 200},
		{"An employee reads their own profile.", "GET", "/api/users/me", employeeTok, nil, 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if r := e.do(tc.method, tc.path, tc.token, tc.body); r.Status != tc.status {
				t.Fatalf("%d %s; want %d", r.Status, r.Raw, tc.status)
			}
		})
	}
	if r := e.do("GET", "/api/users/me", employeeTok, nil); r.Body["active"] != true || r.Body["role"] != "employee" {
		t.Fatalf("the employee is still %s", r.Raw)
	}
}

func TestTheMemberListFiltersByRoleAndStateAndPagesByCursor(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@example.com", "Bossco")
	org := admin["organization_id"].(string)
	// 30 employees (every third inactive) and 5 managers beside the admin.
	for i := range 35 {
		role, active := "employee", i%3 != 0
		if i >= 30 {
			role, active = "manager", true
		}
		if _, err := e.db.Owner.Exec(context.Background(), `INSERT INTO auth.users (id, organization_id, email, name, password_hash, role, active)
			VALUES ($1, $2, $3, $4, 'x', $5, $6)`, uuid.NewString(), org, fmt.Sprintf("m%d@example.com", i), fmt.Sprintf("Member %02d", i), role, active); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name, query string
		want        int
	}{
		{"Without filters every member is listed.", "", 36},
		{"role=employee lists the employees.", "role=employee", 30},
		{"role=manager lists the managers.", "role=manager", 5},
		{"active=false lists the deactivated.", "active=false", 10},
		{"Both filters combine.", "role=employee&active=true", 20},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen, q := map[string]bool{}, tc.query+"&limit=7"
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("the cursor never ends")
				}
				r := e.do("GET", "/api/users?"+q, adminTok, nil)
				if r.Status != 200 {
					t.Fatalf("%d %s", r.Status, r.Raw)
				}
				for _, u := range r.List {
					if seen[u["id"].(string)] {
						t.Fatalf("%s on two pages", u["id"])
					}
					seen[u["id"].(string)] = true
				}
				next := r.Header.Get(page.NextHeader)
				if next == "" {
					break
				}
				q = tc.query + "&limit=7&cursor=" + url.QueryEscape(next)
			}
			if len(seen) != tc.want {
				t.Fatalf("%d members; want %d", len(seen), tc.want)
			}
		})
	}
	for _, bad := range []string{"role=root", "active=maybe", "limit=0"} {
		if r := e.do("GET", "/api/users?"+bad, adminTok, nil); r.Status != 400 || r.code() != "VALIDATION_FAILED" {
			t.Errorf("%s: %d %s; want 400 VALIDATION_FAILED", bad, r.Status, r.Raw)
		}
	}
}

func TestAMemberChangesTheirOwnPasswordAndName(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.register("boss@example.com", "Bossco")
	if r := e.do("PATCH", "/api/users/me", tok, map[string]any{"name": " Ada Boss "}); r.Status != 200 || r.Body["name"] != "Ada Boss" {
		t.Fatalf("rename: %d %s", r.Status, r.Raw)
	}
	if r := e.do("PATCH", "/api/users/me", tok, map[string]any{"name": "A"}); r.Status != 400 || r.code() != "VALIDATION_FAILED" {
		t.Fatalf("a one-letter name: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/users/me/password", tok, map[string]any{"current_password": "wrong horse", "new_password": "battery staple"}); r.Status != 401 || r.code() != "AUTH_INVALID_CREDENTIALS" {
		t.Fatalf("a wrong current password: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/users/me/password", tok, map[string]any{"current_password": "correct horse", "new_password": "short"}); r.Status != 400 || r.code() != "VALIDATION_FAILED" {
		t.Fatalf("a short new password: %d %s", r.Status, r.Raw)
	}
	r := e.do("POST", "/api/users/me/password", tok, map[string]any{"current_password": "correct horse", "new_password": "battery staple"})
	if r.Status != 200 || r.Body["access_token"] == nil || r.Body["user"].(map[string]any)["name"] != "Ada Boss" {
		t.Fatalf("change the password: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.do("GET", "/api/organization", tok, nil); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
		t.Fatalf("a token from before the change: %d %s", r.Status, r.Raw)
	}
	if r := e.do("GET", "/api/organization", r.Body["access_token"].(string), nil); r.Status != 200 {
		t.Fatalf("the token the change returned: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "boss@example.com", "password": "correct horse"}); r.Status != 401 {
		t.Fatalf("the old password still logs in: %d %s", r.Status, r.Raw)
	}
	if r := e.do("POST", "/api/auth/login", "", map[string]any{"email": "boss@example.com", "password": "battery staple"}); r.Status != 200 {
		t.Fatalf("the new password: %d %s", r.Status, r.Raw)
	}
}
