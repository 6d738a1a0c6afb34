package controller

import (
	"fmt"
	"slices"
	"testing"
	"time"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/test/testkit"
)

// At each of the calendar's edges the operator's partition step makes the
// months around the instant's UTC month, and its retention step drops
// exactly the months past retention. Months are UTC months whatever the
// tenant's zone, so the month of the tenant's local date must be among
// them too.
func TestPartitionsAndRetentionHoldAtEveryCalendarInstant(t *testing.T) {
	// The UTC month each instant falls in, and the month of its date in
	// the tenant's zone, spelled out rather than computed.
	months := map[string]struct{ utc, local string }{
		"the first day of a month":                             {"2027-06", "2027-06"},
		"the last day of a month":                              {"2027-04", "2027-04"},
		"31 December into 1 January":                           {"2026-12", "2026-12"},
		"New Year's Eve in New York, already 1 January in UTC": {"2027-01", "2026-12"},
		"29 February of a leap year":                           {"2028-02", "2028-02"},
		"the spring DST change in New York":                    {"2027-03", "2027-03"},
		"the autumn DST change in Berlin":                      {"2027-10", "2027-10"},
	}
	e := newParallelEnv(t)
	// One instant after the other: the operator's clock is the test's.
	for i, inst := range testkit.CalendarInstants() {
		t.Run(inst.Name, func(t *testing.T) {
			m, ok := months[inst.Name]
			if !ok {
				t.Fatalf("no expected months for the instant %q", inst.Name)
			}
			e.clock.Set(inst.At)
			name := fmt.Sprintf("calendar-%d", i)
			e.create(e.tenant(name, func(s *v1alpha1.WorkPulseTenantSpec) {
				s.Storage, s.TimeZone, s.RetentionMonths, s.PremakeMonths = v1alpha1.StorageDedicated, inst.Zone.String(), 3, 2
			}))
			parent := storage.DedicatedTable(e.waitReady(name).Status.OrganizationID)

			// Created and premade: the previous month, the current one and
			// two ahead.
			if got, want := e.months(parent), monthRange(t, parent, m.utc, -1, 2); !slices.Equal(got, want) {
				t.Errorf("after the partition step: months %v, want %v", got, want)
			}
			if local := monthRange(t, parent, m.local, 0, 0)[0]; !slices.Contains(e.months(parent), local) {
				t.Errorf("no partition for the tenant's local month %s (%s in %s)", local, inst.At.In(inst.Zone), inst.Zone)
			}

			// Retention: months from six back exist; retention 3 keeps the
			// current month and the two before it, and one more premade.
			for k := -6; k <= -2; k++ {
				if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)",
					parent, monthStart(t, m.utc, k)); err != nil {
					t.Fatal(err)
				}
			}
			e.update(name, func(s *v1alpha1.WorkPulseTenantSpec) { s.PremakeMonths = 3 })
			got := e.waitReady(name)
			if months, want := e.months(parent), monthRange(t, parent, m.utc, -2, 3); !slices.Equal(months, want) {
				t.Errorf("after the retention step: months %v, want %v", months, want)
			}
			if p := got.Status.Partitions; p.OldestMonth != monthName(t, m.utc, -2) || p.NewestMonth != monthName(t, m.utc, 3) || p.MonthsAhead != 3 {
				t.Errorf("status.partitions %+v", p)
			}
		})
	}
}

// monthStart is the first instant (UTC) of the month n months after ym
// ("2006-01").
func monthStart(t *testing.T, ym string, n int) time.Time {
	t.Helper()
	m, err := time.Parse("2006-01", ym)
	if err != nil {
		t.Fatal(err)
	}
	return time.Date(m.Year(), m.Month()+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
}

func monthName(t *testing.T, ym string, n int) string {
	t.Helper()
	return monthStart(t, ym, n).Format("2006-01")
}

// monthRange names parent's partitions from..to months after ym, in order.
func monthRange(t *testing.T, parent, ym string, from, to int) []string {
	t.Helper()
	var out []string
	for n := from; n <= to; n++ {
		out = append(out, parent+"_"+monthStart(t, ym, n).Format("2006_01"))
	}
	return out
}
