package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	activity "github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// The operator logs in as its own role: what it can do is shown by the
// controller suite, which runs as that role; what it cannot is shown here.
func TestTheOperatorsRoleReachesNothingBeyondTheActivityTrees(t *testing.T) {
	db := testkit.NewDB(t)
	ctx := context.Background()
	month := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)
	db.EnsureActivityMonth(t, month)
	orgA, orgB := uuid.NewString(), uuid.NewString()
	if _, err := db.Owner.Exec(ctx, `INSERT INTO tracking.activity_logs
		(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds, url)
		SELECT gen_random_uuid(), o, gen_random_uuid(), gen_random_uuid(), $3::timestamptz + g * interval '1 hour', 'active', 30, 'https://intranet.example/secret'
		FROM unnest(ARRAY[$1::uuid, $2::uuid]) AS o, generate_series(1, 5) AS g`, orgA, orgB, month); err != nil {
		t.Fatal(err)
	}
	operator := db.Pool(t, testkit.Roles.Name("operator"))

	// inOrgA runs sql in organization A's row-level security scope.
	inOrgA := func(sql string) func(context.Context, *pgxpool.Pool) error {
		return func(ctx context.Context, p *pgxpool.Pool) error {
			return pg.InOrg(ctx, p, orgA, func(tx pgx.Tx) error { _, err := tx.Exec(ctx, sql); return err })
		}
	}
	plain := func(sql string, args ...any) func(context.Context, *pgxpool.Pool) error {
		return func(ctx context.Context, p *pgxpool.Pool) error { _, err := p.Exec(ctx, sql, args...); return err }
	}
	refused := []struct {
		name string
		run  func(context.Context, *pgxpool.Pool) error
	}{
		{"It cannot read an organization's users, even in that organization's scope.", inOrgA("SELECT count(*) FROM auth.users")},
		{"It cannot read the URLs of an organization's activity, even in its scope.", inOrgA("SELECT url FROM tracking.activity_logs")},
		{"It cannot read the shared tree's partitions, which no row-level security guards.", plain("SELECT count(*) FROM tracking.activity_logs_shared")},
		{"It cannot read the projects or the sessions' totals.", inOrgA("SELECT name FROM tracking.projects UNION ALL SELECT total_active_seconds::text FROM tracking.work_sessions")},
		{"It cannot change an organization's settings.", inOrgA("UPDATE tracking.tenants SET suspended = false")},
		{"It cannot insert activity.", inOrgA("INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at) VALUES (gen_random_uuid(), 'x', current_setting('app.org_id')::uuid, gen_random_uuid(), now())")},
		{"It cannot create a role.", plain("CREATE ROLE operator_made_this LOGIN")},
		{"It cannot create a table in the tracking schema.", plain("CREATE TABLE tracking.operator_made_this (id int)")},
		{"It cannot drop a month partition itself.", plain("DROP TABLE tracking.activity_logs_shared_2027_03")},
		{"It cannot become the owner with SET ROLE.", plain("SET ROLE " + pgx.Identifier{ownerName(t, db)}.Sanitize())},
		{"The owner's month function refuses a table that is no activity tree.", plain("SELECT tracking.ensure_tree_month('work_sessions', '2027-03-01')")},
		{"The owner's drop function refuses a table that is no activity tree.", plain("SELECT tracking.drop_month_partition('projects', '2027-03-01', now())")},
		{"The owner's month reader refuses another organization's tree.", plain("SELECT tracking.activity_months($1, $2)", orgA, "activity_logs_t_"+uuid.NewString()[:8])},
		{"It cannot call the owner's helpers it was not granted.", plain("SELECT tracking.same_activity_rows($1, 'activity_logs_shared', 'activity_logs_shared')", orgA)},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			if got := pg.SQLState(tc.run(ctx, operator)); got != "42501" {
				t.Fatalf("SQLSTATE %q; want 42501 (insufficient privilege)", got)
			}
		})
	}

	t.Run("Outside an organization's scope it sees no activity row at all, and in it only that organization's.", func(t *testing.T) {
		var outside, inA int
		if err := operator.QueryRow(ctx, "SELECT count(organization_id) FROM tracking.activity_logs").Scan(&outside); err != nil {
			t.Fatal(err)
		}
		if err := pg.InOrg(ctx, operator, orgA, func(tx pgx.Tx) error {
			return tx.QueryRow(ctx, "SELECT count(organization_id) FROM tracking.activity_logs").Scan(&inA)
		}); err != nil {
			t.Fatal(err)
		}
		if outside != 0 || inA != 5 {
			t.Fatalf("%d rows outside any scope, %d in A's; want 0 and 5 of the 10", outside, inA)
		}
	})

	t.Run("RESET ROLE and SET SESSION AUTHORIZATION DEFAULT leave it its own role, refused as before.", func(t *testing.T) {
		conn, err := operator.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		for _, reset := range []string{"RESET ROLE", "SET SESSION AUTHORIZATION DEFAULT"} {
			if _, err := conn.Exec(ctx, reset); err != nil {
				t.Fatalf("%s: %v", reset, err)
			}
		}
		var user string
		if err := conn.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
			t.Fatal(err)
		}
		_, err = conn.Exec(ctx, "SELECT count(*) FROM auth.users")
		if user != testkit.Roles.Name("operator") || pg.SQLState(err) != "42501" {
			t.Fatalf("current_user %q, reading auth.users: %v; want %s and 42501", user, err, testkit.Roles.Name("operator"))
		}
	})

	t.Run("Deleting in an organization's scope removes that organization's rows and no other's.", func(t *testing.T) {
		if err := pg.InOrg(ctx, operator, orgA, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "DELETE FROM tracking.activity_logs WHERE organization_id IS NOT NULL")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		var a, b int
		if err := db.Owner.QueryRow(ctx, "SELECT count(*) FILTER (WHERE organization_id = $1), count(*) FILTER (WHERE organization_id = $2) FROM tracking.activity_logs",
			orgA, orgB).Scan(&a, &b); err != nil {
			t.Fatal(err)
		}
		if a != 0 || b != 5 {
			t.Fatalf("%d of A's rows and %d of B's left; want 0 and 5", a, b)
		}
	})
}

