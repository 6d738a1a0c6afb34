package storage_test

import (
	"testing"
	"time"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/test/testkit"
)

func months(ss ...string) []storage.Month {
	out := make([]storage.Month, len(ss))
	for i, s := range ss {
		t, err := time.Parse("2006-01", s)
		if err != nil {
			panic(err)
		}
		out[i] = storage.Month{Time: t}
	}
	return out
}

func TestTheMonthsWantedReachBackToTheWindowAndPremakeAhead(t *testing.T) {
	def := storage.Policy{Premake: storage.DefaultPremake, Window: storage.Window(storage.DefaultWindowDays)}
	want := map[string][]storage.Month{
		// 30 days back from 1 June 00:30 is 2 May.
		"the first day of a month": months("2027-05", "2027-06", "2027-07", "2027-08", "2027-09", "2027-10"),
		// 30 days back from 30 April 23:30 is 31 March 23:30.
		"the last day of a month":    months("2027-03", "2027-04", "2027-05", "2027-06", "2027-07", "2027-08"),
		"31 December into 1 January": months("2026-12", "2027-01", "2027-02", "2027-03", "2027-04"),
		// Already 1 January in UTC: the months are UTC months.
		"New Year's Eve in New York, already 1 January in UTC": months("2026-12", "2027-01", "2027-02", "2027-03", "2027-04", "2027-05"),
		// 30 days back from 29 February 2028 is 30 January.
		"29 February of a leap year":        months("2028-01", "2028-02", "2028-03", "2028-04", "2028-05", "2028-06"),
		"the spring DST change in New York": months("2027-02", "2027-03", "2027-04", "2027-05", "2027-06", "2027-07"),
		"the autumn DST change in Berlin":   months("2027-10", "2027-11", "2027-12", "2028-01", "2028-02"),
	}
	for _, in := range testkit.CalendarInstants() {
		t.Run(in.Name, func(t *testing.T) {
			w, ok := want[in.Name]
			if !ok {
				t.Fatalf("no expectation for %q", in.Name)
			}
			if got := def.Months(in.At); !equal(got, w) {
				t.Errorf("Months(%s) = %v, want %v", in.At, got, w)
			}
		})
	}
}

func TestAWiderWindowOrLessPremakeChangesOnlyItsEnd(t *testing.T) {
	now := time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		policy storage.Policy
		want   []storage.Month
	}{
		{"a window of a year reaches the same month a year back",
			storage.Policy{Premake: 1, Window: storage.Window(366)}, months("2027-02", "2027-03", "2027-04", "2027-05", "2027-06", "2027-07", "2027-08",
				"2027-09", "2027-10", "2027-11", "2027-12", "2028-01", "2028-02", "2028-03")},
		{"a window of one day on a month's 29th keeps the month alone behind",
			storage.Policy{Premake: 2, Window: storage.Window(1)}, months("2028-02", "2028-03", "2028-04")},
		{"the accepted window's first instant decides its month", storage.Policy{Premake: 1, Window: 29*24*time.Hour - time.Second},
			months("2028-01", "2028-02", "2028-03")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.policy.Months(now); !equal(got, tt.want) {
				t.Errorf("Months = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMissingMonthsAndMonthsAheadReadTheExistingTree(t *testing.T) {
	now := time.Date(2026, 12, 31, 23, 59, 30, 0, time.UTC)
	have := func(ms ...storage.Month) map[storage.Month]string {
		out := map[storage.Month]string{}
		for _, m := range ms {
			out[m] = m.Partition(storage.SharedTree)
		}
		return out
	}
	wanted := months("2026-11", "2026-12", "2027-01", "2027-02")
	tests := []struct {
		name     string
		existing map[storage.Month]string
		missing  []storage.Month
		ahead    int
	}{
		{"an empty tree misses every month and has none ahead", have(), wanted, 0},
		{"a complete tree misses none", have(wanted...), nil, 2},
		{"a gap after the current month stops the months ahead there",
			have(months("2026-11", "2026-12", "2027-02", "2027-03")...), months("2027-01"), 0},
		{"yesterday's month gone is missing though the future is complete",
			have(months("2026-12", "2027-01", "2027-02")...), months("2026-11"), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := storage.Missing(wanted, tt.existing); !equal(got, tt.missing) {
				t.Errorf("storage.Missing = %v, want %v", got, tt.missing)
			}
			if got := storage.MonthsAhead(tt.existing, now); got != tt.ahead {
				t.Errorf("storage.MonthsAhead = %d, want %d", got, tt.ahead)
			}
		})
	}
}

func TestAMonthIsNamedAndBoundedInUTC(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	m := storage.MonthOf(time.Date(2026, 12, 31, 22, 0, 0, 0, ny)) // 1 January 03:00 UTC
	if m.String() != "2027-01" || m.Partition(storage.SharedTree) != "activity_logs_shared_2027_01" || m.Add(-1).String() != "2026-12" {
		t.Errorf("month %v, partition %s, previous %v", m, m.Partition(storage.SharedTree), m.Add(-1))
	}
}

func equal(a, b []storage.Month) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !a[i].Equal(b[i].Time) {
			return false
		}
	}
	return true
}
