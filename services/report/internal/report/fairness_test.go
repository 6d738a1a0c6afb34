package report

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestOneHugeOrganizationDoesNotHoldBackTheOther999InAScheduledRun runs
// each scheduled job as the report binary does over 1,000 organizations,
// the huge one first in the order: it has 10,000 open idle sessions whose
// users all worked overtime today and yesterday, each other organization
// one. With the huge organization stuck (its lock for the job held
// elsewhere), the other 999 must all be done within a bound, which no
// run that takes organizations one after the other can do; once it is
// released, its 10,000 are done too. Each job then runs again on the same
// data with nothing stuck, and the test logs when the other 999 and when
// the huge one were done (docs/benchmarks.md).
func TestOneHugeOrganizationDoesNotHoldBackTheOther999InAScheduledRun(t *testing.T) {
	const (
		small    = 999
		hugeSize = 10000
		bound    = 2 * time.Minute
	)
	e := newEnv(t)
	now := e.clock.Now()
	e.partitions(now.AddDate(0, 0, -1), now)
	huge := uuid.NewString()
	orgs := []string{huge}
	for range small {
		orgs = append(orgs, uuid.NewString())
	}
	e.fairnessData(orgs, hugeSize)

	jobs := []struct {
		name string
		run  func(ctx context.Context) error
		// done counts the other organizations whose work is done, and the
		// huge one's done items.
		done func() (others, hugeDone int)
		// reset makes the work to do again: resolved idle alerts stay, as
		// an organization's history does, and every session is idle again.
		reset string
	}{
		{JobIdleDetection, func(ctx context.Context) error {
			return e.jobs.ForTenants(ctx, JobIdleDetection, orgs, func(ctx context.Context, org string) error {
				_, err := e.jobs.DetectIdle(ctx, org)
				return err
			})
		}, e.alertsDone("idle", huge), "UPDATE reporting.alerts SET resolved_at = created_at WHERE alert_type = 'idle'"},
		{JobOvertimeCheck, func(ctx context.Context) error {
			return e.jobs.ForTenants(ctx, JobOvertimeCheck, orgs, func(ctx context.Context, org string) error {
				_, err := e.jobs.CheckOvertime(ctx, org)
				return err
			})
		}, e.alertsDone("overtime", huge), "DELETE FROM reporting.alerts WHERE alert_type = 'overtime'"},
		{JobDailySummary, func(ctx context.Context) error {
			_, err := e.jobs.SummarizeDue(ctx, orgs)
			return err
		}, e.summariesDone(huge, now.AddDate(0, 0, -1).Format(time.DateOnly)), "DELETE FROM reporting.summary_progress; DELETE FROM reporting.daily_summaries"},
	}
	for _, j := range jobs {
		// The huge organization stuck: its lock for the job is held.
		stuck, err := e.db.Owner.Begin(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := lockTenant(e.ctx, stuck, j.name, huge); err != nil {
			t.Fatal(err)
		}
		finished := make(chan error, 1)
		go func() { finished <- j.run(e.ctx) }()
		watch := clock.Start()
		others, hugeDone := e.waitFor(bound, j.done, func(o, _ int) bool { return o == small })
		if others != small {
			_ = stuck.Rollback(e.ctx)
			<-finished
			t.Fatalf("%s: %d of the other %d organizations done %s after the run started, the huge one stuck", j.name, others, small, bound)
		}
		othersAt := watch.Elapsed()
		if hugeDone != 0 {
			t.Errorf("%s: the huge organization had %d done while its lock was held", j.name, hugeDone)
		}
		if err := stuck.Rollback(e.ctx); err != nil {
			t.Fatal(err)
		}
		if err := <-finished; err != nil {
			t.Fatalf("%s: %v", j.name, err)
		}
		if _, hugeDone := j.done(); hugeDone != hugeSize {
			t.Errorf("%s: the huge organization has %d of %d done after the run", j.name, hugeDone, hugeSize)
		}
		t.Logf("%s, huge organization stuck: the other %d done after %s", j.name, small, othersAt.Round(time.Millisecond))

		// The same work again, nothing stuck.
		e.exec(j.reset)
		e.exec("ANALYZE")
		go func() { finished <- j.run(e.ctx) }()
		watch = clock.Start()
		e.waitFor(bound, j.done, func(o, _ int) bool { return o == small })
		othersAt = watch.Elapsed()
		if err := <-finished; err != nil {
			t.Fatalf("%s: %v", j.name, err)
		}
		others, hugeDone = j.done()
		if others != small || hugeDone != hugeSize {
			t.Errorf("%s: %d other organizations and %d of the huge one's done, want %d and %d", j.name, others, hugeDone, small, hugeSize)
		}
		t.Logf("%s, nothing stuck: the other %d done after %s, the whole run (the huge one's %d included) after %s",
			j.name, small, othersAt.Round(time.Millisecond), hugeSize, watch.Elapsed().Round(time.Millisecond))
	}
}

// fairnessData stores, for the first of orgs, size members and for each
// other one member, each with an active session last seen 20 minutes ago
// (idle), 90 minutes of work today (over a one-hour overtime threshold)
// and 10 minutes yesterday (a day to summarize).
func (e *env) fairnessData(orgs []string, size int) {
	e.t.Helper()
	now := e.clock.Now()
	var settings, sessions, acts [][]any
	for i, org := range orgs {
		settings = append(settings, []any{uuid.MustParse(org), "UTC", int32(1)})
		members := 1
		if i == 0 {
			members = size
		}
		for range members {
			user, sess := uuid.New(), uuid.New()
			sessions = append(sessions, []any{sess, uuid.MustParse(org), user, now.Add(-3 * time.Hour), "active", now.Add(-20 * time.Minute)})
			for _, a := range []struct {
				at  time.Time
				dur int32
			}{{now.Add(-3 * time.Hour), 1800}, {now.Add(-2 * time.Hour), 1800}, {now.Add(-time.Hour), 1800}, {now.AddDate(0, 0, -1), 600}} {
				acts = append(acts, []any{uuid.New(), uuid.MustParse(org), sess, user, a.at, "active", a.dur})
			}
		}
	}
	for _, c := range []struct {
		table string
		cols  []string
		rows  [][]any
	}{
		{"tenant_settings", []string{"organization_id", "time_zone", "overtime_threshold_hours"}, settings},
		{"work_sessions", []string{"id", "organization_id", "user_id", "start_time", "status", "last_activity_at"}, sessions},
		{"activity_logs", []string{"id", "organization_id", "session_id", "user_id", "occurred_at", "activity_type", "duration_seconds"}, acts},
	} {
		schema := "tracking"
		if c.table == "tenant_settings" {
			schema = "reporting"
		}
		if _, err := e.db.Owner.CopyFrom(e.ctx, pgx.Identifier{schema, c.table}, c.cols, pgx.CopyFromRows(c.rows)); err != nil {
			e.t.Fatalf("%s: %v", c.table, err)
		}
	}
	// As autovacuum would have by the time such an organization runs: with
	// the statistics of empty tables, the planner joins its 10,000 users
	// by nested loops.
	e.exec("ANALYZE")
}

// alertsDone counts the organizations other than huge with an open alert
// of typ, and huge's open alerts of typ.
func (e *env) alertsDone(typ, huge string) func() (int, int) {
	return func() (int, int) {
		return e.count(`SELECT count(DISTINCT organization_id) FROM reporting.alerts
				WHERE alert_type = $1 AND resolved_at IS NULL AND organization_id <> $2`, typ, huge),
			e.count("SELECT count(*) FROM reporting.alerts WHERE alert_type = $1 AND resolved_at IS NULL AND organization_id = $2", typ, huge)
	}
}

// summariesDone counts the organizations other than huge with a summary
// of day, and huge's summaries of day.
func (e *env) summariesDone(huge, day string) func() (int, int) {
	return func() (int, int) {
		return e.count("SELECT count(DISTINCT organization_id) FROM reporting.daily_summaries WHERE date = $1::date AND organization_id <> $2", day, huge),
			e.count("SELECT count(*) FROM reporting.daily_summaries WHERE date = $1::date AND organization_id = $2", day, huge)
	}
}

// waitFor polls done until enough holds or timeout passes, and returns
// its last counts.
func (e *env) waitFor(timeout time.Duration, done func() (int, int), enough func(others, huge int) bool) (int, int) {
	watch := clock.Start()
	for {
		o, h := done()
		if enough(o, h) || watch.Elapsed() > timeout {
			return o, h
		}
		time.Sleep(20 * time.Millisecond)
	}
}
