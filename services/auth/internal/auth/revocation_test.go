package auth_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/auth/internal/auth"
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

// revocationRows is the installation's revocation list, as the owner reads it.
func (e *env) revocationRows() map[string]bool {
	e.t.Helper()
	rows, err := e.db.Owner.Query(context.Background(), "SELECT kind || ':' || subject FROM auth.revocations")
	if err != nil {
		e.t.Fatal(err)
	}
	keys, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]bool{}
	for _, k := range keys {
		out[k] = true
	}
	return out
}

func TestTheSweepDeletesOnlyRevocationsWhoseTokensHaveAllExpiredAndAStartingServiceStillRefusesTheRest(t *testing.T) {
	e := newEnv(t, nil)
	start := e.clock.Now()
	sweeper := auth.NewRevocationSweeper(e.db.Pool(t, "workpulse_auth"), slog.Default(), e.clock)
	signOut := func(email string) (sid, token string) {
		e.register(email, "Org of "+email)
		token = e.login(t, email)
		if r := e.do("POST", "/api/auth/logout", token, nil); r.Status != 204 {
			t.Fatalf("logout %s: %d %s", email, r.Status, r.Raw)
		}
		return claims(t, token)["sid"].(string), token
	}
	// Access tokens live 15 minutes; a session's revocation expires a minute
	// after its last one, and the sweep keeps it an hour longer.
	ada, _ := signOut("ada@sweep.example")
	e.clock.Set(start.Add(50 * time.Minute))
	dan, _ := signOut("dan@sweep.example")
	e.clock.Set(start.Add(2 * time.Hour))
	bob, bobToken := signOut("bob@sweep.example")
	_, carol := e.register("carol@sweep.example", "Org of carol")
	carolToken := e.login(t, "carol@sweep.example")
	if r := e.do("POST", "/api/auth/logout-all", carolToken, nil); r.Status != 204 {
		t.Fatalf("logout-all: %d %s", r.Status, r.Raw)
	}

	deleted, err := sweeper.Sweep(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	rows := e.revocationRows()
	cases := []struct {
		name string
		key  string
		kept bool
	}{
		{"A session signed out two hours ago, whose tokens expired over an hour ago, is deleted.", "session:" + ada, false},
		{"A session whose revocation expired within the last hour is kept for services whose clocks lag.", "session:" + dan, true},
		{"A session signed out now, whose access token is still valid, is kept.", "session:" + bob, true},
		{"A user's signed-out-everywhere version, which has no expiry, is kept.", "user:" + carol["id"].(string), true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if rows[c.key] != c.kept {
				t.Errorf("%s kept %v, want %v (rows %v)", c.key, rows[c.key], c.kept, rows)
			}
		})
	}
	if deleted != 1 {
		t.Errorf("the sweep deleted %d rows, want 1", deleted)
	}

	// A service starting now reads the list from the beginning: what the
	// sweep kept still refuses the tokens it must.
	fresh := authn.NewRevocations(authn.PGRevocations{DB: e.db.Pool(t, "workpulse_session")}, e.clock)
	if err := fresh.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	verifier := authn.NewVerifier(e.keys, "workpulse", e.clock).WithRevocations(fresh)
	for who, token := range map[string]string{"bob's signed-out session": bobToken, "carol's token from before signing out everywhere": carolToken} {
		if _, err := verifier.Verify(context.Background(), token); !errors.Is(err, apierr.ErrTokenRevoked) {
			t.Errorf("%s after the sweep: %v, want revoked", who, err)
		}
	}

	// Later every session's revocation goes; the user's stays while it refuses.
	e.clock.Set(start.Add(4 * time.Hour))
	if _, err := sweeper.Sweep(context.Background()); err != nil {
		t.Fatal(err)
	}
	if rows := e.revocationRows(); len(rows) != 1 || !rows["user:"+carol["id"].(string)] {
		t.Errorf("four hours on, rows %v, want only carol's user revocation", rows)
	}
}

func TestTheSweepTrimsAListLargerThanOneBatchInOnePass(t *testing.T) {
	e := newEnv(t, nil)
	owner := e.db.Owner
	// A list grown before the sweep existed: 2,500 sessions signed out a
	// day ago, and one signed out now.
	expired, live := e.clock.Now().Add(-24*time.Hour), e.clock.Now().Add(16*time.Minute)
	if _, err := owner.Exec(context.Background(), `INSERT INTO auth.revocations (kind, subject, blocked, expires_at)
		SELECT 'session', gen_random_uuid(), true, $1 FROM generate_series(1, 2500)`, expired); err != nil {
		t.Fatal(err)
	}
	if _, err := owner.Exec(context.Background(), `INSERT INTO auth.revocations (kind, subject, blocked, expires_at)
		VALUES ('session', gen_random_uuid(), true, $1)`, live); err != nil {
		t.Fatal(err)
	}
	n, err := auth.NewRevocationSweeper(e.db.Pool(t, "workpulse_auth"), slog.Default(), e.clock).Sweep(context.Background())
	if err != nil || n != 2500 {
		t.Fatalf("the sweep deleted %d rows (%v), want 2500", n, err)
	}
	if rows := e.revocationRows(); len(rows) != 1 {
		t.Fatalf("%d rows left, want the live one", len(rows))
	}
}
