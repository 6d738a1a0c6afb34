package roles_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/workpulse/workpulse/test/testkit"
)

// TestEveryMigrationLeavesTheRunningServicesAbleToReadWhatTheyCouldRead
// applies the migrations one at a time without the grants step, as an
// upgrade does while the previous release's pods still serve: after each
// one, every default service role, in a tenant's transaction, must still
// read every table it could read before it. A policy that calls a function
// its role may not execute yet fails every statement on its table until
// `migrate up` runs the grants, which under load is a 500 per request.
func TestEveryMigrationLeavesTheRunningServicesAbleToReadWhatTheyCouldRead(t *testing.T) {
	db, _ := testkit.NewRolledBackDB(t)
	ctx := context.Background()
	p := migrationsAlone(t, db)
	readable := map[string][]string{}
	for {
		res, err := p.UpByOne(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for role, tables := range readable {
			for _, table := range tables {
				if err := readAsTenant(ctx, db, role, table); err != nil {
					t.Errorf("after %s, %s can no longer read %s: %v", res.Source.Path, role, table, err)
				}
			}
		}
		if readable, err = readableTables(ctx, db); err != nil {
			t.Fatal(err)
		}
	}
	if len(readable["workpulse_ingest"]) == 0 {
		t.Fatal("the migrations gave workpulse_ingest no table to read; the check checked nothing")
	}
}

// readableTables lists, per default service role, the tables it may select from.
func readableTables(ctx context.Context, db *testkit.DB) (map[string][]string, error) {
	rows, err := db.Owner.Query(ctx, `
		SELECT r.rolname, c.oid::regclass::text FROM pg_roles r
		CROSS JOIN pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE r.rolname IN ('workpulse_auth', 'workpulse_session', 'workpulse_ingest', 'workpulse_report', 'workpulse_realtime')
		  AND n.nspname IN ('auth', 'tracking', 'reporting') AND c.relkind IN ('r', 'p', 'v')
		  AND NOT c.relispartition AND has_table_privilege(r.oid, c.oid, 'SELECT')`)
	if err != nil {
		return nil, err
	}
	out := map[string][]string{}
	for rows.Next() {
		var role, table string
		if err := rows.Scan(&role, &table); err != nil {
			return nil, err
		}
		out[role] = append(out[role], table)
	}
	return out, rows.Err()
}

func readAsTenant(ctx context.Context, db *testkit.DB, role, table string) error {
	return pgx.BeginFunc(ctx, db.Owner, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT set_config('app.org_id', '00000000-0000-0000-0000-000000000001', true)"); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL ROLE %s", pgx.Identifier{role}.Sanitize())); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, fmt.Sprintf("SELECT 1 FROM %s LIMIT 1", table))
		return err
	})
}
