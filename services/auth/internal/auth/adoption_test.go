package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
)

// TestAnExistingOrganizationIsAdoptedOnlyWithATokenItsAdminIssued plays
// the platform user who can create WorkPulseTenants but is no member of
// the organization: naming its ID takes nothing over. Only a token an
// admin issued, unspent and unexpired, lets one resource adopt it; that
// resource then manages it without the token, and no other resource does.
func TestAnExistingOrganizationIsAdoptedOnlyWithATokenItsAdminIssued(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@victim.example", "Victim Corp")
	org := admin["organization_id"].(string)
	otherTok, _ := e.register("boss@other.example", "Other Corp")
	issue := func(tok string, hours int) string {
		t.Helper()
		r := e.do("POST", "/api/organization/adoption-tokens", tok, map[string]any{"expires_in_hours": hours})
		if r.Status != 201 || r.Body["token"] == "" || r.Body["expires_at"] != envInstant.Add(time.Duration(hours)*time.Hour).Format(time.RFC3339) {
			t.Fatalf("issue an adoption token: %d %s", r.Status, r.Raw)
		}
		return r.Body["token"].(string)
	}
	valid := issue(adminTok, 2)
	expiring := issue(adminTok, 1)
	foreign := issue(otherTok, 2)

	attacker, adopter := uuid.NewString(), uuid.NewString()
	put := func(tenantUID, token string) response {
		return e.do("PUT", "/internal/tenants/"+org, "operator-secret", map[string]any{"name": "Taken Over", "plan_type": "enterprise",
			"active": true, "generation": 1, "tenant_uid": tenantUID, "adoption_token": token,
			"admin": map[string]any{"email": "intruder@evil.example", "name": "Intruder", "password": "initial-password"}})
	}
	e.clock.Advance(time.Hour + time.Second)
	refused := []struct {
		name, token, code string
	}{
		{"Without a token the adoption is refused", "", "ADOPTION_TOKEN_REQUIRED"},
		{"A made-up token is refused", "not-a-token-anyone-issued", "ADOPTION_TOKEN_INVALID"},
		{"Another organization's token is refused", foreign, "ADOPTION_TOKEN_INVALID"},
		{"An expired token is refused", expiring, "ADOPTION_TOKEN_INVALID"},
	}
	for _, c := range refused {
		if r := put(attacker, c.token); r.Status != 403 || r.code() != c.code {
			t.Errorf("%s: %d %s; want 403 %s", c.name, r.Status, r.Raw, c.code)
		}
	}
	e.assertUntouched(org, "Victim Corp")

	if r := put(adopter, valid); r.Status != 200 || r.Body["created"] != false || r.Body["admin_created"] != true {
		t.Fatalf("adoption with a valid token: %d %s", r.Status, r.Raw)
	}
	if r := put(attacker, valid); r.Status != 403 || r.code() != "ADOPTION_TOKEN_INVALID" {
		t.Errorf("a spent token presented again by another resource: %d %s; want 403 ADOPTION_TOKEN_INVALID", r.Status, r.Raw)
	}
	if r := put(adopter, ""); r.Status != 200 {
		t.Errorf("the adopting resource's next call without the token: %d %s", r.Status, r.Raw)
	}
	var usedBy string
	if err := e.db.Owner.QueryRow(context.Background(), "SELECT used_by::text FROM auth.adoption_tokens WHERE organization_id = $1 AND used_at IS NOT NULL", org).Scan(&usedBy); err != nil || usedBy != adopter {
		t.Errorf("the spent token records %q (%v), want the adopting resource %s", usedBy, err, adopter)
	}
}

// TestTheOperatorCreatesOrganizationsOnlyUnderTheResourcesOwnUID: an
// unknown ID that is not the resource's own is reported missing, not
// created, so adoptOrganizationID cannot mint an organization either.
func TestTheOperatorCreatesOrganizationsOnlyUnderTheResourcesOwnUID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	org := uuid.NewString()
	r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", map[string]any{"name": "Nobody", "plan_type": "free", "active": true,
		"generation": 1, "tenant_uid": uuid.NewString()})
	if r.Status != 404 || r.code() != "TENANT_NOT_FOUND" {
		t.Fatalf("PUT for another resource's unknown ID: %d %s; want 404 TENANT_NOT_FOUND", r.Status, r.Raw)
	}
	if r := e.do("GET", "/internal/tenants/"+org, "operator-secret", nil); r.Status != 404 {
		t.Errorf("the organization exists after the refused PUT: %d %s", r.Status, r.Raw)
	}
}

// TestOnlyAdminsIssueAdoptionTokens: an employee is refused, a lifetime
// outside 1..720 hours is a validation error, and the store holds only
// the token's hash.
func TestOnlyAdminsIssueAdoptionTokens(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@tokens.example", "Tokens")
	inv := e.do("POST", "/api/users/invitations", adminTok, map[string]any{"email": "worker@tokens.example"})
	join := e.do("POST", "/api/auth/register", "", map[string]any{"email": "worker@tokens.example", "password": "correct horse", "name": "Worker", "invitation_token": inv.Body["token"]})
	if join.Status != 201 {
		t.Fatalf("employee join: %d %s", join.Status, join.Raw)
	}
	cases := []struct {
		name   string
		token  string
		body   any
		status int
		code   string
	}{
		{"An employee may not issue one", join.Body["access_token"].(string), map[string]any{}, 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"A lifetime above 30 days is refused", adminTok, map[string]any{"expires_in_hours": 721}, 400, "VALIDATION_FAILED"},
		{"An unknown field is refused", adminTok, map[string]any{"organization_id": "x"}, 400, "VALIDATION_FAILED"},
		{"An admin gets one with the default lifetime and no body", adminTok, nil, 201, ""},
	}
	var issued string
	for _, c := range cases {
		r := e.do("POST", "/api/organization/adoption-tokens", c.token, c.body)
		if tok, ok := r.Body["token"].(string); ok {
			issued = tok
		}
		if r.Status != c.status || r.code() != c.code {
			t.Errorf("%s: %d %s; want %d %s", c.name, r.Status, r.Raw, c.status, c.code)
		}
		if c.status == 201 && r.Body["expires_at"] != envInstant.Add(24*time.Hour).Format(time.RFC3339) {
			t.Errorf("%s: expires at %v, want a day later", c.name, r.Body["expires_at"])
		}
	}
	var stored, plain int
	if err := e.db.Owner.QueryRow(context.Background(), "SELECT count(*), count(*) FILTER (WHERE position(convert_to($2, 'UTF8') IN token_hash) > 0) FROM auth.adoption_tokens WHERE organization_id = $1",
		admin["organization_id"], issued).Scan(&stored, &plain); err != nil || stored != 1 || plain != 0 {
		t.Errorf("stored adoption tokens: %d, %d holding the token itself (%v); want 1, 0", stored, plain, err)
	}
}

// assertUntouched checks that refused calls changed nothing: the name,
// plan, manager and members are as registration left them.
func (e *env) assertUntouched(org, name string) {
	e.t.Helper()
	var got, plan string
	var managed bool
	var users int
	err := e.db.Owner.QueryRow(context.Background(), "SELECT name, plan_type, managed_by IS NOT NULL, (SELECT count(*) FROM auth.users WHERE organization_id = $1) FROM auth.organizations WHERE id = $1", org).
		Scan(&got, &plan, &managed, &users)
	if err != nil || got != name || plan != "free" || managed || users != 1 {
		e.t.Errorf("after the refused adoptions: name %q plan %q managed %t, %d users (%v); want %q, free, unmanaged, 1", got, plan, managed, users, err, name)
	}
}
