package tracking_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
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
		pool *pgxpool.Pool
		testkit.ScopedStep
	}{
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B reads the sessions of A and B.", Scope: batchAB, SQL: sessionsSeen, Seen: sorted(a, b)}},
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B reads the tenant settings of A and B.", Scope: batchAB, SQL: tenantsSeen, Seen: sorted(a, b)}},
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B stores an activity of B.", Scope: batchAB, SQL: insertActivity(b), Changed: 1}},
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B stores a claim of A.", Scope: batchAB, SQL: insertClaim(a), Changed: 1}},
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B is refused an activity of C.", Scope: batchAB, SQL: insertActivity(c), Refused: true}},
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B is refused a claim of C.", Scope: batchAB, SQL: insertClaim(c), Refused: true}},
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B changes no session of C.", Scope: batchAB, SQL: "UPDATE tracking.work_sessions SET version = version + 1 WHERE id = '" + sessions[c] + "'"}},
		{ingest, testkit.ScopedStep{Name: "Ingest in a batch of A and B cannot move a session of A to C.", Scope: batchAB, SQL: "UPDATE tracking.work_sessions SET organization_id = '" + c + "' WHERE id = '" + sessions[a] + "'", Refused: true}},
		{ingest, testkit.ScopedStep{Name: "Ingest as tenant A alone reads only A's sessions.", Scope: onlyA, SQL: sessionsSeen, Seen: []string{a}}},
		{ingest, testkit.ScopedStep{Name: "Ingest as tenant A alone is refused an activity of B.", Scope: onlyA, SQL: insertActivity(b), Refused: true}},
		{ingest, testkit.ScopedStep{Name: "Ingest with no tenant reads no session.", Scope: func(*pgx.Batch) {}, SQL: sessionsSeen}},
		{report, testkit.ScopedStep{Name: "Report in a batch of A and B reads no session.", Scope: batchAB, SQL: sessionsSeen}},
		{session, testkit.ScopedStep{Name: "Session in a batch of A and B reads no session.", Scope: batchAB, SQL: sessionsSeen}},
		{session, testkit.ScopedStep{Name: "Session in a batch of A and B reads no tenant settings.", Scope: batchAB, SQL: tenantsSeen}},
	} {
		testkit.CheckScoped(t, ctx, step.pool, step.ScopedStep)
	}
}

// TestEveryBatchPolicyReadsTheSetOncePerStatement checks that each batch
// policy, ingest's and report's, reads the set of organizations through a
// sub-select, which PostgreSQL evaluates once per statement: called in the
// comparison itself, the set's text is parsed again for every row checked,
// 64 ids a row for a batch of 64 organizations (migration 00403).
func TestEveryBatchPolicyReadsTheSetOncePerStatement(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	rows, err := db.Owner.Query(context.Background(), `SELECT polrelid::regclass::text, e FROM pg_policy,
		unnest(ARRAY[pg_get_expr(polqual, polrelid), pg_get_expr(polwithcheck, polrelid)]) AS e
		WHERE polname = 'tenant_batch' AND e IS NOT NULL ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	exprs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var v [2]string
		return v, r.Scan(&v[0], &v[1])
	})
	if err != nil {
		t.Fatal(err)
	}
	tables := map[string]bool{}
	for _, e := range exprs {
		tables[e[0]] = true
		if n := strings.Count(e[1], "batch_orgs()"); n == 0 || n != strings.Count(e[1], "SELECT tracking.batch_orgs()")+strings.Count(e[1], "SELECT batch_orgs()") {
			t.Errorf("the batch policy of %s calls the set for each row: %s", e[0], e[1])
		}
	}
	if len(tables) != 7 {
		t.Errorf("batch policies on %v, want the 7 tables of ingest's and report's batches", tables)
	}
}
