package controller

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
)

// plan is the tree the tenant's rows live in: its own for a Dedicated
// tenant, the shared one (with the operator's settings) otherwise.
func (r *TenantReconciler) plan(t *v1alpha1.WorkPulseTenant) policy.Plan {
	if t.Spec.Storage == v1alpha1.StorageDedicated {
		return policy.Plan{Parent: dedicatedTable(t.Status.OrganizationID), Premake: int(t.Spec.PremakeMonths), Retention: int(t.Spec.RetentionMonths)}
	}
	return policy.Plan{Parent: sharedTable, Premake: r.Config.SharedPremakeMonths, Retention: r.Config.SharedRetentionMonths}
}

// reconcilePartitions puts the tenant's rows in the tree its spec asks for
// and keeps that tree's months: premake ahead, none past retention. A
// steady-state pass only reads the catalog.
func (r *TenantReconciler) reconcilePartitions(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	if err := r.reconcileStorage(ctx, t); err != nil {
		return err
	}
	plan := r.plan(t)
	now := policy.MonthOf(r.clock.Now())
	existing, err := r.store.monthPartitions(ctx, r.store.db, plan.Parent)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", plan.Parent)
	}
	if missing, expired := plan.Diff(existing, now); len(missing)+len(expired) > 0 {
		var created, dropped, kept []policy.Month
		err := r.store.withDDL(ctx, func(tx pgx.Tx) error {
			// Another replica may have done the work while this one waited
			// for the lock: decide again from what is there now.
			created, dropped, kept = nil, nil, nil
			existing, err := r.store.monthPartitions(ctx, tx, plan.Parent)
			if err != nil {
				return err
			}
			missing, expired := plan.Diff(existing, now)
			for _, m := range missing {
				if err := r.store.ensureMonth(ctx, tx, plan.Parent, m); err != nil {
					return err
				}
				created = append(created, m)
			}
			for _, m := range expired {
				ok, err := r.store.dropMonth(ctx, tx, plan.Parent, existing[m], plan.Cutoff(now))
				if err != nil {
					return err
				}
				if ok {
					dropped = append(dropped, m)
				} else {
					kept = append(kept, m)
				}
			}
			return nil
		})
		if err != nil {
			return transient("PartitionMaintenanceFailed", err, "could not create or drop month partitions of tracking.%s", plan.Parent)
		}
		if len(created) > 0 {
			r.event(t, corev1.EventTypeNormal, "PartitionsCreated", "CreatePartitions", "created months %s of tracking.%s", monthList(created), plan.Parent)
		}
		if len(dropped) > 0 {
			r.event(t, corev1.EventTypeNormal, "RetentionApplied", "DropPartitions", "detached and dropped months %s of tracking.%s (retention %d months)", monthList(dropped), plan.Parent, plan.Retention)
		}
		if len(kept) > 0 {
			r.event(t, corev1.EventTypeWarning, "RetentionSkipped", "DropPartitions", "kept months %s of tracking.%s past retention: they hold rows dated within retention", monthList(kept), plan.Parent)
		}
		if existing, err = r.store.monthPartitions(ctx, r.store.db, plan.Parent); err != nil {
			return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", plan.Parent)
		}
	}
	st := policy.Status(schema+"."+plan.Parent, existing, now)
	t.Status.Partitions = st
	r.metrics.observePartitions(t, st)
	if st.MonthsAhead < int32(plan.Premake) {
		return transient("MonthsMissing", nil, "tracking.%s has %d months ahead, %d wanted", plan.Parent, st.MonthsAhead, plan.Premake)
	}
	setCondition(t, v1alpha1.ConditionPartitionsReady, metav1.ConditionTrue, "PartitionsReady",
		fmt.Sprintf("%s storage: tracking.%s has months %s to %s (%d ahead, retention %d months)",
			t.Spec.Storage, plan.Parent, st.OldestMonth, st.NewestMonth, st.MonthsAhead, plan.Retention))
	return nil
}

// dropMonth detaches and drops a month partition past retention, unless
// it holds a row dated within retention: a partition made by hand with
// wider bounds, or rows moved in from elsewhere, are never lost to it.
func (s *store) dropMonth(ctx context.Context, tx pgx.Tx, parent, part string, cutoff policy.Month) (bool, error) {
	var recent bool
	if err := tx.QueryRow(ctx, fmt.Sprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE occurred_at >= $1)", qualified(part)), cutoff.Time).Scan(&recent); err != nil {
		return false, err
	}
	if recent {
		return false, nil
	}
	if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", qualified(parent), qualified(part))); err != nil {
		return false, err
	}
	if _, err := tx.Exec(ctx, "DROP TABLE "+qualified(part)); err != nil {
		return false, err
	}
	s.ddl("drop_month")
	return true, nil
}

func monthList(ms []policy.Month) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}
