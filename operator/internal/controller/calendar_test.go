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
// them too; and retention keeps whole local months, so east of UTC the
// UTC month holding the first hours of the oldest kept local month stays.
func TestPartitionsAndRetentionHoldAtEveryCalendarInstant(t *testing.T) {
	// The UTC month each instant falls in, the month of its date in the
	// tenant's zone, and the oldest month retention 3 keeps, spelled out
	// rather than computed.
	months := map[string]struct{ utc, local, oldest string }{
		"the first day of a month":   {"2027-06", "2027-06", "2027-04"},
		"the last day of a month":    {"2027-04", "2027-04", "2027-02"},
		"31 December into 1 January": {"2026-12", "2026-12", "2026-10"},
		// Retention counts the tenant's local months: December is still
		// the current one, and local 1 October 00:00 is 04:00 UTC.
		"New Year's Eve in New York, already 1 January in UTC": {"2027-01", "2026-12", "2026-10"},
		"29 February of a leap year":                           {"2028-02", "2028-02", "2027-12"},
		"the spring DST change in New York":                    {"2027-03", "2027-03", "2027-01"},
		// Local 1 August 00:00 is 31 July 22:00 UTC.
		"the autumn DST change in Berlin": {"2027-10", "2027-10", "2027-07"},
		// Retention counts from the local month, February, as the
		// installation's retention pass does; local 1 December 00:00 is
		// 30 November 11:00 UTC.
		"1 February in Auckland, still 31 January in UTC": {"2027-01", "2027-02", "2026-11"},
		// Just after summer time ends; local 1 February 00:00 is 31
		// January 11:00 UTC.
		"the autumn DST change in Auckland": {"2027-04", "2027-04", "2027-01"},
	}
	auckland, err := time.LoadLocation("Pacific/Auckland")
	if err != nil {
		t.Fatal(err)
	}
	instants := append(testkit.CalendarInstants(),
		testkit.Instant{Name: "1 February in Auckland, still 31 January in UTC", At: time.Date(2027, 1, 31, 11, 30, 0, 0, time.UTC), Zone: auckland},
		testkit.Instant{Name: "the autumn DST change in Auckland", At: time.Date(2027, 4, 3, 14, 30, 0, 0, time.UTC), Zone: auckland})
	e := newParallelEnv(t)
	// One instant after the other: the operator's clock is the test's.
	for i, inst := range instants {
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
			// current month and the two local months before it, and one
			// more premade.
			for k := -6; k <= -2; k++ {
				if _, err := e.db.Owner.Exec(e.ctx, "SELECT tracking.ensure_month_partition($1, $2::date)",
					parent, monthStart(t, m.utc, k)); err != nil {
					t.Fatal(err)
				}
			}
			e.update(name, func(s *v1alpha1.WorkPulseTenantSpec) { s.PremakeMonths = 3 })
			got := e.waitReady(name)
			if months, want := e.months(parent), monthRange(t, parent, m.oldest, 0, monthsBetween(t, m.oldest, m.utc)+3); !slices.Equal(months, want) {
				t.Errorf("after the retention step: months %v, want %v", months, want)
			}
			if p := got.Status.Partitions; p.OldestMonth != m.oldest || p.NewestMonth != monthName(t, m.utc, 3) || p.MonthsAhead != 3 {
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

// monthsBetween is how many months to is after from ("2006-01").
func monthsBetween(t *testing.T, from, to string) int {
	t.Helper()
	a, b := monthStart(t, from, 0), monthStart(t, to, 0)
	return (b.Year()-a.Year())*12 + int(b.Month()-a.Month())
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
