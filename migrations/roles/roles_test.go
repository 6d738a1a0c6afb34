package roles_test

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver goose runs on
	"github.com/pressly/goose/v3"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/migrations/roles"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// installation gives the test a database migrated with its own role
// prefix, as a second installation on the same PostgreSQL cluster has,
// and drops the roles after the database is gone.
func installation(t *testing.T, rs roles.Set) *testkit.DB {
	t.Helper()
	// Registered before the database, so it runs after the database is
	// dropped: a role that holds privileges somewhere cannot be dropped.
	dropRolesAtEnd(t, rs)
	db := testkit.NewDB(t)
	migrate(t, db, rs)
	return db
}

func dropRolesAtEnd(t *testing.T, rs roles.Set) {
	t.Helper()
	ctx := context.Background()
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, testkit.AdminURL())
		if err != nil {
			t.Error(err)
			return
		}
		defer admin.Close(ctx)
		for _, svc := range roles.Services {
			if _, err := admin.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{rs.Name(svc)}.Sanitize()); err != nil {
				t.Error(err)
			}
		}
	})
}

// prefix is unique to one test run: roles are shared by the cluster.
func prefix(name string) string {
	return "wp_" + name + "_" + strings.ReplaceAll(uuid.NewString()[:8], "-", "")
}

