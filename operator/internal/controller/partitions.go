package controller

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

// plan is the tree the tenant's rows live in: its own for a Dedicated
// tenant, the shared one (with the operator's settings) otherwise.
func (r *TenantReconciler) plan(t *v1alpha1.WorkPulseTenant) policy.Plan {
	if t.Spec.Storage == v1alpha1.StorageDedicated {
		return policy.Plan{Parent: storage.DedicatedTable(t.Status.OrganizationID), Premake: int(t.Spec.PremakeMonths), Retention: int(t.Spec.RetentionMonths)}
	}
	return policy.Plan{Parent: storage.SharedTable, Premake: r.Config.SharedPremakeMonths, Retention: r.Config.SharedRetentionMonths}
}

// reconcilePartitions puts the tenant's rows in the tree its spec asks for
// and keeps that tree's months: premake ahead, none past retention. A
// steady-state pass only reads the catalog.
func (r *TenantReconciler) reconcilePartitions(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	if err := r.reconcileStorage(ctx, t); err != nil {
		return err
	}
	plan := r.plan(t)
	now := policy.MonthOf(r.Clock.Now())
	existing, err := r.store.Months(ctx, plan.Parent)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", plan.Parent)
	}
	if missing, expired := plan.Diff(existing, now); len(missing)+len(expired) > 0 {
		done, err := r.store.MaintainMonths(ctx, plan, now)
		if err != nil {
			return transient("PartitionMaintenanceFailed", err, "could not create or drop month partitions of tracking.%s", plan.Parent)
		}
		if len(done.Created) > 0 {
			r.event(t, corev1.EventTypeNormal, "PartitionsCreated", "CreatePartitions", "created months %s of tracking.%s", monthList(done.Created), plan.Parent)
		}
		if len(done.Dropped) > 0 {
			r.event(t, corev1.EventTypeNormal, "RetentionApplied", "DropPartitions", "detached and dropped months %s of tracking.%s (retention %d months)", monthList(done.Dropped), plan.Parent, plan.Retention)
		}
		if len(done.Kept) > 0 {
			r.event(t, corev1.EventTypeWarning, "RetentionSkipped", "DropPartitions", "kept months %s of tracking.%s past retention: they hold rows dated within retention", monthList(done.Kept), plan.Parent)
		}
		if existing, err = r.store.Months(ctx, plan.Parent); err != nil {
			return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", plan.Parent)
		}
	}
	st := policy.Status(storage.Schema+"."+plan.Parent, existing, now)
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

func monthList(ms []policy.Month) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}
