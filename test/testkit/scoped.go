package testkit

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ScopedStep is a statement a row-level security test runs as a role in
// a tenant scope, and what it must do there.
type ScopedStep struct {
	Name  string
	Scope func(*pgx.Batch) // the tenant settings queued before the statement
	SQL   string
	// Seen is the first column the statement returns; Refused that it
	// fails on row-level security; Changed how many rows it changes.
	Seen    []string
	Refused bool
	Changed int64
}

// CheckScoped runs the step on pool (logged in as the role under test)
// and reports how it differs from what the step expects.
func CheckScoped(t testing.TB, ctx context.Context, pool *pgxpool.Pool, step ScopedStep) {
	t.Helper()
	seen, changed, err := runScoped(ctx, pool, step.Scope, step.SQL)
	var pgErr *pgconn.PgError
	if refused := errors.As(err, &pgErr) && pgErr.Code == "42501"; refused != step.Refused || err != nil && !refused {
		t.Errorf("%s err = %v, want refused %v", step.Name, err, step.Refused)
		return
	}
	if !slices.Equal(seen, step.Seen) || changed != step.Changed {
		t.Errorf("%s saw %v and changed %d rows, want %v and %d", step.Name, seen, changed, step.Seen, step.Changed)
	}
}

// runScoped runs sql after scope's settings in one transaction it rolls
// back, and returns the first column of its rows and, unless it is a
// SELECT, the rows it changed.
func runScoped(ctx context.Context, pool *pgxpool.Pool, scope func(*pgx.Batch), sql string) ([]string, int64, error) {
	tx, err := pool.Begin(ctx)
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback(ctx)
	b := &pgx.Batch{}
	scope(b)
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, 0, err
	}
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return nil, 0, err
	}
	var seen []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, 0, err
		}
		seen = append(seen, v)
	}
	rows.Close()
	if tag := rows.CommandTag(); !tag.Select() {
		return seen, tag.RowsAffected(), rows.Err()
	}
	return seen, 0, rows.Err()
}
