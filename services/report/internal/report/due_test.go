package report

import (
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// workedDay stores an hour of active work of a new member of org on the
// UTC day d.
func (e *env) workedDay(org, d string) {
	e.t.Helper()
	user := uuid.NewString()
	e.user(org, user, "Member "+user[:4])
	start := ts(d + "T08:00:00Z")
	sess := e.session(org, user, start, ptr(start.Add(time.Hour)), nil)
	e.activities(org, user, sess, heartbeats(start, 60, time.Minute, "active", 60, "")...)
}

func TestDueSummariesLetSmallOrganizationsThroughBeforeALargeOnesBacklog(t *testing.T) {
	e := newEnv(t)
	// The order of turns is what is tested: with one worker the days come back in it. Several
	// workers interleave them by timing (TestOneHugeOrganizationDoesNotHoldBackTheOther999InAScheduledRun
	// covers that).
	e.cfg.JobWorkers = 1
	e.jobs = NewJobs(e.pool, e.cfg, e.log, e.clock)
	e.partitions(ts("2026-04-01T00:00:00Z"), ts("2026-05-01T00:00:00Z"))
	// A month of catch-up for one organization with many users a day.
	large := uuid.NewString()
	for d := day("2026-04-04"); d.Before(day("2026-05-04")); d = d.AddDate(0, 0, 1) {
		for range 5 {
			e.workedDay(large, d.Format(time.DateOnly))
		}
	}
	// Many self-registered organizations (known only by their members)
	// with yesterday to summarize.
	var small []string
	for range 40 {
		org := uuid.NewString()
		e.workedDay(org, "2026-05-03")
		small = append(small, org)
	}
	orgs, err := e.jobs.DueOrganizations(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.jobs.SummarizeDue(e.ctx, orgs)
	if err != nil {
		t.Fatal(err)
	}

	largeDays, lastSmall, secondBatch := 0, -1, -1
	for i, d := range res.Days {
		switch {
		case d.OrganizationID == large && !d.Recomputed:
			largeDays++
			if largeDays == e.cfg.DueBatchDays+1 {
				secondBatch = i
			}
		case slices.Contains(small, d.OrganizationID) && !d.Recomputed:
			lastSmall = i
		}
	}
	if largeDays != 30 || secondBatch < 0 {
		t.Fatalf("the large organization had %d days summarized, want 30", largeDays)
	}
	if lastSmall < 0 || lastSmall > secondBatch {
		t.Errorf("the last small organization came at %d, after the large one's second batch at %d", lastSmall, secondBatch)
	}
	for _, org := range small {
		if n := e.count("SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1 AND date = '2026-05-03'", org); n != 1 {
			t.Errorf("small organization %s has %d summaries of yesterday, want 1", org, n)
		}
	}
	if n := e.count("SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1", large); n != 150 {
		t.Errorf("the large organization has %d summaries, want 150", n)
	}
	if len(res.Deferred) != 0 {
		t.Errorf("deferred %v without a budget running out", res.Deferred)
	}

	again, err := e.jobs.SummarizeDue(e.ctx, orgs)
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Days) != 0 {
		t.Errorf("a second run the same day summarized %d days, want none", len(again.Days))
	}
}

func TestDueSummariesEndWhenTheBudgetRunsOutAndTheNextRunContinues(t *testing.T) {
	e := newEnv(t)
	e.partitions(ts("2026-04-01T00:00:00Z"), ts("2026-05-01T00:00:00Z"))
	var orgs []string
	for range 10 {
		org := uuid.NewString()
		for d := day("2026-04-27"); d.Before(day("2026-05-04")); d = d.AddDate(0, 0, 1) {
			e.workedDay(org, d.Format(time.DateOnly))
		}
		orgs = append(orgs, org)
	}
	// Every reading of the clock takes 20 seconds: a run's 10-minute
	// budget ends long before 70 days are summarized.
	e.cfg.DueBatchDays = 2
	slow := clock.Func(func() time.Time { e.clock.Advance(20 * time.Second); return e.clock.Now() })
	jobs := NewJobs(e.pool, e.cfg, e.log, slow)

	runs := 0
	for remaining := orgs; len(remaining) > 0; runs++ {
		if runs == 20 {
			t.Fatalf("still deferred after 20 runs: %v", remaining)
		}
		order, err := jobs.DueOrganizations(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		res, err := jobs.SummarizeDue(e.ctx, order)
		if err != nil {
			t.Fatal(err)
		}
		remaining = res.Deferred
	}
	if runs < 2 {
		t.Errorf("one run did everything; the budget never ran out")
	}
	// The clock moved on by days meanwhile; every worked day is summarized.
	if n := e.count("SELECT count(*) FROM reporting.daily_summaries WHERE date BETWEEN '2026-04-27' AND '2026-05-03'"); n != 70 {
		t.Errorf("%d summaries, want 70", n)
	}
}

func TestDueSummariesEndEachDayAtTheOrganizationsOwnMidnight(t *testing.T) {
	e := newEnv(t)
	e.partitions(ts("2026-05-01T00:00:00Z"))
	auckland, losAngeles := uuid.NewString(), uuid.NewString()
	e.tenant(auckland, "Pacific/Auckland", 0, 0, 0)
	e.tenant(losAngeles, "America/Los_Angeles", 0, 0, 0)
	for _, org := range []string{auckland, losAngeles} {
		e.workedDay(org, "2026-05-02")
	}
	// 00:00 on the 5th in Auckland, 05:00 on the 4th in Los Angeles.
	e.clock.Set(ts("2026-05-04T12:00:00Z"))
	res, err := e.jobs.SummarizeDue(e.ctx, []string{auckland, losAngeles})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, d := range res.Days {
		if !d.Recomputed {
			got[d.OrganizationID] += d.Date + " "
		}
	}
	if want := "2026-05-02 2026-05-03 2026-05-04 "; got[auckland] != want {
		t.Errorf("Auckland summarized %q, want %q", got[auckland], want)
	}
	if want := "2026-05-02 2026-05-03 "; got[losAngeles] != want {
		t.Errorf("Los Angeles summarized %q, want %q", got[losAngeles], want)
	}
}

// TestEachSummarizedDayIsAnnouncedOnceAndAgainOnlyWhenAnAdminSummarizesIt
// reads the summary.ready events in the outbox: one per day the catch-up
// completes, none for its recomputations, one more per explicit run.
func TestEachSummarizedDayIsAnnouncedOnceAndAgainOnlyWhenAnAdminSummarizesIt(t *testing.T) {
	e := newEnv(t)
	e.partitions(ts("2026-05-01T00:00:00Z"))
	org := uuid.NewString()
	e.workedDay(org, "2026-05-02")
	e.workedDay(org, "2026-05-03")
	e.workedDay(org, "2026-05-03")
	announced := func() []string {
		t.Helper()
		rows, err := e.db.Owner.Query(e.ctx, `SELECT payload->>'organization_id', payload->>'key', payload->'data'->>'organization_id',
			payload->'data'->>'date', payload->'data'->>'users' FROM reporting.outbox WHERE payload->>'type' = $1 ORDER BY id`, events.TypeSummaryReady)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var envOrg, key, dataOrg, date, users string
			if err := rows.Scan(&envOrg, &key, &dataOrg, &date, &users); err != nil {
				t.Fatal(err)
			}
			if envOrg != org || key != org || dataOrg != org {
				t.Errorf("summary.ready of %s keyed %s about %s, want all %s", envOrg, key, dataOrg, org)
			}
			got = append(got, date+":"+users)
		}
		if rows.Err() != nil {
			t.Fatal(rows.Err())
		}
		return got
	}
	// testStart is midday on the 4th: the 2nd and 3rd have ended.
	if _, err := e.jobs.CatchUp(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	want := []string{"2026-05-02:1", "2026-05-03:2"}
	if got := announced(); !slices.Equal(got, want) {
		t.Fatalf("after the catch-up %v announced, want %v", got, want)
	}
	// A day later the catch-up completes the 4th and recomputes the 3rd:
	// only the 4th is new.
	e.clock.Set(testStart.AddDate(0, 0, 1))
	if _, err := e.jobs.CatchUp(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	want = append(want, "2026-05-04:0")
	if got := announced(); !slices.Equal(got, want) {
		t.Fatalf("after the next catch-up %v announced, want %v", got, want)
	}
	if _, err := e.jobs.SummarizeDate(e.ctx, org, day("2026-05-02")); err != nil {
		t.Fatal(err)
	}
	want = append(want, "2026-05-02:1")
	if got := announced(); !slices.Equal(got, want) {
		t.Errorf("after summarizing the 2nd again %v announced, want %v", got, want)
	}
}
