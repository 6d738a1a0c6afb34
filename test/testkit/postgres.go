// Package testkit gives integration tests their own real dependencies:
// a freshly migrated PostgreSQL database per test, a private Redis key
// space, and an in-process Kafka broker (kfake) speaking the real protocol.
//
// PostgreSQL and Redis are found through WORKPULSE_PG_ADMIN_URL and
// WORKPULSE_REDIS_URL (defaults: the local servers on their standard
// ports); hack/test-deps.sh starts throwaway servers when none runs.
package testkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/migrations/roles"
)

// AdminURL is the maintenance database tests create their databases from.
func AdminURL() string {
	if u := os.Getenv("WORKPULSE_PG_ADMIN_URL"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// DB is a test's own migrated database.
type DB struct {
	// URL connects as the migrating (owner) user.
	URL string
	// Owner is a pool connected as the owner: it bypasses row-level
	// security, for arranging and inspecting data.
	Owner *pgxpool.Pool
	Name  string
}

// EnsureActivityMonth creates the shared activity partition of the month
// at's calendar date falls in (in at's own time zone), as the operator's
// storage maintenance would have made it.
func (d *DB) EnsureActivityMonth(t testing.TB, at time.Time) {
	t.Helper()
	month := time.Date(at.Year(), at.Month(), 1, 0, 0, 0, 0, time.UTC)
	if _, err := d.Owner.Exec(context.Background(), "SELECT tracking.ensure_month_partition('activity_logs_shared', $1::date)", month); err != nil {
		t.Fatal(err)
	}
}

// Roles are the service roles of every test database, the ones make dev
// and an installation without a prefix use, so that a service started
// against a test database logs in as its own role by default.
var Roles = roles.Set{Prefix: roles.DefaultPrefix}

// Pool opens a pool logged in as role (a service's login role such as
// workpulse_auth, subject to row-level security), as the service does.
func (d *DB) Pool(t testing.TB, role string) *pgxpool.Pool {
	t.Helper()
	return d.PoolOf(t, role, 32)
}

// PoolOf is Pool with at most maxConns connections, for a test whose
// verdict depends on the pool's size.
func (d *DB) PoolOf(t testing.TB, role string, maxConns int32) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(d.URL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = maxConns
	cfg.ConnConfig.User = role
	p, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// NewDB creates a database for this test from a template that has every
// migration applied, and drops it when the test ends.
func NewDB(t testing.TB) *DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		t.Fatalf("testkit: PostgreSQL is not reachable at %s (run tests through make test): %v", redact(AdminURL()), err)
	}
	defer admin.Close(context.Background())
	tmpl := "wp_tmpl_" + migrations.Fingerprint()
	if err := ensureTemplate(ctx, admin, tmpl); err != nil {
		t.Fatalf("testkit: template database: %v", err)
	}
	name := "wp_test_" + randomHex(8)
	for attempt := 0; ; attempt++ {
		_, err = admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s", name, tmpl))
		// Another test copying the template at the same moment makes
		// PostgreSQL refuse; it clears within milliseconds.
		if err == nil || attempt > 50 || !strings.Contains(err.Error(), "is being accessed by other users") {
			break
		}
		time.Sleep(time.Duration(20+attempt*10) * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("testkit: create database: %v", err)
	}
	u := withDatabase(AdminURL(), name)
	owner, err := pgxpool.New(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		owner.Close()
		c, err := pgx.Connect(context.Background(), AdminURL())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return &DB{URL: u, Owner: owner, Name: name}
}

// NewRolledBackDB is a fresh database with every migration rolled back,
// and the migrator that applies them again (closed when the test ends):
// for tests of the migrations themselves.
func NewRolledBackDB(t testing.TB) (*DB, *migrations.Migrator) {
	t.Helper()
	db := NewDB(t)
	m, err := migrations.Open(db.URL, Roles)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	if _, err := m.DownTo(context.Background(), 0); err != nil {
		t.Fatalf("rolling back every migration: %v", err)
	}
	return db, m
}

func ensureTemplate(ctx context.Context, admin *pgx.Conn, tmpl string) error {
	// Serialize template creation across test processes.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(7366254999)"); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(7366254999)")
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)", tmpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := tmpl + "_build"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)"); err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return err
	}
	m, err := migrations.Open(withDatabase(AdminURL(), building), Roles)
	if err != nil {
		return err
	}
	_, err = m.Up(ctx)
	m.Close()
	if err != nil {
		return err
	}
	if _, err := admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+tmpl); err != nil {
		return err
	}
	_, err = admin.Exec(ctx, "ALTER DATABASE "+tmpl+" WITH IS_TEMPLATE true")
	return err
}

func withDatabase(raw, db string) string {
	u, err := url.Parse(raw)
	if err != nil {
		panic(err)
	}
	u.Path = "/" + db
	return u.String()
}

func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
