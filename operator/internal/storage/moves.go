package storage

import (
	"context"
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
//
// Each step is one of the schema owner's functions (tracking.*_dedicated_*,
// tracking.move_to_shared): the operator's role can neither create, lock
// or attach the tables nor read the rows it moves.

// CreateDedicated creates the tenant's table, its indexes (LIKE ...
// INCLUDING ALL, so attaching finds them and builds none under the lock)
// and its months: those its shared rows fall in and wanted.
func (s *Store) CreateDedicated(ctx context.Context, orgID string, wanted []policy.Month) error {
	return s.withDDL(ctx, func(tx pgx.Tx) error {
		var created bool
		if err := tx.QueryRow(ctx, "SELECT tracking.create_dedicated_tree($1)", orgID).Scan(&created); err != nil {
			return err
		}
		if created {
			s.ddl("create_table")
		}
		months, err := s.dataMonths(ctx, tx, SharedTable, orgID)
		if err != nil {
			return err
		}
		for _, m := range append(months, wanted...) {
			if err := s.ensureMonth(ctx, tx, DedicatedTable(orgID), m); err != nil {
				return err
			}
		}
		return nil
	})
}

// CopyToDedicated copies the bulk of the tenant's shared rows into its
// table, while ingest goes on.
func (s *Store) CopyToDedicated(ctx context.Context, orgID string) error {
	_, err := s.db.Exec(ctx, "SELECT tracking.copy_to_dedicated($1)", orgID)
	return err
}

// AttachDedicated finishes a move to Dedicated under the lock and returns
// the rows moved and how long inserts waited.
func (s *Store) AttachDedicated(ctx context.Context, orgID string) (moved int64, paused time.Duration, err error) {
	err = s.withDDL(ctx, func(tx pgx.Tx) error {
		start := clock.Start()
		if err := tx.QueryRow(ctx, "SELECT tracking.attach_dedicated_tree($1)", orgID).Scan(&moved); err != nil {
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
func (s *Store) MoveToShared(ctx context.Context, orgID string) (moved int64, paused time.Duration, err error) {
	err = s.withDDL(ctx, func(tx pgx.Tx) error {
		start := clock.Start()
		if err := tx.QueryRow(ctx, "SELECT tracking.move_to_shared($1)", orgID).Scan(&moved); err != nil {
			return err
		}
		s.ddl("drop_table")
		paused = start.Elapsed()
		return nil
	})
	return moved, paused, err
}

// DropUnfinishedCopy drops a copy left by an interrupted move to
// Dedicated: the rows are still in the shared tree.
func (s *Store) DropUnfinishedCopy(ctx context.Context, orgID string) error {
	_, err := s.dropDedicated(ctx, orgID)
	return err
}

// dropDedicated detaches (when attached) and drops the tenant's table
// under the lock, and returns the rows it held.
func (s *Store) dropDedicated(ctx context.Context, orgID string) (int64, error) {
	var rows int64
	err := s.withDDL(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT tracking.drop_dedicated_tree($1)", orgID).Scan(&rows); err != nil {
			return err
		}
		s.ddl("drop_table")
		return nil
	})
	return rows, err
}
