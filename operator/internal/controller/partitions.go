package controller

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
)

// partitionPlan says which months a partition tree keeps.
type partitionPlan struct {
	parent    string
	premake   int
	retention int
}

// plan is the tree the tenant's rows live in: its own for a Dedicated
// tenant, the shared one (with the operator's settings) otherwise.
func (r *TenantReconciler) plan(t *v1alpha1.WorkPulseTenant) partitionPlan {
	if t.Spec.Storage == v1alpha1.StorageDedicated {
		return partitionPlan{parent: dedicatedTable(t.Status.OrganizationID), premake: int(t.Spec.PremakeMonths), retention: int(t.Spec.RetentionMonths)}
	}
	return partitionPlan{parent: sharedTable, premake: r.Config.SharedPremakeMonths, retention: r.Config.SharedRetentionMonths}
}

// cutoff is the oldest month kept: the current month and the
// retention-1 before it.
func (p partitionPlan) cutoff(now month) month { return now.add(-(p.retention - 1)) }

// wanted are the months that must exist: the previous month (so that late
// uploads from offline clients find it) when retention keeps it, the
// current one and premake months ahead.
func (p partitionPlan) wanted(now month) []month {
	first := now
	if p.retention > 1 {
		first = now.add(-1)
	}
	var out []month
	for m := first; !m.After(now.add(p.premake).Time); m = m.add(1) {
		out = append(out, m)
	}
	return out
}

// diff returns the wanted months that are missing and the existing months
// older than retention.
func (p partitionPlan) diff(existing map[month]string, now month) (missing, expired []month) {
	for _, m := range p.wanted(now) {
		if _, ok := existing[m]; !ok {
			missing = append(missing, m)
		}
	}
	for m := range existing {
		if m.Before(p.cutoff(now).Time) {
			expired = append(expired, m)
		}
	}
	slices.SortFunc(expired, func(a, b month) int { return a.Compare(b.Time) })
	return missing, expired
}

// reconcilePartitions puts the tenant's rows in the tree its spec asks for
// and keeps that tree's months: premake ahead, none past retention. A
// steady-state pass only reads the catalog.
func (r *TenantReconciler) reconcilePartitions(ctx context.Context, t *v1alpha1.WorkPulseTenant) error {
	if err := r.reconcileStorage(ctx, t); err != nil {
		return err
	}
	plan := r.plan(t)
	now := monthOf(r.clock.Now())
	existing, err := r.store.monthPartitions(ctx, r.store.db, plan.parent)
	if err != nil {
		return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", plan.parent)
	}
	if missing, expired := plan.diff(existing, now); len(missing)+len(expired) > 0 {
		var created, dropped, kept []month
		err := r.store.withDDL(ctx, func(tx pgx.Tx) error {
			// Another replica may have done the work while this one waited
			// for the lock: decide again from what is there now.
			created, dropped, kept = nil, nil, nil
			existing, err := r.store.monthPartitions(ctx, tx, plan.parent)
			if err != nil {
				return err
			}
			missing, expired := plan.diff(existing, now)
			for _, m := range missing {
				if err := r.store.ensureMonth(ctx, tx, plan.parent, m); err != nil {
					return err
				}
				created = append(created, m)
			}
			for _, m := range expired {
				ok, err := r.store.dropMonth(ctx, tx, plan.parent, existing[m], plan.cutoff(now))
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
			return transient("PartitionMaintenanceFailed", err, "could not create or drop month partitions of tracking.%s", plan.parent)
		}
		if len(created) > 0 {
			r.event(t, corev1.EventTypeNormal, "PartitionsCreated", "CreatePartitions", "created months %s of tracking.%s", monthList(created), plan.parent)
		}
		if len(dropped) > 0 {
			r.event(t, corev1.EventTypeNormal, "RetentionApplied", "DropPartitions", "detached and dropped months %s of tracking.%s (retention %d months)", monthList(dropped), plan.parent, plan.retention)
		}
		if len(kept) > 0 {
			r.event(t, corev1.EventTypeWarning, "RetentionSkipped", "DropPartitions", "kept months %s of tracking.%s past retention: they hold rows dated within retention", monthList(kept), plan.parent)
		}
		if existing, err = r.store.monthPartitions(ctx, r.store.db, plan.parent); err != nil {
			return transient("DatabaseUnavailable", err, "could not read the partitions of tracking.%s", plan.parent)
		}
	}
	st := partitionStatus(plan.parent, existing, now)
	t.Status.Partitions = st
	r.metrics.observePartitions(t, st)
	if st.MonthsAhead < int32(plan.premake) {
		return transient("MonthsMissing", nil, "tracking.%s has %d months ahead, %d wanted", plan.parent, st.MonthsAhead, plan.premake)
	}
	setCondition(t, v1alpha1.ConditionPartitionsReady, metav1.ConditionTrue, "PartitionsReady",
		fmt.Sprintf("%s storage: tracking.%s has months %s to %s (%d ahead, retention %d months)",
			t.Spec.Storage, plan.parent, st.OldestMonth, st.NewestMonth, st.MonthsAhead, plan.retention))
	return nil
}

// dropMonth detaches and drops a month partition past retention, unless
// it holds a row dated within retention: a partition made by hand with
// wider bounds, or rows moved in from elsewhere, are never lost to it.
func (s *store) dropMonth(ctx context.Context, tx pgx.Tx, parent, part string, cutoff month) (bool, error) {
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

func partitionStatus(parent string, existing map[month]string, now month) *v1alpha1.PartitionStatus {
	st := &v1alpha1.PartitionStatus{Table: schema + "." + parent, Months: int32(len(existing))}
	var oldest, newest month
	for m := range existing {
		if oldest.IsZero() || m.Before(oldest.Time) {
			oldest = m
		}
		if newest.IsZero() || m.After(newest.Time) {
			newest = m
		}
	}
	if len(existing) > 0 {
		st.OldestMonth, st.NewestMonth = oldest.String(), newest.String()
	}
	// Months ahead count only without a gap after the current month: a
	// missing month in between would refuse inserts just the same.
	for m := now.add(1); ; m = m.add(1) {
		if _, ok := existing[m]; !ok {
			break
		}
		st.MonthsAhead++
	}
	return st
}

func monthList(ms []month) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.String()
	}
	return strings.Join(s, ", ")
}