// ownerName is the role that owns the schemas (the migrating user).
func ownerName(t *testing.T, db *testkit.DB) string {
	t.Helper()
	var name string
	if err := db.Owner.QueryRow(context.Background(), "SELECT nspowner::regrole::text FROM pg_namespace WHERE nspname = 'tracking'").Scan(&name); err != nil {
		t.Fatal(err)
	}
	return name
}

// Everything the operator does to the database, done as its role: the
// moves both ways, a dedicated tree's months, the shared pass with an
// organization's own retention, and a deleted tenant's data.
func TestTheOperatorsRoleMovesKeepsAndDeletesThroughTheOwnersFunctions(t *testing.T) {
	db := testkit.NewDB(t)
	ctx := context.Background()
	march := policy.MonthOf(time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC))
	db.EnsureActivityMonth(t, march.Time)
	orgA, orgB := uuid.NewString(), uuid.NewString()
	if _, err := db.Owner.Exec(ctx, `INSERT INTO tracking.activity_logs
		(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
		SELECT gen_random_uuid(), o, gen_random_uuid(), gen_random_uuid(), $3::timestamptz + g * interval '1 hour', 'active', 30
		FROM unnest(ARRAY[$1::uuid, $2::uuid]) AS o, generate_series(1, 5) AS g`, orgA, orgB, march.Time); err != nil {
		t.Fatal(err)
	}
	count := func(table, org string) int {
		t.Helper()
		var n int
		if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{"tracking", table}.Sanitize()+" WHERE organization_id = $1", org).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	var ddl []string
	s := storage.New(db.Pool(t, testkit.Roles.Name("operator")), func(kind string) { ddl = append(ddl, kind) })
	dedicated := storage.DedicatedTable(orgA)

	if err := s.CreateDedicated(ctx, orgA, []policy.Month{march.Add(1)}); err != nil {
		t.Fatalf("create: %v", err)
	}
	if err := s.CopyToDedicated(ctx, orgA); err != nil {
		t.Fatalf("copy: %v", err)
	}
	moved, _, err := s.AttachDedicated(ctx, orgA)
	if err != nil || moved != 5 || count(storage.SharedTable, orgA) != 0 || count(dedicated, orgA) != 5 || count(storage.SharedTable, orgB) != 5 {
		t.Fatalf("attach: %v, %d moved; A has %d shared and %d dedicated rows, B %d shared", err, moved,
			count(storage.SharedTable, orgA), count(dedicated, orgA), count(storage.SharedTable, orgB))
	}
	plan := policy.Plan{Parent: dedicated, Premake: 2, Retention: 2}
	done, err := s.MaintainMonths(ctx, plan, march.Add(1).Time)
	if err != nil || len(done.Created) != 2 || len(done.Dropped) != 0 {
		t.Fatalf("the dedicated tree's months: %v, %+v; want May and June made, March kept", err, done)
	}
	if moved, _, err = s.MoveToShared(ctx, orgA); err != nil || moved != 5 || count(storage.SharedTable, orgA) != 5 {
		t.Fatalf("back to shared: %v, %d moved", err, moved)
	}
	if exists, _, err := s.TableState(ctx, dedicated); err != nil || exists {
		t.Fatalf("the dedicated tree after the move back: exists %t, %v", exists, err)
	}

	clk := testkit.NewClock(march.AddDate(0, 3, 0))
	m := &activity.Maintainer{DB: db.Pool(t, testkit.Roles.Name("operator")), Clock: clk, Policy: activity.Policy{Premake: 2, Window: activity.Window(7), Retention: 13}}
	if _, err := m.Run(ctx); err != nil {
		t.Fatalf("the shared pass: %v", err)
	}
	if _, err := db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, retention_months) VALUES ($1, 1)", orgB); err != nil {
		t.Fatal(err)
	}
	retained, err := m.ApplyRetention(ctx)
	if err != nil || len(retained) != 1 || retained[0].Deleted["tracking.activity_logs"] != 5 || count(storage.SharedTable, orgB) != 0 || count(storage.SharedTable, orgA) != 5 {
		t.Fatalf("retention: %v, %+v; B has %d rows, A %d", err, retained, count(storage.SharedTable, orgB), count(storage.SharedTable, orgA))
	}

	if n, err := s.DeleteData(ctx, orgA, 2); err != nil || n != 5 || count(storage.SharedTable, orgA) != 0 {
		t.Fatalf("deleting A's data: %v, %d deleted, %d left", err, n, count(storage.SharedTable, orgA))
	}
	if len(ddl) == 0 {
		t.Fatal("no schema change was counted")
	}
}
