package report

import (
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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

	for _, step := range []testkit.ScopedStep{
		{Name: "Report in a fetch of A and B reads the alerts of A and B.", Scope: fetchAB, SQL: alertsSeen, Seen: sorted(a, b)},
		{Name: "Report in a fetch of A and B reads the zones of A and B.", Scope: fetchAB, SQL: "SELECT organization_id::text FROM reporting.tenant_settings ORDER BY 1", Seen: sorted(a, b)},
		{Name: "Report in a fetch of A and B marks a late day of B.", Scope: fetchAB, SQL: mark(b, "2026-05-02"), Changed: 1},
		{Name: "Report in a fetch of A and B marks a day of A again as nothing.", Scope: fetchAB, SQL: mark(a, "2026-05-01")},
		{Name: "Report in a fetch of A and B is refused a late day of C.", Scope: fetchAB, SQL: mark(c, "2026-05-02"), Refused: true},
		{Name: "Report in a fetch of A and B reads no marked day.", Scope: fetchAB, SQL: "SELECT organization_id::text FROM reporting.summary_corrections"},
		{Name: "Report in a fetch of A and B resolves no alert.", Scope: fetchAB, SQL: "UPDATE reporting.alerts SET resolved_at = now()"},
		{Name: "Report in a fetch of A and B reads no member.", Scope: fetchAB, SQL: "SELECT organization_id::text FROM reporting.users"},
		{Name: "Report as tenant A alone reads only A's alerts.", Scope: onlyA, SQL: alertsSeen, Seen: []string{a}},
		{Name: "Report as tenant A alone is refused a late day of B.", Scope: onlyA, SQL: mark(b, "2026-05-03"), Refused: true},
		{Name: "Report with no tenant reads no alert.", Scope: func(*pgx.Batch) {}, SQL: alertsSeen},
	} {
		testkit.CheckScoped(t, e.ctx, e.pool, step)
	}
}
