package controller

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"

	"github.com/workpulse/workpulse/api/events"
	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/operator/internal/specs"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/report/job"
)

// TestAYearInTheLifeOfAWorkPulseTenant walks the operator's clock through
// 13 months over a Dedicated WorkPulseTenant in Pacific/Auckland (the
// self-registered organizations' year is the report service's year test)
// beside an organization without a tenant in the shared tree. The
// reconciler keeps the tenant's own tree on that clock (its months premade
// and retention), and the test stands in for the CronJob controller: each
// time the tenant's daily-summary CronJob fires on its schedule in its
// zone, that CronJob's container args run through the report's job entry
// point on the same clock, with the env the pod would get, followed by
// the install-wide daily-summary --due. Every simulated day the tenant
// posts live activity (from local 01:00, which is the UTC day before, and
// on the first of a month the UTC month before) and every fifth day an
// offline batch of the day before. Asserted: no insert ever fails, every day's summary kept equals
// the tenant's activity, retention leaves exactly the tenant's months it
// keeps, and nothing of the other organization is touched.
func TestAYearInTheLifeOfAWorkPulseTenant(t *testing.T) {
	e := newParallelEnv(t, func(c *Config) {
		// The reconciler looks at the clock again every resync; the
		// shared tree keeps two years, so that nothing of the other
		// organization is due.
		c.ResyncPeriod, c.Storage.Retention = 50*time.Millisecond, 24
	})
	const zone, retention, premake = "Pacific/Auckland", 4, 2
	auckland, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	first := time.Date(2027, 1, 10, 12, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 13, 0)
	e.clock.Set(first)
	updates := e.tenantUpdates()
	e.create(e.tenant("year", func(s *v1alpha1.WorkPulseTenantSpec) {
		s.Storage, s.TimeZone, s.RetentionMonths, s.PremakeMonths = v1alpha1.StorageDedicated, zone, retention, premake
	}))
	org := e.waitReady("year").Status.OrganizationID
	parent := storage.DedicatedTable(org)
	other, user, otherUser := uuid.NewString(), uuid.NewString(), uuid.NewString()
	// The services learn the tenant's settings from auth's tenant.updated;
	// no service consumes it in this suite, so the test stores what the
	// tracking and report consumers store of it, and the member.
	var settings events.TenantUpdated
	e.eventually(15*time.Second, "tenant.updated of the tenant", func() (bool, string) {
		for _, ev := range updates.all() {
			if ev.OrganizationID == org {
				settings = ev
				return true, ""
			}
		}
		return false, fmt.Sprintf("%d events, none of %s", len(updates.all()), org)
	})
	if settings.TimeZone != zone || settings.RetentionMonths != retention {
		t.Fatalf("tenant.updated carries time zone %q and retention %d months, want %s and %d", settings.TimeZone, settings.RetentionMonths, zone, retention)
	}
	for q, args := range map[string][]any{
		"INSERT INTO tracking.tenants (organization_id, time_zone, generation, retention_months) VALUES ($1, $2, $3, $4)":                   {org, settings.TimeZone, settings.Generation, settings.RetentionMonths},
		"INSERT INTO reporting.tenant_settings (organization_id, time_zone, generation) VALUES ($1, $2, $3)":                                {org, settings.TimeZone, settings.Generation},
		"INSERT INTO reporting.users (user_id, organization_id, email, name, role) VALUES ($1, $2, 'year@example.com', 'Year', 'employee')": {user, org},
	} {
		if _, err := e.db.Owner.Exec(e.ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}

	var posted, otherPosted []time.Time
	post := func(orgID, userID string, ats []time.Time, typ string) {
		t.Helper()
		rows := make([][]any, len(ats))
		for i, at := range ats {
			rows[i] = []any{uuid.New(), uuid.MustParse(orgID), uuid.MustParse(userID), uuid.MustParse(userID), at, typ, 60}
		}
		if _, err := e.db.Owner.CopyFrom(e.ctx, pgx.Identifier{"tracking", "activity_logs"},
			[]string{"id", "organization_id", "session_id", "user_id", "occurred_at", "activity_type", "duration_seconds"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatalf("on %s an insert inside the accepted window failed: %v", e.clock.Now(), err)
		}
	}

	summary := e.mustCronJob(specs.DailySummaryName(org))
	due := e.mustCronJob(specs.DueSummaryJob)
	sched, err := cron.ParseStandard("CRON_TZ=" + *summary.Spec.TimeZone + " " + summary.Spec.Schedule)
	if err != nil {
		t.Fatalf("the tenant's schedule %q: %v", summary.Spec.Schedule, err)
	}
	month := policy.MonthOf(first)
	e.waitMonths(parent, month, auckland, premake, retention)
	for n, fire := 0, sched.Next(first); fire.Before(last); n, fire = n+1, sched.Next(fire) {
		// The local day ending at fire: live heartbeats in its first
		// hours and through its afternoon, and every fifth day a batch
		// of the day before that an offline client uploads late.
		e.clock.Set(fire.Add(-2 * time.Hour))
		day := fire.Add(-24 * time.Hour)
		live := []time.Time{day.Add(13 * time.Hour), day.Add(14 * time.Hour), day.Add(15 * time.Hour), day.Add(time.Hour)}
		post(org, user, live, "active")
		posted = append(posted, live...)
		post(other, otherUser, live[:1], "active")
		otherPosted = append(otherPosted, live[0])
		if n%5 == 4 {
			late := []time.Time{day.Add(-14 * time.Hour), day.Add(-13*time.Hour - 30*time.Minute)}
			post(org, user, late, "idle")
			posted = append(posted, late...)
		}

		e.clock.Set(fire)
		if m := policy.MonthOf(fire); m != month {
			month = m
			e.waitMonths(parent, m, auckland, premake, retention)
		}
		for _, cj := range []*batchv1.CronJob{summary, due} {
			if out, err := e.runJob(cj); err != nil {
				t.Fatalf("%s: %s at %s: %v\n%s", zone, cj.Name, fire, err, out)
			}
		}
	}
	end := e.clock.Now()

	// The tenant's months: the walk ends in February 2028 (UTC), so
	// retention keeps from local 1 November 2027 00:00, which is 31
	// October 11:00 UTC: October and the months to February, and premake
	// the two after it.
	cutoff := time.Date(2027, 11, 1, 0, 0, 0, 0, auckland)
	if policy.MonthOf(end).String() != "2028-02" {
		t.Fatalf("the walk ended at %s, not in February 2028", end)
	}
	var want []string
	for m := policy.MonthOf(cutoff); !m.After(policy.MonthOf(end).Add(premake).Time); m = m.Add(1) {
		want = append(want, m.Partition(parent))
	}
	if got := e.months(parent); !slices.Equal(got, want) {
		t.Errorf("the tenant's months at the end: %v, want %v", got, want)
	}
	kept := 0
	for _, at := range posted {
		if !at.Before(cutoff) {
			kept++
		}
	}
	if left := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org); left != int64(kept) {
		t.Errorf("%d of the tenant's %d activities left, want %d (those since %s)", left, len(posted), kept, cutoff)
	}
	if left := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", other); left != int64(len(otherPosted)) {
		t.Errorf("%d of the other organization's %d activities left: the tenant's retention touched them", left, len(otherPosted))
	}

	if older := e.queryInt("SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1 AND date < ($2::timestamptz AT TIME ZONE $3)::date",
		org, cutoff, zone); older != 0 {
		t.Errorf("%d of the tenant's daily summaries are older than retention keeps (%s)", older, cutoff)
	}

	// Every ended local day since the cutoff has a summary equal to the
	// activity of that day.
	days := e.queryInt(`SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1 AND date >= ($2::timestamptz AT TIME ZONE $3)::date`,
		org, cutoff, zone)
	mismatched := e.queryInt(`WITH raw AS (
		SELECT (occurred_at AT TIME ZONE $2)::date AS date,
		       coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0) AS act,
		       coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) AS idl
		FROM tracking.activity_logs WHERE organization_id = $1 GROUP BY 1)
		SELECT count(*) FROM raw FULL JOIN (SELECT * FROM reporting.daily_summaries WHERE organization_id = $1) s USING (date)
		WHERE coalesce(raw.date, s.date) >= ($3::timestamptz AT TIME ZONE $2)::date
		  AND coalesce(raw.date, s.date) < ($4::timestamptz AT TIME ZONE $2)::date
		  AND (raw.act IS DISTINCT FROM s.active_seconds OR raw.idl IS DISTINCT FROM s.idle_seconds)`, org, zone, cutoff, end)
	if mismatched != 0 || days < 100 {
		t.Errorf("%s: %d of %d days' summaries since %s differ from the activity", zone, mismatched, days, cutoff)
	}
}

