package testkit

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RunScoped runs sql after scope's settings in one transaction it rolls
// back, and returns the first column of its rows and, unless it is a
// SELECT, the rows it changed.
func RunScoped(ctx context.Context, pool *pgxpool.Pool, scope func(*pgx.Batch), sql string) ([]string, int64, error) {
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
