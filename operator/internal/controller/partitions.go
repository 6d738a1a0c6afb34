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

// dedicatedPlan is the plan of a Dedicated tenant's own tree, from its spec.
func dedicatedPlan(t *v1alpha1.WorkPulseTenant) (policy.Plan, error) {
	zone, err := tenantZone(t)
	if err != nil {
		return policy.Plan{}, err
	}
	return policy.Plan{Parent: storage.DedicatedTable(t.Status.OrganizationID), Premake: int(t.Spec.PremakeMonths), Retention: int(t.Spec.RetentionMonths), Zone: zone}, nil
}

// reconcilePartitions puts the tenant's rows in the tree its spec asks for
// and keeps that tree's months: premake ahead, none past retention. A
// steady-state pass only reads the catalog.
func (r *TenantReconciler) reconcilePartitions(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	if err := r.reconcileStorage(ctx, t); err != nil {
		return err
	}
	if t.Spec.Storage != v1alpha1.StorageDedicated {
		return r.reconcileSharedPartitions(ctx, t)
	}
	plan, err := dedicatedPlan(t)
	if err != nil {
		return err
	}
	now := r.Clock.Now()
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
	return r.partitionsStatus(t, plan.Parent, existing, policy.MonthOf(now), plan.Premake, plan.Retention)
}

// reconcileSharedPartitions keeps the shared tree through the one
// install-wide pass (SharedStorage), run here too when the tree lacks a
// month or holds one past retention, so that a new Shared tenant need not
// wait for the next scheduled pass.
func (r *TenantReconciler) reconcileSharedPartitions(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	parent, now := storage.SharedTable, r.Clock.Now()
	existing, err := r.store.Months(ctx, parent)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", parent)
	}
	missing := false
	for _, m := range r.Config.Storage.Months(now) {
		if _, ok := existing[policy.Month(m)]; !ok {
			missing = true
		}
	}
	// The installation's window: an organization's longer one only ever
	// keeps more, which the pass decides from every organization's window.
	// The zones are those of the tree's organizations, as in the pass.
	keepFrom, err := r.shared.KeepFrom(ctx, r.Config.Storage.Window)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read the organizations of tracking.%s", parent)
	}
	if expired := policy.Expired(existing, policy.MonthOf(keepFrom)); missing || len(expired) > 0 {
		p, err := r.shared.Pass(ctx)
		if err != nil {
			return transient("PartitionMaintenanceFailed", err, "could not create or drop month partitions of tracking.%s", parent)
		}
		if len(p.Created) > 0 {
			created := make([]policy.Month, len(p.Created))
			for i, m := range p.Created {
				created[i] = policy.Month(m)
			}
			r.event(t, corev1.EventTypeNormal, "PartitionsCreated", "CreatePartitions", "created months %s of tracking.%s", monthList(created), parent)
		}
		if len(p.Dropped) > 0 {
			r.event(t, corev1.EventTypeNormal, "RetentionApplied", "DropPartitions", "detached and dropped months %s of tracking.%s (retention %d months)", monthList(p.Dropped), parent, r.Config.Storage.Retention)
		}
		if len(p.Kept) > 0 {
			r.event(t, corev1.EventTypeWarning, "RetentionSkipped", "DropPartitions", "kept months %s of tracking.%s past retention: they hold rows dated within retention", monthList(p.Kept), parent)
		}
		if existing, err = r.store.Months(ctx, parent); err != nil {
			return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", parent)
		}
	}
	return r.partitionsStatus(t, parent, existing, policy.MonthOf(now), r.Config.Storage.Premake, r.Config.Storage.Retention)
}

// partitionsStatus reports the months of parent on the tenant and its
// metrics, Ready once premake months exist ahead.
func (r *TenantReconciler) partitionsStatus(t *v1alpha1.WorkPulseTenant, parent string, existing map[policy.Month]string, now policy.Month, premake, retention int) error {
	st := policy.Status(storage.Schema+"."+parent, existing, now)
	t.Status.Partitions = st
	r.metrics.observePartitions(t, st)
	if st.MonthsAhead < int32(premake) {
		return transient("MonthsMissing", nil, "tracking.%s has %d months ahead, %d wanted", parent, st.MonthsAhead, premake)
	}
	setCondition(t, v1alpha1.ConditionPartitionsReady, metav1.ConditionTrue, "PartitionsReady",
		fmt.Sprintf("%s storage: tracking.%s has months %s to %s (%d ahead, retention %d months)",
			t.Spec.Storage, parent, st.OldestMonth, st.NewestMonth, st.MonthsAhead, retention))
	return nil
}

func monthList(ms []policy.Month) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}
