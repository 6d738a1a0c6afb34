package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

func TestRetentionAndPremakeChangesCreateAndDropMonths(t *testing.T) {
	e := newParallelEnv(t)
	e.create(e.tenant("retention", func(s *v1alpha1.WorkPulseTenantSpec) {
		s.Storage, s.RetentionMonths, s.PremakeMonths = v1alpha1.StorageDedicated, 24, 3
	}))
	org := e.waitReady("retention").Status.OrganizationID
	parent := storage.DedicatedTable(org)
	now := policy.MonthOf(e.clock.Now())
	// History: months -10..-2 exist, with rows at -10 and -2, and a month
	// made by hand whose name says 2020-01 but whose bounds hold month +7.
	for i := -10; i <= -2; i++ {
		if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)", parent, now.Add(i).Time); err != nil {
			t.Fatal(err)
		}
	}
	odd := parent + "_2020_01"
	if _, err := e.db.Owner.Exec(e.ctx, fmt.Sprintf("CREATE TABLE tracking.%s PARTITION OF tracking.%s FOR VALUES FROM ('%s') TO ('%s')",
		odd, parent, now.Add(7).Format(time.RFC3339), now.Add(8).Format(time.RFC3339))); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{now.Add(-10).Time.Add(time.Hour), now.Add(-2).Time.Add(time.Hour), now.Add(7).Time.Add(time.Hour)} {
		insertActivity(t, e, org, at)
	}

	e.update("retention", func(s *v1alpha1.WorkPulseTenantSpec) { s.RetentionMonths, s.PremakeMonths = 5, 4 })
	got := e.waitReady("retention")
	months := e.months(parent)
	for _, m := range partitionNames(parent, now.Time, -4, 4) {
		if !slices.Contains(months, m) {
			t.Errorf("month %s is missing: %v", m, months)
		}
	}
	for _, m := range partitionNames(parent, now.Time, -10, -5) {
		if slices.Contains(months, m) {
			t.Errorf("month %s past retention was kept", m)
		}
	}
	if !slices.Contains(months, odd) {
		t.Errorf("%s holds a row within retention and was dropped", odd)
	}
	if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org); n != 2 {
		t.Errorf("%d rows left, want the 2 within retention", n)
	}
	if p := got.Status.Partitions; p.MonthsAhead != 4 || p.NewestMonth != now.Add(4).String() {
		t.Errorf("status.partitions %+v", p)
	}

	t.Run("The shared tree follows the operator's settings.", func(t *testing.T) {
		for i := -20; i <= -14; i++ {
			if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)", storage.SharedTable, now.Add(i).Time); err != nil {
				t.Fatal(err)
			}
		}
		e.create(e.tenant("shared", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageShared }))
		e.waitReady("shared")
		months := e.months(storage.SharedTable)
		// Retention 13: the current month and the 12 before it.
		for _, m := range partitionNames(storage.SharedTable, now.Time, -20, -13) {
			if slices.Contains(months, m) {
				t.Errorf("shared month %s past retention was kept", m)
			}
		}
		if !isSubset(partitionNames(storage.SharedTable, now.Time, -1, 3), months) {
			t.Errorf("shared months %v", months)
		}
	})
}