func migrate(t *testing.T, db *testkit.DB, rs roles.Set) {
	t.Helper()
	m, err := migrations.Open(db.URL, rs)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.Up(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// readUsers reads auth.users of db logged in as role; it returns the
// SQLSTATE of the refusal, or "" when the read is allowed.
func readUsers(t *testing.T, db *testkit.DB, role string) string {
	t.Helper()
	ctx := context.Background()
	pool, err := pg.Connect(ctx, db.URL, pg.Login{User: role}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	var n int
	err = pool.QueryRow(ctx, "SELECT count(*) FROM auth.users").Scan(&n)
	if err != nil && pg.SQLState(err) == "" {
		t.Fatalf("reading auth.users as %s: %v", role, err)
	}
	return pg.SQLState(err)
}

func TestTwoInstallationsOnOneClusterReachOnlyTheirOwnDatabase(t *testing.T) {
	first := roles.Set{Prefix: prefix("one")}
	second := roles.Set{Prefix: prefix("two")}
	dbOne := installation(t, first)
	dbTwo := installation(t, second)

	cases := []struct {
		name string
		db   *testkit.DB
		role string
		want string
	}{
		{"The first installation's auth role reads its own database.", dbOne, first.Name("auth"), ""},
		{"The second installation's auth role reads its own database.", dbTwo, second.Name("auth"), ""},
		{"The first installation's auth role is refused in the second's database.", dbTwo, first.Name("auth"), "42501"},
		{"The second installation's auth role is refused in the first's database.", dbOne, second.Name("auth"), "42501"},
		{"The default roles, granted when the test database was built, lost their grants to the prefixed ones.", dbOne, testkit.Roles.Name("auth"), "42501"},
		{"A service role has no grants on another service's tables.", dbOne, first.Name("report"), "42501"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := readUsers(t, c.db, c.role); got != c.want {
				t.Fatalf("reading auth.users as %s: SQLSTATE %q; want %q", c.role, got, c.want)
			}
		})
	}

	t.Run("An installation that changes its prefix leaves the old roles without access.", func(t *testing.T) {
		renamed := roles.Set{Prefix: prefix("three")}
		dropRolesAtEnd(t, renamed)
		// Back to the second prefix first: a role that still holds
		// privileges in the second database cannot be dropped.
		t.Cleanup(func() { migrate(t, dbTwo, second) })
		migrate(t, dbTwo, renamed)
		if got := readUsers(t, dbTwo, second.Name("auth")); got != "42501" {
			t.Fatalf("the old prefix's auth role: SQLSTATE %q; want 42501", got)
		}
		if got := readUsers(t, dbTwo, renamed.Name("auth")); got != "" {
			t.Fatalf("the new prefix's auth role: SQLSTATE %q; want access", got)
		}
	})
}

func TestServiceRolesLogInWithoutPowersBeyondTheirGrants(t *testing.T) {
	rs := roles.Set{Prefix: prefix("attr"), Passwords: map[string]string{"auth": "correct horse battery staple"}}
	db := installation(t, rs)
	ctx := context.Background()
	for _, svc := range roles.Services {
		var login, powers bool
		var password *string
		err := db.Owner.QueryRow(ctx, `SELECT rolcanlogin, rolsuper OR rolcreatedb OR rolcreaterole OR rolinherit OR rolreplication OR rolbypassrls, rolpassword
			FROM pg_authid WHERE rolname = $1`, rs.Name(svc)).Scan(&login, &powers, &password)
		if err != nil {
			t.Fatal(err)
		}
		if !login || powers {
			t.Errorf("%s: login %v, superuser/createdb/createrole/inherit/replication/bypassrls %v; want a plain login role", rs.Name(svc), login, powers)
		}
		switch {
		case svc == "auth" && (password == nil || !strings.HasPrefix(*password, "SCRAM-SHA-256$4096:") || strings.Contains(*password, "horse")):
			t.Errorf("%s: stored password %v; want a SCRAM-SHA-256 verifier, never the password", rs.Name(svc), password)
		case svc != "auth" && password != nil:
			t.Errorf("%s: has a password though none was given", rs.Name(svc))
		}
	}
}

// privileges lists what the default service roles hold on WorkPulse's
// schemas and their objects, one "role privilege object" line each.
func privileges(t *testing.T, db *testkit.DB) map[string]bool {
	t.Helper()
	rows, err := db.Owner.Query(context.Background(), `
		WITH acl AS (
		  SELECT (aclexplode(nspacl)).*, 'schema ' || nspname AS object FROM pg_namespace WHERE nspname IN ('auth', 'tracking', 'reporting')
		  UNION ALL
		  SELECT (aclexplode(c.relacl)).*, c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('auth', 'tracking', 'reporting')
		  UNION ALL
		  SELECT (aclexplode(p.proacl)).*, p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname IN ('auth', 'tracking', 'reporting')
		  UNION ALL
		  SELECT (aclexplode(a.attacl)).*, c.oid::regclass::text || ' (' || a.attname || ')' FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		    JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname IN ('auth', 'tracking', 'reporting') AND a.attacl IS NOT NULL
		)
		SELECT r.rolname || ' ' || acl.privilege_type || ' ' || acl.object FROM acl JOIN pg_roles r ON r.oid = acl.grantee
		WHERE r.rolname = ANY($1)`, []string{"workpulse_auth", "workpulse_session", "workpulse_ingest", "workpulse_report", "workpulse_realtime"})
	if err != nil {
		t.Fatal(err)
	}
	lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, l := range lines {
		out[l] = true
	}
	return out
}

// Migrations written before the roles were named after the installation
// grant to workpulse_<service>; a new one that still does would grant
// nothing once `migrate up` applies grants.sql, so it is caught here.
func TestEveryPrivilegeAMigrationGrantsIsInTheGrantsScript(t *testing.T) {
	db, m := testkit.NewRolledBackDB(t)
	ctx := context.Background()
	p := migrationsAlone(t, db)
	if _, err := p.Up(ctx); err != nil {
		t.Fatal(err)
	}
	granted := privileges(t, db)
	if len(granted) < 20 {
		t.Fatalf("the migrations granted %d privileges to the service roles; want the dozens they grant", len(granted))
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	kept := privileges(t, db)
	for g := range granted {
		if !kept[g] {
			t.Errorf("a migration grants %q, which migrations/roles/grants.sql does not: grant it there", g)
		}
	}
}

// migrationsAlone runs the migrations on db without the roles step of Up,
// as they stand before `migrate up` applies grants.sql.
func migrationsAlone(t *testing.T, db *testkit.DB) *goose.Provider {
	t.Helper()
	sqlDB, err := sql.Open("pgx", db.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS(),
		goose.WithTableName("public.workpulse_schema_migrations"), goose.WithAllowOutofOrder(true))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestAPrefixThatCannotNameARoleIsRefused(t *testing.T) {
	cases := []struct {
		name, prefix string
	}{
		{"An empty prefix is refused.", ""},
		{"A prefix with a hyphen (a release name as it is) is refused.", "my-release"},
		{"A prefix with capitals is refused, since PostgreSQL folds unquoted names.", "WorkPulse"},
		{"A prefix starting with a digit is refused.", "1st"},
		{"A prefix that makes role names longer than PostgreSQL keeps is refused.", strings.Repeat("a", 41)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := migrations.Open("postgres://127.0.0.1/none", roles.Set{Prefix: c.prefix}); !errors.Is(err, roles.ErrBadPrefix) {
				t.Fatalf("prefix %q: %v; want ErrBadPrefix", c.prefix, err)
			}
		})
	}
}
