package auth_test

import (
	"net/url"
	"testing"
	"time"
)

// auditEntry is an entry as GET /api/audit answers it, reduced to what
// the tests compare.
type auditEntry struct{ actor, action, subject string }

func entriesOf(r response) []auditEntry {
	var out []auditEntry
	for _, e := range r.List {
		var got auditEntry
		got.actor, _ = e["actor_id"].(string)
		got.action, _ = e["action"].(string)
		got.subject, _ = e["subject_id"].(string)
		out = append(out, got)
	}
	return out
}

func TestTheAuditLogRecordsWhoDidWhatToWhomNewestFirst(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, adminUser := e.register("boss@audit.example", "Auditco")
	admin := adminUser["id"].(string)
	org := adminUser["organization_id"].(string)
	workerTok, worker := e.join(adminTok, "worker@audit.example", "employee")
	// Newest first; each step a second after the one before, so that no two
	// entries share an instant.
	var want []auditEntry
	step := func(method, path, token string, body any, status int, entry func(r response) *auditEntry) {
		t.Helper()
		e.clock.Advance(time.Second)
		r := e.do(method, path, token, body)
		if r.Status != status {
			t.Fatalf("%s %s: %d %s", method, path, r.Status, r.Raw)
		}
		if en := entry(r); en != nil {
			want = append([]auditEntry{*en}, want...)
		}
	}
	made := func(actor, action, subject string) func(response) *auditEntry {
		return func(response) *auditEntry { return &auditEntry{actor, action, subject} }
	}
	ofBody := func(actor, action string) func(response) *auditEntry {
		return func(r response) *auditEntry { return &auditEntry{actor, action, r.Body["id"].(string)} }
	}
	step("PATCH", "/api/users/"+worker, adminTok, map[string]any{"role": "manager"}, 200, made(admin, "user.role_changed", worker))
	step("PATCH", "/api/users/"+worker, adminTok, map[string]any{"active": false}, 200, made(admin, "user.deactivated", worker))
	step("PATCH", "/api/users/"+worker, adminTok, map[string]any{"active": true}, 200, made(admin, "user.reactivated", worker))
	// The last admin cannot demote themselves: nothing happened, nothing is recorded.
	step("PATCH", "/api/users/"+admin, adminTok, map[string]any{"role": "employee"}, 409, func(response) *auditEntry { return nil })
	step("POST", "/api/users/invitations", adminTok, map[string]any{"email": "new@audit.example"}, 201, ofBody(admin, "user.invited"))
	step("POST", "/api/auth/login", "", map[string]any{"email": "worker@audit.example", "password": "correct horse"}, 200, func(r response) *auditEntry {
		workerTok = r.Body["access_token"].(string)
		return &auditEntry{worker, "user.login_succeeded", worker}
	})
	var device string
	step("POST", "/api/devices", workerTok, map[string]any{"name": "Laptop"}, 201, func(r response) *auditEntry {
		device = r.Body["id"].(string)
		return &auditEntry{worker, "device.registered", device}
	})
	step("DELETE", "/api/devices/"+device, adminTok, nil, 204, made(admin, "device.revoked", device))
	step("PATCH", "/api/organization", adminTok, map[string]any{"retention_months": 6}, 200, made(admin, "organization.settings_changed", org))
	step("POST", "/api/auth/logout-all", workerTok, nil, 204, made(worker, "user.signed_out_everywhere", worker))
	step("DELETE", "/api/users/"+worker+"?data=erase", adminTok, nil, 204, made(admin, "user.removed", worker))

	r := e.do("GET", "/api/audit", adminTok, nil)
	if r.Status != 200 {
		t.Fatalf("audit log: %d %s", r.Status, r.Raw)
	}
	// The oldest entry is the worker's invitation, sent before the steps.
	got := entriesOf(r)
	if len(got) == len(want)+1 && got[len(got)-1].action == "user.invited" {
		got = got[:len(want)]
	}
	if len(got) != len(want) {
		t.Fatalf("audit log %v; want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("entry %d is %v; want %v (all: %v)", i, got[i], want[i], got)
		}
	}
	if removed := r.List[0]["details"].(map[string]any); removed["email"] != "worker@audit.example" || removed["erase_data"] != true {
		t.Fatalf("the removal's details: %v", removed)
	}
	settings := r.List[2]["details"].(map[string]any)
	if settings["before"].(map[string]any)["retention_months"] != 0.0 || settings["after"].(map[string]any)["retention_months"] != 6.0 {
		t.Fatalf("the settings change's details: %v", settings)
	}
	if role := r.List[len(r.List)-2]["details"].(map[string]any); role["from"] != "employee" || role["to"] != "manager" {
		t.Fatalf("the role change's details: %v", role)
	}
}

