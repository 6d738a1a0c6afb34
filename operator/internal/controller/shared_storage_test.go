package controller

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	activity "github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/test/testkit"
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

func TestTheSharedPassKeepsTheUTCMonthHoldingTheOldestLocalDayOfItsOrganizations(t *testing.T) {
	t.Parallel()
	// 14 May 2027 with the installation's 13 months: local May 2026 is the
	// oldest kept month. In Auckland it begins on 30 April 12:00 UTC.
	now := time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name, zone  string
		keptApril   bool
		leftInApril int64
	}{
		{"An organization in UTC lets April go.", "UTC", false, 0},
		{"An organization in Auckland keeps April, which holds the first hours of its 1 May, and loses only its 30 April.", "Pacific/Auckland", true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := testkit.NewDB(t)
			ctx := context.Background()
			org := uuid.NewString()
			if _, err := db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name, time_zone) VALUES ($1, 'Shared', $2)", org, c.zone); err != nil {
				t.Fatal(err)
			}
			for _, at := range []time.Time{
				time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC),
				time.Date(2026, 4, 30, 11, 0, 0, 0, time.UTC), // 23:00 on 30 April in Auckland
				time.Date(2026, 4, 30, 13, 0, 0, 0, time.UTC), // 01:00 on 1 May in Auckland
			} {
				if _, err := db.Owner.Exec(ctx, "SELECT tracking.ensure_month_partition($1, $2::date)", storage.SharedTable, at); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Owner.Exec(ctx, `INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
					VALUES (gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), $2, 'active', 30)`, org, at); err != nil {
					t.Fatal(err)
				}
			}
			cfg := Config{Storage: activity.Policy{Premake: 1, Window: activity.Window(30), Retention: 13}}
			s := NewSharedStorage(cfg, db.Pool(t, testkit.Roles.Name("operator")), testkit.NewClock(now))
			p, err := s.Pass(ctx)
			if err != nil {
				t.Fatal(err)
			}
			april := policy.MonthOf(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC))
			if got := slices.Contains(p.Dropped, april); got == c.keptApril || !slices.Contains(p.Dropped, april.Add(-1)) {
				t.Errorf("dropped %v: want March dropped and April kept %t", monthList(p.Dropped), c.keptApril)
			}
			var left int64
			if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1 AND occurred_at < '2026-05-01Z'", org).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left != c.leftInApril {
				t.Errorf("%d activities left before May (UTC), want %d", left, c.leftInApril)
			}
		})
	}
}
