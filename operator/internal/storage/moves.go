package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// A move to Dedicated copies the tenant's rows into its new table while
// ingest goes on (CreateDedicated, CopyToDedicated), then, holding an
// EXCLUSIVE lock on tracking.activity_logs (writes wait, reads go on),
// copies the rows that arrived meanwhile, checks the counts, deletes the
// rows from the shared tree and attaches the new table, all in one
// transaction (AttachDedicated): no row is lost or counted twice, and
// inserts wait only for the delta and the attach.
//
// A move to Shared detaches the tenant's table and copies its rows into
// the shared tree in one transaction under an ACCESS EXCLUSIVE lock (a
// detached partition cannot take inserts), so activity of every tenant
// waits for the copy; it is the rare direction.

// Columns lists tracking.activity_logs' columns, so that copies name them
// rather than rely on column order.
func (s *Store) Columns(ctx context.Context) (string, error) {
	var cols string
	err := s.db.QueryRow(ctx, `
		SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
		WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, qualified(RootTable)).Scan(&cols)
	return cols, err
}

// CreateDedicated creates the tenant's table, its indexes (LIKE ...
// INCLUDING ALL, so attaching finds them and builds none under the lock)
// and its months: those its shared rows fall in and wanted.
func (s *Store) CreateDedicated(ctx context.Context, table, orgID string, wanted []policy.Month) error {
	return s.withDDL(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (LIKE %s INCLUDING ALL) PARTITION BY RANGE (occurred_at)",
			qualified(table), qualified(RootTable))); err != nil {
			return err
		}
		s.ddl("create_table")
		months, err := s.dataMonths(ctx, tx, SharedTable, orgID)
		if err != nil {
			return err
		}
		for _, m := range append(months, wanted...) {
			if err := s.ensureMonth(ctx, tx, table, m); err != nil {
				return err
			}
		}
		return nil
	})
}

func copyToDedicated(table, cols string) string {
	return fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE organization_id = $1 ON CONFLICT DO NOTHING",
		qualified(table), cols, cols, qualified(SharedTable))
}

// CopyToDedicated copies the bulk of the tenant's shared rows into its
// table, while ingest goes on.
func (s *Store) CopyToDedicated(ctx context.Context, table, cols, orgID string) error {
	_, err := s.db.Exec(ctx, copyToDedicated(table, cols), orgID)
	return err
}

// AttachDedicated finishes a move to Dedicated under the lock and returns
// the rows moved and how long inserts waited.
func (s *Store) AttachDedicated(ctx context.Context, table, cols, orgID string) (moved int64, paused time.Duration, err error) {
	err = s.withDDL(ctx, func(tx pgx.Tx) error {
		start := clock.Start()
		if _, err := tx.Exec(ctx, "LOCK TABLE "+qualified(RootTable)+" IN EXCLUSIVE MODE"); err != nil {
			return err
		}
		months, err := s.dataMonths(ctx, tx, SharedTable, orgID)
		if err != nil {
			return err
		}
		for _, m := range months {
			if err := s.ensureMonth(ctx, tx, table, m); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, copyToDedicated(table, cols), orgID); err != nil {
			return err
		}
		if moved, err = s.sameRows(ctx, tx, SharedTable, table, orgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM "+qualified(SharedTable)+" WHERE organization_id = $1", orgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN ('%s')",
			qualified(RootTable), qualified(table), orgID)); err != nil {
			return err
		}
		s.ddl("attach_table")
		paused = start.Elapsed()
		return nil
	})
	return moved, paused, err
}

// MoveToShared moves the rows of the tenant's table into the shared tree
// and drops the table; it returns the rows moved and how long activity
// waited.
func (s *Store) MoveToShared(ctx context.Context, table, cols, orgID string) (moved int64, paused time.Duration, err error) {
	err = s.withDDL(ctx, func(tx pgx.Tx) error {
		start := clock.Start()
		if _, err := tx.Exec(ctx, "LOCK TABLE "+qualified(RootTable)+" IN ACCESS EXCLUSIVE MODE"); err != nil {
			return err
		}
		months, err := s.dataMonths(ctx, tx, table, orgID)
		if err != nil {
			return err
		}
		for _, m := range months {
			if err := s.ensureMonth(ctx, tx, SharedTable, m); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", qualified(RootTable), qualified(table))); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", qualified(SharedTable), cols, cols, qualified(table))); err != nil {
			return err
		}
		if moved, err = s.sameRows(ctx, tx, table, SharedTable, orgID); err != nil {
			return err
		}
		if err := s.dropTable(ctx, tx, table); err != nil {
			return err
		}
		paused = start.Elapsed()
		return nil
	})
	return moved, paused, err
}

// DropUnfinishedCopy drops a copy left by an interrupted move to
// Dedicated: the rows are still in the shared tree.
func (s *Store) DropUnfinishedCopy(ctx context.Context, table string) error {
	return s.withDDL(ctx, func(tx pgx.Tx) error { return s.dropTable(ctx, tx, table) })
}

// sameRows checks that to holds exactly the rows of orgID that from holds
// and returns their number; the move is abandoned (rolled back) otherwise.
// A copy left by an earlier interrupted attempt may hold rows deleted
// since (retention): those are removed, and the counts compared again.
func (s *Store) sameRows(ctx context.Context, tx pgx.Tx, from, to, orgID string) (int64, error) {
	counts := func() (int64, int64, error) {
		nFrom, err := s.count(ctx, tx, from, orgID)
		if err != nil {
			return 0, 0, err
		}
		nTo, err := s.count(ctx, tx, to, orgID)
		return nFrom, nTo, err
	}
	nFrom, nTo, err := counts()
	if err != nil || nFrom == nTo {
		return nTo, err
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf(`
		DELETE FROM %[1]s d WHERE d.organization_id = $1 AND NOT EXISTS (
			SELECT 1 FROM %[2]s s WHERE s.organization_id = d.organization_id AND s.occurred_at = d.occurred_at AND s.id = d.id)`,
		qualified(to), qualified(from)), orgID); err != nil {
		return 0, err
	}
	if nFrom, nTo, err = counts(); err != nil {
		return 0, err
	}
	if nFrom != nTo {
		return 0, fmt.Errorf("row counts differ after the copy: %d in tracking.%s, %d in tracking.%s", nFrom, from, nTo, to)
	}
	return nTo, nil
}
