package controller

import (
	"context"
	"time"

	"github.com/google/uuid"
	corev1 "k8s.io/api/core/v1"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

// reconcileStorage moves the tenant's rows when spec.storage changed;
// package storage says how each move keeps every row and how long
// inserts wait for it.
func (r *TenantReconciler) reconcileStorage(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	orgID := t.Status.OrganizationID
	table := storage.DedicatedTable(orgID)
	exists, attached, err := r.store.TableState(ctx, table)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read the catalog")
	}
	switch policy.NextStorageStep(t.Spec.Storage, exists, attached) {
	case policy.StorageInPlace:
		t.Status.Storage = t.Spec.Storage
		return nil
	case policy.MoveToDedicated:
		return r.moveToDedicated(ctx, t, orgID, table)
	case policy.DropUnfinishedCopy:
		// The rows are still in the shared tree.
		if err := r.store.DropUnfinishedCopy(ctx, orgID); err != nil {
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
	plan, err := dedicatedPlan(t)
	if err != nil {
		return err
	}
	if err := r.store.CreateDedicated(ctx, orgID, plan.Wanted(policy.MonthOf(r.Clock.Now()))); err != nil {
		return transient("StorageMoveFailed", err, "could not create tracking.%s", table)
	}
	if err := r.store.CopyToDedicated(ctx, orgID); err != nil {
		return transient("StorageMoveFailed", err, "could not copy the rows into tracking.%s", table)
	}
	moved, paused, err := r.store.AttachDedicated(ctx, orgID)
	if err != nil {
		return transient("StorageMoveFailed", err, "could not move the rows into tracking.%s", table)
	}
	r.metrics.movePause.Observe(paused.Seconds())
	t.Status.Storage = v1alpha1.StorageDedicated
	r.event(t, corev1.EventTypeNormal, "StorageMoved", "MoveRows", "moved %d rows from the shared tree to tracking.%s; inserts waited %s", moved, table, paused.Round(time.Millisecond))
	return nil
}

func (r *TenantReconciler) moveToShared(ctx context.Context, t *v1alpha1.WorkPulseTenant, orgID, table string) error {
	moved, paused, err := r.store.MoveToShared(ctx, orgID)
	if err != nil {
		return transient("StorageMoveFailed", err, "could not move the rows of tracking.%s into the shared tree", table)
	}
	r.metrics.movePause.Observe(paused.Seconds())
	t.Status.Storage = v1alpha1.StorageShared
	r.event(t, corev1.EventTypeNormal, "StorageMoved", "MoveRows", "moved %d rows from tracking.%s to the shared tree; activity waited %s", moved, table, paused.Round(time.Millisecond))
	return nil
}
