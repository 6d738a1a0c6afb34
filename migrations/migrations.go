// Package migrations holds WorkPulse's versioned, reversible SQL migrations
// (one schema per owning service) and applies them with goose. make dev,
// the tests and the Helm chart's hook Job all go through this package.
package migrations

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"

	"github.com/workpulse/workpulse/migrations/roles"
	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/pg"
)

//go:embed sql/*.sql
var files embed.FS

// FS is the migration files, at the root of the returned file system.
func FS() fs.FS {
	sub, err := fs.Sub(files, "sql")
	if err != nil {
		panic(err) // the embed pattern above guarantees the directory
	}
	return sub
}

// Fingerprint identifies the exact set of migrations and grants, so that
// test databases built from a template can tell when the template is stale.
func Fingerprint() string {
	h := sha256.New()
	names, _ := fs.Glob(FS(), "*.sql")
	sort.Strings(names)
	for _, n := range names {
		b, _ := fs.ReadFile(FS(), n)
		io.WriteString(h, n)
		h.Write(b)
	}
	io.WriteString(h, roles.Grants())
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// Migrator applies the migrations to one database.
type Migrator struct {
	db       *sql.DB
	provider *goose.Provider
	roles    roles.Set
}

// Open connects to the database at dsn (a PostgreSQL URL) as the schema
// owner; Up creates or updates the installation's service roles rs.
func Open(dsn string, rs roles.Set) (*Migrator, error) {
	if err := rs.Validate(); err != nil {
		return nil, err
	}
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("migrations: open: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, FS(),
		goose.WithTableName("public.workpulse_schema_migrations"),
		// Each schema owner has its own number range, so a tracking
		// migration (001xx) may arrive after reporting's (002xx) ran.
		goose.WithAllowOutofOrder(true))
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("migrations: %w", err)
	}
	return &Migrator{db: db, provider: p, roles: rs}, nil
}

// Close releases the connection.
func (m *Migrator) Close() error { return m.db.Close() }

// Up applies every pending migration and then the service roles, holding
// a session advisory lock so that concurrent runs (two hook Jobs, a Job and
// make dev) never collide.
func (m *Migrator) Up(ctx context.Context) ([]string, error) {
	return m.locked(ctx, func(conn *sql.Conn) ([]*goose.MigrationResult, error) {
		results, err := m.provider.Up(ctx)
		if err != nil {
			return results, err
		}
		return results, conn.Raw(func(dc any) error {
			return pgx.BeginFunc(ctx, dc.(*stdlib.Conn).Conn(), func(tx pgx.Tx) error { return m.roles.Apply(ctx, tx) })
		})
	})
}

// Down rolls back the most recent migration.
func (m *Migrator) Down(ctx context.Context) ([]string, error) {
	return m.locked(ctx, func(*sql.Conn) ([]*goose.MigrationResult, error) {
		r, err := m.provider.Down(ctx)
		if r == nil {
			return nil, err
		}
		return []*goose.MigrationResult{r}, err
	})
}

// DownTo rolls back every migration above version (0 rolls back all).
func (m *Migrator) DownTo(ctx context.Context, version int64) ([]string, error) {
	return m.locked(ctx, func(*sql.Conn) ([]*goose.MigrationResult, error) { return m.provider.DownTo(ctx, version) })
}

// Status lists each migration and whether it is applied.
func (m *Migrator) Status(ctx context.Context) ([]string, error) {
	st, err := m.provider.Status(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: status: %w", err)
	}
	out := make([]string, 0, len(st))
	for _, s := range st {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
		}
		out = append(out, fmt.Sprintf("%-40s %s", s.Source.Path, applied))
	}
	return out, nil
}

// advisoryLockKey is shared with storage maintenance and the operator's
// DDL so that migrations and partition maintenance never run at the same
// time.
const advisoryLockKey = storage.LockKey

// AdvisoryLockKey is the PostgreSQL advisory lock every schema-changing
// component takes.
func AdvisoryLockKey() int64 { return advisoryLockKey }

// reachWithin is how long a migration waits for the server to accept its
// connection (pg.WaitReachable says why it waits at all).
const reachWithin = 30 * time.Second

func (m *Migrator) locked(ctx context.Context, run func(*sql.Conn) ([]*goose.MigrationResult, error)) ([]string, error) {
	if err := pg.WaitReachable(ctx, m.db.PingContext, reachWithin); err != nil {
		return nil, fmt.Errorf("migrations: connect: %w", err)
	}
	conn, err := m.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrations: connect: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", advisoryLockKey); err != nil {
		return nil, fmt.Errorf("migrations: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", advisoryLockKey)
	results, err := run(conn)
	var names []string
	for _, r := range results {
		names = append(names, fmt.Sprintf("%s %s (%s)", r.Direction, r.Source.Path, r.Duration.Round(1e6)))
	}
	if err != nil {
		return names, fmt.Errorf("migrations: %w", err)
	}
	return names, nil
}