func TestTheAuditLogIsFilteredPagedAndShownToItsOrganizationsAdminsOnly(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, adminUser := e.register("boss@auditlist.example", "Auditlist")
	admin := adminUser["id"].(string)
	workerTok, worker := e.join(adminTok, "worker@auditlist.example", "employee")
	strangerTok, _ := e.register("boss@elsewhere.example", "Elsewhere")
	start := e.clock.Now().UTC()
	for _, role := range []string{"manager", "employee", "manager"} {
		e.clock.Advance(time.Minute)
		if r := e.do("PATCH", "/api/users/"+worker, adminTok, map[string]any{"role": role}); r.Status != 200 {
			t.Fatalf("role change: %d %s", r.Status, r.Raw)
		}
	}
	e.clock.Advance(time.Minute)
	workerTok = e.login(t, "worker@auditlist.example")
	e.clock.Advance(time.Minute)
	e.device(workerTok, "Laptop")
	at := func(minutes int) string { return start.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339) }
	tests := []struct {
		name  string
		query url.Values
		want  []string // actions, newest first
	}{
		{"No filter lists everything.", nil, []string{"device.registered", "user.login_succeeded", "user.role_changed", "user.role_changed", "user.role_changed", "user.invited"}},
		{"An action filter keeps that action.", url.Values{"action": {"device.registered"}}, []string{"device.registered"}},
		{"An actor filter keeps what that member did.", url.Values{"actor_id": {worker}}, []string{"device.registered", "user.login_succeeded"}},
		{"Another actor's filter keeps what they did.", url.Values{"actor_id": {admin}}, []string{"user.role_changed", "user.role_changed", "user.role_changed", "user.invited"}},
		{"A subject filter keeps what was done to that member.", url.Values{"subject_id": {worker}}, []string{"user.login_succeeded", "user.role_changed", "user.role_changed", "user.role_changed"}},
		{"An actor and an action together narrow both ways.", url.Values{"actor_id": {admin}, "action": {"device.registered"}}, nil},
		{"A time range keeps what happened from its start to before its end.", url.Values{"from": {at(2)}, "to": {at(4)}}, []string{"user.role_changed", "user.role_changed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/api/audit?"+tt.query.Encode(), adminTok, nil)
			if r.Status != 200 || len(r.List) != len(tt.want) {
				t.Fatalf("%d %s; want %v", r.Status, r.Raw, tt.want)
			}
			for i, action := range tt.want {
				if r.List[i]["action"] != action {
					t.Fatalf("entry %d is %v; want %s", i, r.List[i]["action"], action)
				}
			}
		})
	}

	var pages [][]auditEntry
	for cursor := ""; ; {
		r := e.do("GET", "/api/audit?limit=3&cursor="+cursor, adminTok, nil)
		if r.Status != 200 {
			t.Fatalf("page: %d %s", r.Status, r.Raw)
		}
		pages = append(pages, entriesOf(r))
		if cursor = r.Header.Get("X-Next-Cursor"); cursor == "" {
			break
		}
	}
	if len(pages) != 2 || len(pages[0]) != 3 || len(pages[1]) != 3 || pages[1][1].action != "user.role_changed" || pages[1][2].action != "user.invited" {
		t.Fatalf("pages of 3: %v", pages)
	}

	refused := []struct {
		name, token, query string
		status             int
		code               string
	}{
		{"An employee may not read the audit log.", workerTok, "", 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"A malformed actor is refused.", adminTok, "?actor_id=boss", 400, "VALIDATION_FAILED"},
		{"An unknown action is refused.", adminTok, "?action=user.deleted_everything", 400, "VALIDATION_FAILED"},
		{"A time that is not RFC 3339 is refused.", adminTok, "?from=yesterday", 400, "VALIDATION_FAILED"},
		{"A range ending before it starts is refused.", adminTok, "?from=" + at(4) + "&to=" + at(2), 400, "VALIDATION_FAILED"},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do("GET", "/api/audit"+tt.query, tt.token, nil); r.Status != tt.status || r.code() != tt.code {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	if r := e.do("GET", "/api/audit", strangerTok, nil); r.Status != 200 || len(r.List) != 0 {
		t.Fatalf("another organization's admin: %d %s", r.Status, r.Raw)
	}
}
