package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	activity "github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/storage"
)

func TestWithNoTenantsTheSharedTreeStaysFourMonthsAheadAsTheClockAdvances(t *testing.T) {
	e := newParallelEnv(t, func(c *Config) {
		c.Storage = activity.Policy{Premake: activity.DefaultPremake, Window: activity.Window(activity.DefaultWindowDays), Retention: 13}
	})
	// A row of a self-registered organization in an old month, outside the
	// window (the operator's first pass does not make it): retention drops
	// the month once it is past both retention and the window.
	old := policy.MonthOf(testInstant).Add(-3)
	if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)", storage.SharedTable, old.Time); err != nil {
		t.Fatal(err)
	}
	insertActivity(t, e, "00000000-0000-4000-8000-000000000001", old.Time.Add(time.Hour))

	// Fourteen months, one at a time, as a running installation lives them.
	for i := 0; i <= 14; i++ {
		now := testInstant.AddDate(0, i, 0)
		e.clock.Set(now)
		var wanted []string
		for _, m := range e.cfg.Storage.Months(now) {
			wanted = append(wanted, m.Partition(storage.SharedTable))
		}
		cutoff := policy.MonthOf(policy.SharedKeepFrom(now, e.cfg.Storage.Retention, e.cfg.Storage.Window, nil))
		e.eventually(30*time.Second, fmt.Sprintf("month %d (%s)", i, policy.MonthOf(now)), func() (bool, string) {
			months := e.months(storage.SharedTable)
			if !isSubset(wanted, months) {
				return false, fmt.Sprintf("months %v, want at least %v", months, wanted)
			}
			for _, m := range months {
				if m < cutoff.Partition(storage.SharedTable) {
					return false, fmt.Sprintf("month %s past retention (cutoff %s) is kept", m, cutoff)
				}
			}
			return true, ""
		})
		months := e.months(storage.SharedTable)
		if last := policy.MonthOf(now).Add(activity.DefaultPremake).Partition(storage.SharedTable); !slices.Contains(months, last) {
			t.Fatalf("month %d: %s missing from %v", i, last, months)
		}
	}
	if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs"); n != 0 {
		t.Errorf("%d rows left in months past retention", n)
	}
}
