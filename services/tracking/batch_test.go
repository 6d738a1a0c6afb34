package tracking_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestABatchOfOrganizationsReachesTheirRowsAndNoOther checks the policies
// of ingest's combined writes across tenants (migration 00117): with the
// set of organizations A and B named, ingest reads and writes the rows of
// A and B and is refused every row of C; outside a batch one tenant reads
// only its own rows; and the set gives the other services nothing.
func TestABatchOfOrganizationsReachesTheirRowsAndNoOther(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	at := time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC)
	db.EnsureActivityMonth(t, at)
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	users, sessions := map[string]string{}, map[string]string{}
	for _, org := range []string{a, b, c} {
		users[org], sessions[org] = uuid.NewString(), uuid.NewString()
		if _, err := db.Owner.Exec(ctx, "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active')",
			sessions[org], org, users[org], at.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, suspended, time_zone, generation) VALUES ($1, false, 'UTC', 1)", org); err != nil {
			t.Fatal(err)
		}
	}
	ingest, report, session := db.Pool(t, "workpulse_ingest"), db.Pool(t, "workpulse_report"), db.Pool(t, "workpulse_session")
	batchAB, onlyA := func(q *pgx.Batch) { pg.QueueInOrgs(q, []string{a, b}) }, func(q *pgx.Batch) { pg.QueueInOrg(q, a) }
	insertActivity := func(org string) string {
		return "INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)" +
			" VALUES (gen_random_uuid(), '" + org + "', '" + sessions[org] + "', '" + users[org] + "', '" + at.Format(time.RFC3339) + "', 'active', 5)"
	}
	insertClaim := func(org string) string {
		return "INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)" +
			" VALUES ('" + users[org] + "', 'x', '" + org + "', gen_random_uuid(), '" + at.Format(time.RFC3339) + "')"
	}
	const sessionsSeen = "SELECT organization_id::text FROM tracking.work_sessions ORDER BY 1"
	const tenantsSeen = "SELECT organization_id::text FROM tracking.tenants ORDER BY 1"
	sorted := func(orgs ...string) []string { return slices.Sorted(slices.Values(orgs)) }

	for _, step := range []struct {
		name  string
		pool  *pgxpool.Pool
		scope func(*pgx.Batch)
		sql   string
		// seen is what the statement returns; refused that it fails on
		// row-level security; changed how many rows it changes.
		seen    []string
		refused bool
		changed int64
	}{
		{"Ingest in a batch of A and B reads the sessions of A and B.", ingest, batchAB, sessionsSeen, sorted(a, b), false, 0},
		{"Ingest in a batch of A and B reads the tenant settings of A and B.", ingest, batchAB, tenantsSeen, sorted(a, b), false, 0},
		{"Ingest in a batch of A and B stores an activity of B.", ingest, batchAB, insertActivity(b), nil, false, 1},
		{"Ingest in a batch of A and B stores a claim of A.", ingest, batchAB, insertClaim(a), nil, false, 1},
		{"Ingest in a batch of A and B is refused an activity of C.", ingest, batchAB, insertActivity(c), nil, true, 0},
		{"Ingest in a batch of A and B is refused a claim of C.", ingest, batchAB, insertClaim(c), nil, true, 0},
		{"Ingest in a batch of A and B changes no session of C.", ingest, batchAB,
			"UPDATE tracking.work_sessions SET version = version + 1 WHERE id = '" + sessions[c] + "'", nil, false, 0},
		{"Ingest in a batch of A and B cannot move a session of A to C.", ingest, batchAB,
			"UPDATE tracking.work_sessions SET organization_id = '" + c + "' WHERE id = '" + sessions[a] + "'", nil, true, 0},
		{"Ingest as tenant A alone reads only A's sessions.", ingest, onlyA, sessionsSeen, []string{a}, false, 0},
		{"Ingest as tenant A alone is refused an activity of B.", ingest, onlyA, insertActivity(b), nil, true, 0},
		{"Ingest with no tenant reads no session.", ingest, func(*pgx.Batch) {}, sessionsSeen, nil, false, 0},
		{"Report in a batch of A and B reads no session.", report, batchAB, sessionsSeen, nil, false, 0},
		{"Session in a batch of A and B reads no session.", session, batchAB, sessionsSeen, nil, false, 0},
		{"Session in a batch of A and B reads no tenant settings.", session, batchAB, tenantsSeen, nil, false, 0},
	} {
		seen, changed, err := testkit.RunScoped(ctx, step.pool, step.scope, step.sql)
		var pgErr *pgconn.PgError
		if refused := errors.As(err, &pgErr) && pgErr.Code == "42501"; refused != step.refused || err != nil && !refused {
			t.Errorf("%s err = %v, want refused %v", step.name, err, step.refused)
			continue
		}
		if !slices.Equal(seen, step.seen) || changed != step.changed {
			t.Errorf("%s saw %v and changed %d rows, want %v and %d", step.name, seen, changed, step.seen, step.changed)
		}
	}
}
