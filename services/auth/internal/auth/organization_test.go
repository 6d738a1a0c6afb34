package auth_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
)

// lastTenantUpdate is the newest tenant.updated auth queued for org.
func (e *env) lastTenantUpdate(org string) (events.TenantUpdated, int) {
	e.t.Helper()
	var raw []byte
	var n int
	err := e.db.Owner.QueryRow(context.Background(), "SELECT (SELECT count(*) FROM auth.outbox WHERE payload->>'type' = 'tenant.updated' AND payload->>'organization_id' = $1),"+
		" coalesce((SELECT payload FROM auth.outbox WHERE payload->>'type' = 'tenant.updated' AND payload->>'organization_id' = $1 ORDER BY id DESC LIMIT 1), '{}')", org).Scan(&n, &raw)
	if err != nil {
		e.t.Fatal(err)
	}
	var env events.Envelope
	var t events.TenantUpdated
	if n > 0 {
		if err := json.Unmarshal(raw, &env); err != nil {
			e.t.Fatal(err)
		}
		if err := env.Payload(&t); err != nil {
			e.t.Fatal(err)
		}
	}
	return t, n
}

// TestAdminsChangeTheOrganizationsSettingsAndEveryMemberReadsItsZone: an
// admin reads the defaults, changes some settings and reads them back;
// the change is queued as tenant.updated of generation 0; an employee
// reads only the name and zone and may not change anything.
func TestAdminsChangeTheOrganizationsSettingsAndEveryMemberReadsItsZone(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@example.com", "Settings Inc")
	org := admin["organization_id"].(string)

	r := e.do("GET", "/api/organization", adminTok, nil)
	if r.Status != 200 || r.Body["time_zone"] != "UTC" || r.Body["idle_threshold_seconds"] != 0.0 || r.Body["managed"] != false || r.Body["name"] != "Settings Inc" {
		t.Fatalf("admin's first read: %d %s; want UTC, default thresholds, not managed", r.Status, r.Raw)
	}
	r = e.do("PATCH", "/api/organization", adminTok, map[string]any{"time_zone": "America/New_York", "idle_threshold_seconds": 120,
		"overtime_threshold_hours": 8, "activity_window_days": 14, "retention_months": 6})
	if r.Status != 200 || r.Body["time_zone"] != "America/New_York" || r.Body["idle_threshold_seconds"] != 120.0 || r.Body["retention_months"] != 6.0 {
		t.Fatalf("patch: %d %s", r.Status, r.Raw)
	}
	// A second change names one field; the others stay.
	if r = e.do("PATCH", "/api/organization", adminTok, map[string]any{"inactive_threshold_seconds": 900}); r.Status != 200 {
		t.Fatalf("second patch: %d %s", r.Status, r.Raw)
	}
	r = e.do("GET", "/api/organization", adminTok, nil)
	want := map[string]any{"time_zone": "America/New_York", "inactive_threshold_seconds": 900.0, "idle_threshold_seconds": 120.0,
		"overtime_threshold_hours": 8.0, "activity_window_days": 14.0, "retention_months": 6.0, "managed": false}
	for k, v := range want {
		if r.Body[k] != v {
			t.Errorf("after the changes %s = %v, want %v", k, r.Body[k], v)
		}
	}

	ev, n := e.lastTenantUpdate(org)
	wantEv := events.TenantUpdated{OrganizationID: org, TenantSettings: events.TenantSettings{Name: "Settings Inc", PlanType: "free",
		TimeZone: "America/New_York", Active: true, InactiveThresholdSeconds: 900, IdleThresholdSeconds: 120, OvertimeThresholdHours: 8,
		ActivityWindowDays: 14, RetentionMonths: 6}}
	if n != 2 || ev != wantEv {
		t.Errorf("queued %d tenant.updated, the last %+v; want 2, the last %+v", n, ev, wantEv)
	}

	inv := e.do("POST", "/api/users/invitations", adminTok, map[string]any{"email": "worker@example.com"})
	join := e.do("POST", "/api/auth/register", "", map[string]any{"email": "worker@example.com", "password": "correct horse", "name": "Worker", "invitation_token": inv.Body["token"]})
	if join.Status != 201 {
		t.Fatalf("employee join: %d %s", join.Status, join.Raw)
	}
	empTok := join.Body["access_token"].(string)
	r = e.do("GET", "/api/organization", empTok, nil)
	if r.Status != 200 || r.Body["time_zone"] != "America/New_York" || r.Body["name"] != "Settings Inc" || len(r.Body) != 3 {
		t.Errorf("employee's read: %d %s; want only id, name and time_zone", r.Status, r.Raw)
	}
	if r = e.do("PATCH", "/api/organization", empTok, map[string]any{"time_zone": "UTC"}); r.Status != 403 || r.code() != "AUTH_INSUFFICIENT_PERMISSIONS" {
		t.Errorf("employee's patch: %d %s; want 403", r.Status, r.Raw)
	}
	if r = e.do("GET", "/api/organization", "", nil); r.Status != 401 {
		t.Errorf("anonymous read: %d; want 401", r.Status)
	}
}

