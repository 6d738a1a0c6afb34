package report

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/migrations/storage"
)

// TestAYearInTheLifeOfThreeSelfRegisteredOrganizations advances the clock
// day by day through 13 months over three organizations in different
// zones that no WorkPulseTenant manages, running what the schedules run:
// the storage pass with each organization's retention (its own or the
// installation's), the consumer of activity.recorded, the corrections loop
// and daily-summary --due. Every
// simulated day each organization posts live activity (one post just
// after its local midnight counts on the day before) and every fifth day
// an offline batch ten days late. Asserted: no insert inside the accepted
// window fails, every organization-day's summary equals the activity, the
// reconciliation finds nothing, and retention removes exactly each
// organization's expired months and nothing of another's.
func TestAYearInTheLifeOfThreeSelfRegisteredOrganizations(t *testing.T) {
	e := newEnv(t)
	first := ts("2026-01-01T12:00:00Z")
	e.clock.Set(first)
	maint := &storage.Maintainer{DB: e.db.Owner, Clock: e.clock, Policy: storage.Policy{Premake: 4, Window: storage.Window(30), Retention: 13}}
	consumers := NewConsumers(e.pool, e.log, e.clock)

	type org struct {
		id, user, session, zone string
		retention               int // 0: the installation's
		posted                  []time.Time
	}
	orgs := []*org{
		{zone: "America/Los_Angeles", retention: 3},
		{zone: "Europe/Berlin", retention: 6},
		{zone: "Asia/Tokyo"},
	}
	for _, o := range orgs {
		o.id, o.user = uuid.NewString(), uuid.NewString()
		e.tenant(o.id, o.zone, 0, 0, 0)
		e.user(o.id, o.user, "Member of "+o.zone)
		e.exec("INSERT INTO tracking.tenants (organization_id, time_zone, retention_months) VALUES ($1, $2, nullif($3, 0))", o.id, o.zone, o.retention)
	}
	if _, err := maint.Run(e.ctx); err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		o.session = e.session(o.id, o.user, first.Add(-24*time.Hour), nil, nil)
	}

	// post stores activities as ingest does and hands the consumer the
	// event ingest emits for them.
	post := func(o *org, acts []act) {
		t.Helper()
		rows := make([][]any, len(acts))
		for i, a := range acts {
			o.posted = append(o.posted, a.at)
			rows[i] = []any{uuid.New(), uuid.MustParse(o.id), uuid.MustParse(o.session), uuid.MustParse(o.user), a.at, a.typ, a.dur}
		}
		if _, err := e.db.Owner.CopyFrom(e.ctx, pgx.Identifier{"tracking", "activity_logs"},
			[]string{"id", "organization_id", "session_id", "user_id", "occurred_at", "activity_type", "duration_seconds"}, pgx.CopyFromRows(rows)); err != nil {
			t.Fatalf("%s: an insert inside the accepted window failed on %s: %v", o.zone, e.clock.Now(), err)
		}
		need, err := consumers.PrefilterActivity(e.ctx, []events.Envelope{lateEvent(t, e.clock.Now(), o.id, o.user, o.session, acts[0].at, acts[len(acts)-1].at)})
		if err != nil || len(need) != 1 {
			t.Fatalf("consuming the activity event: %v", err)
		}
	}

	last := ts("2027-02-01T12:00:00Z")
	for now, n := first, 0; !now.After(last); now, n = now.AddDate(0, 0, 1), n+1 {
		e.clock.Set(now)
		if _, err := maint.Run(e.ctx); err != nil {
			t.Fatalf("%s: storage pass: %v", now, err)
		}
		if _, err := maint.ApplyRetention(e.ctx); err != nil {
			t.Fatalf("%s: retention: %v", now, err)
		}
		for _, o := range orgs {
			// 07:30 UTC is the evening before in Los Angeles.
			post(o, []act{{at: now.Add(-4*time.Hour - 30*time.Minute), typ: "active", dur: 60}})
			post(o, heartbeats(now.Add(-3*time.Hour), 5, 30*time.Minute, "active", 60, ""))
			post(o, []act{{at: now.Add(-time.Hour), typ: "idle", dur: 45}})
			if n%5 == 4 {
				post(o, heartbeats(now.AddDate(0, 0, -10).Add(-2*time.Hour), 6, 10*time.Minute, "idle", 30, ""))
			}
		}
		if _, err := e.jobs.CorrectLateDays(e.ctx); err != nil {
			t.Fatalf("%s: corrections: %v", now, err)
		}
		due, err := e.jobs.DueOrganizations(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.jobs.SummarizeDue(e.ctx, due); err != nil {
			t.Fatalf("%s: daily-summary --due: %v", now, err)
		}
	}

	if n, err := ReconciliationDifferences(e.ctx, e.pool); err != nil || n != 0 {
		t.Errorf("the reconciliation found %d differences (%v), want 0", n, err)
	}
	for _, o := range orgs {
		// Every ended local day's summary equals the activity of that day.
		mismatched := e.count(`WITH raw AS (
			SELECT (occurred_at AT TIME ZONE $2)::date AS date,
			       coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0) AS act,
			       coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) AS idl
			FROM tracking.activity_logs WHERE organization_id = $1 GROUP BY 1)
			SELECT count(*) FROM raw FULL JOIN (SELECT * FROM reporting.daily_summaries WHERE organization_id = $1) s USING (date)
			WHERE coalesce(raw.date, s.date) < ($3::timestamptz AT TIME ZONE $2)::date
			  AND (raw.act IS DISTINCT FROM s.active_seconds OR raw.idl IS DISTINCT FROM s.idle_seconds)`, o.id, o.zone, last)
		days := e.count("SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1", o.id)
		if mismatched != 0 {
			t.Errorf("%s: %d of %d days' summaries differ from the activity", o.zone, mismatched, days)
		}
		// Retention keeps whole local months: the current one (February
		// 2027) and retention-1 before it. Tokyo, keeping the
		// installation's 13 months, loses January 2026 like the others
		// lose their older months.
		var since time.Time
		switch o.retention {
		case 3:
			since = localMidnight(t, o.zone, "2026-12-01")
		case 6:
			since = localMidnight(t, o.zone, "2026-09-01")
		case 0:
			since = localMidnight(t, o.zone, "2026-02-01")
		}
		want := 0
		for _, at := range o.posted {
			if !at.Before(since) {
				want++
			}
		}
		left := e.count("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", o.id)
		older := e.count("SELECT count(*) FROM reporting.daily_summaries WHERE organization_id = $1 AND date < ($2::timestamptz AT TIME ZONE $3)::date",
			o.id, since, o.zone)
		if left != want || older != 0 {
			t.Errorf("%s (retention %d): %d of %d activities left, want %d (those since %s); %d summaries before it",
				o.zone, o.retention, left, len(o.posted), want, since, older)
		}
	}
}

func localMidnight(t *testing.T, zone, date string) time.Time {
	t.Helper()
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	d := day(date)
	return time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, loc)
}
