package policy_test

import (
	"slices"
	"testing"
	"time"

	"github.com/workpulse/workpulse/operator/internal/policy"
)

func TestPartitionPlanDecidesWhichMonthsExist(t *testing.T) {
	now := time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC)
	names := func(ms []policy.Month) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.String())
		}
		slices.Sort(out)
		return out
	}
	existing := func(ms ...string) map[policy.Month]string {
		out := map[policy.Month]string{}
		for _, s := range ms {
			m, _ := time.Parse("2006-01", s)
			out[policy.Month{Time: m}] = "p_" + s
		}
		return out
	}
	cases := []struct {
		name              string
		plan              policy.Plan
		existing          map[policy.Month]string
		missing, expired  []string
		ahead, wantMonths int32
	}{
		{"A new tree gets the previous month, the current one and premake ahead, across a year boundary.",
			policy.Plan{Retention: 12, Premake: 3}, existing(),
			[]string{"2025-12", "2026-01", "2026-02", "2026-03", "2026-04"}, nil, 0, 0},
		{"With a retention of one month the previous month is not created.",
			policy.Plan{Retention: 1, Premake: 1}, existing(),
			[]string{"2026-01", "2026-02"}, nil, 0, 0},
		{"Months older than the current one and the retention-1 months before it expire.",
			policy.Plan{Retention: 3, Premake: 1}, existing("2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"),
			nil, []string{"2025-09", "2025-10"}, 1, 6},
		{"A tree that is up to date needs nothing.",
			policy.Plan{Retention: 2, Premake: 2}, existing("2025-12", "2026-01", "2026-02", "2026-03"),
			nil, nil, 2, 4},
		{"A gap ahead counts as the end of the months ahead.",
			policy.Plan{Retention: 2, Premake: 3}, existing("2025-12", "2026-01", "2026-02", "2026-04"),
			[]string{"2026-03"}, nil, 1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			missing, expired := tc.plan.Diff(tc.existing, now)
			if got := names(missing); !slices.Equal(got, tc.missing) {
				t.Errorf("missing %v, want %v", got, tc.missing)
			}
			if got := names(expired); !slices.Equal(got, tc.expired) {
				t.Errorf("expired %v, want %v", got, tc.expired)
			}
			st := policy.Status("tracking.p", tc.existing, policy.MonthOf(now))
			if st.MonthsAhead != tc.ahead || st.Months != tc.wantMonths || st.Table != "tracking.p" {
				t.Errorf("status %+v, want %d ahead of %d", st, tc.ahead, tc.wantMonths)
			}
		})
	}
}

func TestRetentionKeepsWholeLocalMonthsInTheUTCMonthsHoldingThem(t *testing.T) {
	auckland, ny, berlin := zone(t, "Pacific/Auckland"), zone(t, "America/New_York"), zone(t, "Europe/Berlin")
	cases := []struct {
		name      string
		zone      *time.Location
		now       time.Time
		retention int
		keepFrom  time.Time
		cutoff    string
	}{
		{"Without a zone the kept months are UTC months.",
			nil, time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), 3, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), "2027-03"},
		{"West of UTC the oldest local month starts inside its own UTC month.",
			ny, time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), 3, time.Date(2027, 3, 1, 5, 0, 0, 0, time.UTC), "2027-03"},
		{"On the evening of 31 May in New York, already June in UTC, May is still the current month, so March is kept.",
			ny, time.Date(2027, 6, 1, 2, 0, 0, 0, time.UTC), 3, time.Date(2027, 3, 1, 5, 0, 0, 0, time.UTC), "2027-03"},
		{"In Berlin in summer time the oldest local month starts on the last evening of the UTC month before.",
			berlin, time.Date(2027, 10, 31, 1, 30, 0, 0, time.UTC), 3, time.Date(2027, 7, 31, 22, 0, 0, 0, time.UTC), "2027-07"},
		{"In Auckland in summer time 1 November 00:00 is 31 October 11:00 UTC, so October is kept.",
			auckland, time.Date(2028, 2, 10, 12, 0, 0, 0, time.UTC), 4, time.Date(2027, 10, 31, 11, 0, 0, 0, time.UTC), "2027-10"},
		{"In Auckland in winter time 1 June 00:00 is 31 May 12:00 UTC, so May is kept.",
			auckland, time.Date(2027, 8, 1, 0, 0, 0, 0, time.UTC), 3, time.Date(2027, 5, 31, 12, 0, 0, 0, time.UTC), "2027-05"},
		{"A retention of one month in Auckland across New Year keeps the December holding 1 January's first hours.",
			auckland, time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC), 1, time.Date(2026, 12, 31, 11, 0, 0, 0, time.UTC), "2026-12"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plan := policy.Plan{Retention: tc.retention, Zone: tc.zone}
			if got := plan.KeepFrom(tc.now); !got.Equal(tc.keepFrom) {
				t.Errorf("kept from %s, want %s", got.UTC(), tc.keepFrom)
			}
			if got := plan.Cutoff(tc.now).String(); got != tc.cutoff {
				t.Errorf("cutoff %s, want %s", got, tc.cutoff)
			}
		})
	}
}

