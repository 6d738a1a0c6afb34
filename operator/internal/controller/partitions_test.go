package controller

import (
	"slices"
	"testing"
	"time"
)

func TestPartitionPlanDecidesWhichMonthsExist(t *testing.T) {
	now := monthOf(time.Date(2026, 1, 15, 10, 0, 0, 0, time.UTC))
	names := func(ms []month) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.String())
		}
		slices.Sort(out)
		return out
	}
	existing := func(ms ...string) map[month]string {
		out := map[month]string{}
		for _, s := range ms {
			m, _ := time.Parse("2006-01", s)
			out[month{m}] = "p_" + s
		}
		return out
	}
	cases := []struct {
		name              string
		plan              partitionPlan
		existing          map[month]string
		missing, expired  []string
		ahead, wantMonths int32
	}{
		{"A new tree gets the previous month, the current one and premake ahead, across a year boundary.",
			partitionPlan{retention: 12, premake: 3}, existing(),
			[]string{"2025-12", "2026-01", "2026-02", "2026-03", "2026-04"}, nil, 0, 0},
		{"With a retention of one month the previous month is not created.",
			partitionPlan{retention: 1, premake: 1}, existing(),
			[]string{"2026-01", "2026-02"}, nil, 0, 0},
		{"Months older than the current one and the retention-1 months before it expire.",
			partitionPlan{retention: 3, premake: 1}, existing("2025-09", "2025-10", "2025-11", "2025-12", "2026-01", "2026-02"),
			nil, []string{"2025-09", "2025-10"}, 1, 6},
		{"A tree that is up to date needs nothing.",
			partitionPlan{retention: 2, premake: 2}, existing("2025-12", "2026-01", "2026-02", "2026-03"),
			nil, nil, 2, 4},
		{"A gap ahead counts as the end of the months ahead.",
			partitionPlan{retention: 2, premake: 3}, existing("2025-12", "2026-01", "2026-02", "2026-04"),
			[]string{"2026-03"}, nil, 1, 4},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			missing, expired := tc.plan.diff(tc.existing, now)
			if got := names(missing); !slices.Equal(got, tc.missing) {
				t.Errorf("missing %v, want %v", got, tc.missing)
			}
			if got := names(expired); !slices.Equal(got, tc.expired) {
				t.Errorf("expired %v, want %v", got, tc.expired)
			}
			st := partitionStatus("p", tc.existing, now)
			if st.MonthsAhead != tc.ahead || st.Months != tc.wantMonths {
				t.Errorf("status %+v, want %d ahead of %d", st, tc.ahead, tc.wantMonths)
			}
		})
	}
}
