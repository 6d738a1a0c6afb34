package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
)

// poll brings the auth service's revocation list up to date, as its poll
// does every second, and returns a verifier of another service reading
// the same list (session's role), up to date too.
func (e *env) poll() *authn.Verifier {
	e.t.Helper()
	ctx := context.Background()
	if err := e.revocations.Poll(ctx); err != nil {
		e.t.Fatal(err)
	}
	other := authn.NewRevocations(authn.PGRevocations{DB: e.db.Pool(e.t, "workpulse_session")}, e.clock)
	if err := other.Poll(ctx); err != nil {
		e.t.Fatal(err)
	}
	return authn.NewVerifier(e.keys, "workpulse", e.clock).WithRevocations(other)
}

func TestADeactivatedOrganizationsTokensAreRefusedEverywhereAtTheNextPoll(t *testing.T) {
	e := newEnv(t, nil)
	org := "6c1d2e3f-4051-4b6c-9d7e-8f90a1b2c3d4"
	body := map[string]any{"name": "Tenant", "plan_type": "pro", "time_zone": "UTC", "active": true, "generation": 1, "tenant_uid": org,
		"admin": map[string]any{"email": "root@deactivated.example", "name": "Root", "password": "correct horse"}}
	if r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", body); r.Status != 200 {
		t.Fatalf("provisioning: %d %s", r.Status, r.Raw)
	}
	token := e.login(t, "root@deactivated.example")
	if r := e.do("GET", "/api/organization", token, nil); r.Status != 200 {
		t.Fatalf("before: %d %s", r.Status, r.Raw)
	}
	body["generation"], body["active"] = 2, false
	if r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", body); r.Status != 200 {
		t.Fatalf("deactivating: %d %s", r.Status, r.Raw)
	}
	other := e.poll()
	if r := e.do("GET", "/api/organization", token, nil); r.Status != 403 || r.code() != "AUTH_ACCOUNT_DISABLED" {
		t.Fatalf("auth after the poll: %d %s", r.Status, r.Raw)
	}
	if _, err := other.Verify(context.Background(), token); !errors.Is(err, apierr.ErrAccountDisabled) {
		t.Fatalf("another service after its poll: %v", err)
	}
	body["generation"], body["active"] = 3, true
	if r := e.do("PUT", "/internal/tenants/"+org, "operator-secret", body); r.Status != 200 {
		t.Fatalf("reactivating: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.do("GET", "/api/organization", e.login(t, "root@deactivated.example"), nil); r.Status != 200 {
		t.Fatalf("a new token after reactivation: %d %s", r.Status, r.Raw)
	}
}
