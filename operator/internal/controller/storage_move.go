package controller

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// reconcileStorage moves the tenant's rows when spec.storage changed.
//
// Shared to Dedicated copies the rows into the tenant's new table while
// ingest goes on, then, holding an EXCLUSIVE lock on tracking.activity_logs
// (writes wait, reads go on), copies the rows that arrived meanwhile,
// checks the counts, deletes the rows from the shared tree and attaches
// the new table, all in one transaction: no row is lost or counted twice,
// and inserts wait only for the delta and the attach.
//
// Dedicated to Shared detaches the tenant's table and copies its rows into
// the shared tree in one transaction under an ACCESS EXCLUSIVE lock (a
// detached partition cannot take inserts), so activity of every tenant
// waits for the copy; it is the rare direction.
func (r *TenantReconciler) reconcileStorage(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	orgID := t.Status.OrganizationID
	table := dedicatedTable(orgID)
	exists, attached, err := r.store.tableState(ctx, r.store.db, table)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read the catalog")
	}
	switch want := t.Spec.Storage; {
	case want == v1alpha1.StorageDedicated && attached, want == v1alpha1.StorageShared && !exists:
		t.Status.Storage = want
		return nil
	case want == v1alpha1.StorageDedicated:
		return r.moveToDedicated(ctx, t, orgID, table)
	case !attached:
		// A copy left by an interrupted move to Dedicated: the rows are
		// still in the shared tree.
		if err := r.store.withDDL(ctx, func(tx pgx.Tx) error { return r.store.dropTable(ctx, tx, table) }); err != nil {
			return transient("StorageMoveFailed", err, "could not drop the unfinished copy tracking.%s", table)
		}
		t.Status.Storage = v1alpha1.StorageShared
		return nil
	default:
		return r.moveToShared(ctx, t, orgID, table)
	}
}

func (r *TenantReconciler) moveToDedicated(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID, table string) error {
	if _, err := uuid.Parse(orgID); err != nil {
		return permanent("InvalidOrganizationID", "organization ID %q is not a UUID", orgID)
	}
	plan := r.plan(t)
	now := monthOf(r.clock.Now())
	cols, err := r.store.columns(ctx)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read tracking.activity_logs")
	}
	// The table, its indexes (LIKE ... INCLUDING ALL, so attaching finds
	// them and builds none under the lock) and its months.
	err = r.store.withDDL(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s (LIKE %s INCLUDING ALL) PARTITION BY RANGE (occurred_at)",
			qualified(table), qualified(rootTable))); err != nil {
			return err
		}
		r.store.ddl("create_table")
		months, err := r.store.dataMonths(ctx, tx, sharedTable, orgID)
		if err != nil {
			return err
		}
		for _, m := range append(months, plan.wanted(now)...) {
			if err := r.store.ensureMonth(ctx, tx, table, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return transient("StorageMoveFailed", err, "could not create tracking.%s", table)
	}
	// The bulk of the rows, while ingest goes on.
	copyRows := fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s WHERE organization_id = $1 ON CONFLICT DO NOTHING",
		qualified(table), cols, cols, qualified(sharedTable))
	if _, err := r.store.db.Exec(ctx, copyRows, orgID); err != nil {
		return transient("StorageMoveFailed", err, "could not copy the rows into tracking.%s", table)
	}
	var moved int64
	var paused time.Duration
	err = r.store.withDDL(ctx, func(tx pgx.Tx) error {
		start := clock.Start()
		if _, err := tx.Exec(ctx, "LOCK TABLE "+qualified(rootTable)+" IN EXCLUSIVE MODE"); err != nil {
			return err
		}
		months, err := r.store.dataMonths(ctx, tx, sharedTable, orgID)
		if err != nil {
			return err
		}
		for _, m := range months {
			if err := r.store.ensureMonth(ctx, tx, table, m); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, copyRows, orgID); err != nil {
			return err
		}
		if moved, err = r.store.sameRows(ctx, tx, sharedTable, table, orgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "DELETE FROM "+qualified(sharedTable)+" WHERE organization_id = $1", orgID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES IN ('%s')",
			qualified(rootTable), qualified(table), orgID)); err != nil {
			return err
		}
		r.store.ddl("attach_table")
		paused = start.Elapsed()
		return nil
	})
	if err != nil {
		return transient("StorageMoveFailed", err, "could not move the rows into tracking.%s", table)
	}
	r.metrics.movePause.Observe(paused.Seconds())
	t.Status.Storage = v1alpha1.StorageDedicated
	r.event(t, corev1.EventTypeNormal, "StorageMoved", "MoveRows", "moved %d rows from the shared tree to tracking.%s; inserts waited %s", moved, table, paused.Round(time.Millisecond))
	return nil
}

func (r *TenantReconciler) moveToShared(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID, table string) error {
	cols, err := r.store.columns(ctx)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read tracking.activity_logs")
	}
	var moved int64
	var paused time.Duration
	err = r.store.withDDL(ctx, func(tx pgx.Tx) error {
		start := clock.Start()
		if _, err := tx.Exec(ctx, "LOCK TABLE "+qualified(rootTable)+" IN ACCESS EXCLUSIVE MODE"); err != nil {
			return err
		}
		months, err := r.store.dataMonths(ctx, tx, table, orgID)
		if err != nil {
			return err
		}
		for _, m := range months {
			if err := r.store.ensureMonth(ctx, tx, sharedTable, m); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", qualified(rootTable), qualified(table))); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s", qualified(sharedTable), cols, cols, qualified(table))); err != nil {
			return err
		}
		if moved, err = r.store.sameRows(ctx, tx, table, sharedTable, orgID); err != nil {
			return err
		}
		if err := r.store.dropTable(ctx, tx, table); err != nil {
			return err
		}
		paused = start.Elapsed()
		return nil
	})
	if err != nil {
		return transient("StorageMoveFailed", err, "could not move the rows of tracking.%s into the shared tree", table)
	}
	r.metrics.movePause.Observe(paused.Seconds())
	t.Status.Storage = v1alpha1.StorageShared
	r.event(t, corev1.EventTypeNormal, "StorageMoved", "MoveRows", "moved %d rows from tracking.%s to the shared tree; activity waited %s", moved, table, paused.Round(time.Millisecond))
	return nil
}

// sameRows checks that to holds exactly the rows of orgID that from holds
// and returns their number; the move is abandoned (rolled back) otherwise.
// A copy left by an earlier interrupted attempt may hold rows deleted
// since (retention): those are removed, and the counts compared again.
func (s *store) sameRows(ctx context.Context, tx pgx.Tx, from, to, orgID string) (int64, error) {
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

func (s *store) dropTable(ctx context.Context, tx pgx.Tx, table string) error {
	if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+qualified(table)); err != nil {
		return err
	}
	s.ddl("drop_table")
	return nil
}

// columns lists tracking.activity_logs' columns, so that copies name them
// rather than rely on column order.
func (s *store) columns(ctx context.Context) (string, error) {
	var cols string
	err := s.db.QueryRow(ctx, `
		SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
		WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`, qualified(rootTable)).Scan(&cols)
	return cols, err
}