// TestOrganizationSettingsAreValidated: every refused value answers
// VALIDATION_FAILED naming its field, and changes nothing.
func TestOrganizationSettingsAreValidated(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	tok, admin := e.register("boss@example.com", "Strict Ltd")
	tests := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"An unknown zone is refused.", map[string]any{"time_zone": "Mars/Olympus_Mons"}, "time_zone"},
		{"An empty zone is refused.", map[string]any{"time_zone": " "}, "time_zone"},
		{"An idle threshold under a minute is refused.", map[string]any{"idle_threshold_seconds": 5}, "idle_threshold_seconds"},
		{"An overtime threshold over a day is refused.", map[string]any{"overtime_threshold_hours": 25}, "overtime_threshold_hours"},
		{"A window over a year is refused.", map[string]any{"activity_window_days": 400}, "activity_window_days"},
		{"A negative retention is refused.", map[string]any{"retention_months": -1}, "retention_months"},
		{"An unknown field is refused.", map[string]any{"premake_months": 3}, ""},
	}
	for _, tt := range tests {
		r := e.do("PATCH", "/api/organization", tok, tt.body)
		if r.Status != 400 || r.code() != "VALIDATION_FAILED" {
			t.Errorf("%s got %d %s", tt.name, r.Status, r.Raw)
			continue
		}
		details, _ := r.Body["error"].(map[string]any)["details"].([]any)
		if tt.field != "" && (len(details) != 1 || details[0].(map[string]any)["field"] != tt.field) {
			t.Errorf("%s named %v, want %s", tt.name, details, tt.field)
		}
	}
	if r := e.do("GET", "/api/organization", tok, nil); r.Body["time_zone"] != "UTC" {
		t.Errorf("refused changes left the zone %v", r.Body["time_zone"])
	}
	if _, n := e.lastTenantUpdate(admin["organization_id"].(string)); n != 0 {
		t.Errorf("refused changes queued %d tenant.updated", n)
	}
}

// TestAnOrganizationAWorkPulseTenantManagesRefusesChangesThroughTheAPI:
// its admin reads the settings the operator declared and gets 409
// ORGANIZATION_MANAGED for a change, which queues nothing.
func TestAnOrganizationAWorkPulseTenantManagesRefusesChangesThroughTheAPI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	org := uuid.NewString()
	body := map[string]any{"name": "Managed Corp", "plan_type": "pro", "active": true, "time_zone": "Europe/Berlin",
		"idle_threshold_seconds": 240, "generation": 3, "tenant_uid": org,
		"admin": map[string]any{"email": "root@managed.example", "name": "Root", "password": "correct horse"}}
	if r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", body); r.Status != 200 {
		t.Fatalf("provision: %d %s", r.Status, r.Raw)
	}
	tok := e.login(t, "root@managed.example")
	r := e.do("GET", "/api/organization", tok, nil)
	if r.Status != 200 || r.Body["managed"] != true || r.Body["time_zone"] != "Europe/Berlin" || r.Body["idle_threshold_seconds"] != 240.0 {
		t.Fatalf("managed read: %d %s; want the declared settings, managed", r.Status, r.Raw)
	}
	_, before := e.lastTenantUpdate(org)
	r = e.do("PATCH", "/api/organization", tok, map[string]any{"time_zone": "Asia/Tokyo"})
	if r.Status != 409 || r.code() != "ORGANIZATION_MANAGED" {
		t.Fatalf("managed patch: %d %s; want 409 ORGANIZATION_MANAGED", r.Status, r.Raw)
	}
	if ev, n := e.lastTenantUpdate(org); n != before || ev.Generation != 3 || ev.TimeZone != "Europe/Berlin" {
		t.Errorf("a refused change queued tenant.updated: %d (was %d), the last %+v", n, before, ev)
	}
}
