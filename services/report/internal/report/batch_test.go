package report

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestAFetchOfManyTenantsReachesTheirRowsAndNoOther checks the policies of
// the activity stream's lookups across the tenants of one fetch (migration
// 00212): with the set of organizations A and B named, report reads the
// open idle alerts and zones of A and B and marks their late days, and is
// refused or shown nothing of C; the set opens no other table; outside a
// fetch one tenant reads only its own rows.
func TestAFetchOfManyTenantsReachesTheirRowsAndNoOther(t *testing.T) {
	e := newEnv(t)
	a, b, c := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, org := range []string{a, b, c} {
		e.tenant(org, "UTC", 0, 0, 0)
		user := uuid.NewString()
		e.user(org, user, "Member")
		e.exec(`INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, last_seen_at)
			VALUES (gen_random_uuid(), $1, $2, gen_random_uuid(), 'idle', 'idle', now())`, org, user)
		e.exec("INSERT INTO reporting.summary_corrections (organization_id, date, marked_at) VALUES ($1, '2026-05-01', now())", org)
	}
	fetchAB, onlyA := func(q *pgx.Batch) { pg.QueueInOrgs(q, []string{a, b}) }, func(q *pgx.Batch) { pg.QueueInOrg(q, a) }
	mark := func(org, date string) string {
		return "INSERT INTO reporting.summary_corrections (organization_id, date, marked_at) VALUES ('" + org + "', '" + date + "', now())" +
			" ON CONFLICT DO NOTHING"
	}
	const alertsSeen = "SELECT organization_id::text FROM reporting.alerts ORDER BY 1"
	sorted := func(orgs ...string) []string { return slices.Sorted(slices.Values(orgs)) }

	for _, step := range []struct {
		name  string
		scope func(*pgx.Batch)
		sql   string
		// seen is what the statement returns; refused that it fails on
		// row-level security; changed how many rows it changes.
		seen    []string
		refused bool
		changed int64
	}{
		{"Report in a fetch of A and B reads the alerts of A and B.", fetchAB, alertsSeen, sorted(a, b), false, 0},
		{"Report in a fetch of A and B reads the zones of A and B.", fetchAB,
			"SELECT organization_id::text FROM reporting.tenant_settings ORDER BY 1", sorted(a, b), false, 0},
		{"Report in a fetch of A and B marks a late day of B.", fetchAB, mark(b, "2026-05-02"), nil, false, 1},
		{"Report in a fetch of A and B marks a day of A again as nothing.", fetchAB, mark(a, "2026-05-01"), nil, false, 0},
		{"Report in a fetch of A and B is refused a late day of C.", fetchAB, mark(c, "2026-05-02"), nil, true, 0},
		{"Report in a fetch of A and B reads no marked day.", fetchAB,
			"SELECT organization_id::text FROM reporting.summary_corrections", nil, false, 0},
		{"Report in a fetch of A and B resolves no alert.", fetchAB, "UPDATE reporting.alerts SET resolved_at = now()", nil, false, 0},
		{"Report in a fetch of A and B reads no member.", fetchAB, "SELECT organization_id::text FROM reporting.users", nil, false, 0},
		{"Report as tenant A alone reads only A's alerts.", onlyA, alertsSeen, []string{a}, false, 0},
		{"Report as tenant A alone is refused a late day of B.", onlyA, mark(b, "2026-05-03"), nil, true, 0},
		{"Report with no tenant reads no alert.", func(*pgx.Batch) {}, alertsSeen, nil, false, 0},
	} {
		seen, changed, err := testkit.RunScoped(e.ctx, e.pool, step.scope, step.sql)
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