func TestAMonthIsTheUTCMonthOfAnInstant(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		at        time.Time
		month     string
		partition string
	}{
		{"The last second of a year is in December.", time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "2026-12", "p_2026_12"},
		{"New Year's Eve evening in New York is already January in UTC.", time.Date(2026, 12, 31, 22, 0, 0, 0, ny), "2027-01", "p_2027_01"},
		{"A leap day is in February.", time.Date(2028, 2, 29, 12, 0, 0, 0, time.UTC), "2028-02", "p_2028_02"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := policy.MonthOf(tc.at)
			if m.String() != tc.month || m.Partition("p") != tc.partition || m.Location() != time.UTC || m.Day() != 1 || m.Hour() != 0 {
				t.Errorf("MonthOf(%s) = %s (%s), want %s", tc.at, m.Time, m.Partition("p"), tc.month)
			}
		})
	}
}

func TestTheSharedTreeKeepsTheEarliestOldestLocalMonthOfItsZones(t *testing.T) {
	day := 24 * time.Hour
	auckland, ny, berlin := zone(t, "Pacific/Auckland"), zone(t, "America/New_York"), zone(t, "Europe/Berlin")
	cases := []struct {
		name      string
		now       time.Time
		retention int
		window    time.Duration
		zones     []*time.Location
		keepFrom  time.Time
		cutoff    string
	}{
		{"Organizations in UTC keep the UTC months of retention.",
			time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), 13, 30 * day, nil, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), "2026-05"},
		{"New York mid-month changes nothing: its oldest month starts inside the same UTC month.",
			time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), 13, 30 * day, []*time.Location{ny}, time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), "2026-05"},
		{"New York on the evening of 31 May, already June in UTC, still keeps May a year back.",
			time.Date(2027, 6, 1, 2, 0, 0, 0, time.UTC), 13, 30 * day, []*time.Location{ny}, time.Date(2026, 5, 1, 4, 0, 0, 0, time.UTC), "2026-05"},
		{"Berlin's oldest month starts on the evening before it in UTC, so that UTC month is kept.",
			time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), 13, 30 * day, []*time.Location{berlin}, time.Date(2026, 4, 30, 22, 0, 0, 0, time.UTC), "2026-04"},
		{"Auckland's oldest month starts at noon on the last day of the UTC month before, so that month is kept.",
			time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), 13, 30 * day, []*time.Location{ny, auckland, berlin}, time.Date(2026, 4, 30, 12, 0, 0, 0, time.UTC), "2026-04"},
		{"A window reaching past retention keeps every month it accepts, in the earliest zone.",
			time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), 2, 90 * day, []*time.Location{auckland}, time.Date(2027, 1, 31, 11, 0, 0, 0, time.UTC), "2027-01"},
		{"A window ending exactly at a UTC month's start keeps that month.",
			time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC), 1, 28 * day, nil, time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC), "2027-02"},
		{"The widest window, 366 days, on the first of January reaches the December before last.",
			time.Date(2028, 1, 1, 0, 30, 0, 0, time.UTC), 1, 366 * day, nil, time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), "2026-12"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := policy.SharedKeepFrom(tc.now, tc.retention, tc.window, tc.zones)
			if !got.Equal(tc.keepFrom) {
				t.Errorf("kept from %s, want %s", got.UTC(), tc.keepFrom)
			}
			if m := policy.MonthOf(got).String(); m != tc.cutoff {
				t.Errorf("cutoff %s, want %s", m, tc.cutoff)
			}
		})
	}
}

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}