// waitMonths waits until the operator, on its clock now in month m, has
// made parent's months premake ahead of m and dropped those retention
// no longer keeps (before the UTC month holding the start of the local
// month retention-1 before m), and the shared tree has the month after m.
func (e *testEnv) waitMonths(parent string, m policy.Month, zone *time.Location, premake, retention int) {
	e.t.Helper()
	newest, shared := m.Add(premake).Partition(parent), m.Add(1).Partition(storage.SharedTable)
	oldest := policy.MonthOf(time.Date(m.Year(), m.Month()-time.Month(retention-1), 1, 0, 0, 0, 0, zone)).Partition(parent)
	e.eventually(30*time.Second, fmt.Sprintf("the months of %s", m), func() (bool, string) {
		got := e.months(parent)
		expired := slices.ContainsFunc(got, func(p string) bool { return p < oldest })
		return slices.Contains(got, newest) && !expired && slices.Contains(e.months(storage.SharedTable), shared),
			fmt.Sprintf("tenant months %v, shared has %s: %t", got, shared, slices.Contains(e.months(storage.SharedTable), shared))
	})
}

// runJob runs the CronJob's container as its pod would, in this process
// through the report's job entry point on the operator's clock.
func (e *testEnv) runJob(cj *batchv1.CronJob) ([]byte, error) {
	e.t.Helper()
	args, env := e.container(cj)
	deadline := time.Duration(*cj.Spec.JobTemplate.Spec.ActiveDeadlineSeconds) * time.Second
	ctx, cancel := context.WithTimeout(e.ctx, deadline)
	defer cancel()
	var out bytes.Buffer
	err := job.Run(ctx, e.clock, args, func(k string) (string, bool) { v, ok := env[k]; return v, ok }, &out)
	return out.Bytes(), err
}
