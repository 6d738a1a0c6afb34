package report

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// lateEvent is the activity.recorded event ingest emits for activity of
// a session stored between first and last.
func lateEvent(t *testing.T, at time.Time, org, user, sess string, first, last time.Time) events.Envelope {
	t.Helper()
	ev, err := events.New(at, "ingest", events.TypeActivityRecorded, org, user, events.ActivityRecorded{
		Session: events.Session{SessionID: sess, OrganizationID: org, UserID: user, Status: "active"}, Stored: 1,
		FirstAt: &first, LastAt: &last})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestALateUploadCorrectsItsPastDaysSummaryWithinSecondsThroughTheActivityStream(t *testing.T) {
	e := newEnv(t)
	ctx, writer := e.runConsumers(t, testkit.Kafka(t), func(*kafka.Writer) func(context.Context) error { return e.jobs.RunCorrections })

	org, user := uuid.NewString(), uuid.NewString()
	e.tenant(org, "America/Los_Angeles", 0, 0, 0)
	// Noon in Los Angeles on 20 May; the day late is 10 May, outside the
	// nightly run's recompute of the day before yesterday.
	e.clock.Set(ts("2026-05-20T19:00:00Z"))
	e.partitions(ts("2026-05-01T00:00:00Z"))
	lateDay := ts("2026-05-10T16:00:00Z")
	sess := e.session(org, user, lateDay, nil, nil)
	e.activities(org, user, sess, heartbeats(lateDay, 5, time.Minute, "active", 60, "")...)
	if _, err := e.jobs.SummarizeDate(ctx, org, day("2026-05-10")); err != nil {
		t.Fatal(err)
	}

	// The offline agent's batch arrives ten days late.
	batchStart := lateDay.Add(time.Hour)
	e.activities(org, user, sess, heartbeats(batchStart, 10, time.Minute, "idle", 60, "")...)
	ev := lateEvent(t, e.clock.Now(), org, user, sess, batchStart, batchStart.Add(9*time.Minute))
	raw, _ := json.Marshal(ev)
	if err := writer.WriteMessages(ctx, kafka.Message{Topic: events.TopicActivity, Key: []byte(ev.Key), Value: raw}); err != nil {
		t.Fatal(err)
	}
	took := clock.Start()
	eventually(t, 30*time.Second, "the late day's corrected summary", func() bool {
		s, _ := e.summary(org, user, "2026-05-10")
		return s.Idle == 600
	})
	if d := took.Elapsed(); d > 5*time.Second {
		t.Errorf("the correction took %s, want seconds", d)
	}
	if s, _ := e.summary(org, user, "2026-05-10"); s.Active != 300 || s.Total != 900 {
		t.Errorf("corrected summary %+v, want 300 active and 600 idle seconds", s)
	}
	if n := e.count("SELECT count(*) FROM reporting.summary_corrections"); n != 0 {
		t.Errorf("%d corrections left after the correction", n)
	}
}

func TestTheNightlyReconciliationCountsOnlyWhatTheCorrectionsMissed(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		// event: the late upload's activity.recorded event is consumed.
		event bool
		want  int64
	}{
		{"A late upload whose event was consumed leaves nothing for the reconciliation.", true, 0},
		{"A late upload the corrections never heard of is counted as a difference.", false, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			org, user := uuid.NewString(), uuid.NewString()
			// 09:00 UTC on 19 May: 18 May has ended and is summarized.
			e.clock.Set(ts("2026-05-19T09:00:00Z"))
			e.partitions(ts("2026-05-01T00:00:00Z"))
			at := ts("2026-05-18T10:00:00Z")
			sess := e.session(org, user, at, nil, nil)
			e.activities(org, user, sess, act{at: at, typ: "active", dur: 60})
			if _, err := e.jobs.CatchUp(e.ctx, org); err != nil {
				t.Fatal(err)
			}
			// A live post of today marks nothing; the late one marks 18 May.
			late := at.Add(time.Hour)
			e.activities(org, user, sess, act{at: late, typ: "active", dur: 40})
			c1 := NewConsumers(e.pool, e.log, e.clock)
			if err := c1.HandleActivity(e.ctx, lateEvent(t, e.clock.Now(), org, user, sess, e.clock.Now(), e.clock.Now())); err != nil {
				t.Fatal(err)
			}
			if n := e.count("SELECT count(*) FROM reporting.summary_corrections"); n != 0 {
				t.Fatalf("a post of today marked %d days", n)
			}
			if c.event {
				if err := c1.HandleActivity(e.ctx, lateEvent(t, e.clock.Now(), org, user, sess, late, late)); err != nil {
					t.Fatal(err)
				}
				if n, err := e.jobs.CorrectLateDays(e.ctx); err != nil || n != 1 {
					t.Fatalf("corrections: %d days, %v", n, err)
				}
			}
			// The next night summarizes 19 May and reconciles 18 May.
			e.clock.Set(ts("2026-05-20T09:00:00Z"))
			res, err := e.jobs.CatchUp(e.ctx, org)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ReconciliationDifferences(e.ctx, e.pool)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("reconciliation differences %d, want %d (run %+v)", got, c.want, res)
			}
			if s, _ := e.summary(org, user, "2026-05-18"); s.Active != 100 {
				t.Errorf("18 May after the night: %+v, want 100 active seconds", s)
			}
		})
	}
}

// TestOneBatchOfManyTenantsMarksEachTenantsLateDaysInItsOwnZone consumes the
// late uploads of three organizations in three zones as one fetched batch:
// the one round trip switches the tenant for each organization's
// statements, so each reads its own zone under row-level security and
// marks only its own days.
func TestOneBatchOfManyTenantsMarksEachTenantsLateDaysInItsOwnZone(t *testing.T) {
	e := newEnv(t)
	// 03:00 UTC on 19 May: noon in Tokyo, still 18 May in Los Angeles.
	e.clock.Set(ts("2026-05-19T03:00:00Z"))
	late := ts("2026-05-17T20:00:00Z") // 18 May in Tokyo, 17 May elsewhere
	cases := []struct {
		name, zone string
		want       []string
	}{
		{"A tenant in UTC marks its UTC day.", "UTC", []string{"2026-05-17"}},
		{"A tenant in Tokyo marks the day of Tokyo.", "Asia/Tokyo", []string{"2026-05-18"}},
		{"A tenant in Los Angeles marks its day, and not the one that has not ended there.", "America/Los_Angeles", []string{"2026-05-17"}},
	}
	orgs := make([]string, len(cases))
	var batch []events.Envelope
	for i, c := range cases {
		orgs[i] = uuid.NewString()
		e.tenant(orgs[i], c.zone, 0, 0, 0)
		// Each tenant's live post of the moment marks nothing.
		batch = append(batch, lateEvent(t, e.clock.Now(), orgs[i], uuid.NewString(), uuid.NewString(), late, late.Add(time.Minute)),
			lateEvent(t, e.clock.Now(), orgs[i], uuid.NewString(), uuid.NewString(), e.clock.Now(), e.clock.Now()))
	}
	if _, err := NewConsumers(e.pool, e.log, e.clock).PrefilterActivity(e.ctx, batch); err != nil {
		t.Fatal(err)
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, err := e.db.Owner.Query(e.ctx, "SELECT date::text FROM reporting.summary_corrections WHERE organization_id = $1 ORDER BY date", orgs[i])
			if err != nil {
				t.Fatal(err)
			}
			got, err := pgx.CollectRows(rows, pgx.RowTo[string])
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("marked %v, want %v", got, c.want)
			}
		})
	}
	if n := e.count("SELECT count(*) FROM reporting.summary_corrections"); n != len(cases) {
		t.Errorf("%d days marked in all, want %d", n, len(cases))
	}
}

// decideIdle arranges what ingest's idle decision stores: the decision and
// the pins of the session's undecided idle activity in [from, to).
func (e *env) decideIdle(org, user, sess string, from, to time.Time, decision string, project *string) {
	e.t.Helper()
	id := uuid.NewString()
	e.exec(`WITH c AS (SELECT id, occurred_at, duration_seconds FROM tracking.activity_logs
		WHERE session_id = $3 AND activity_type = 'idle' AND occurred_at >= $5 AND occurred_at < $6
		AND id NOT IN (SELECT activity_id FROM tracking.idle_decision_activity)),
	d AS (INSERT INTO tracking.idle_decisions (id, organization_id, session_id, user_id, start_time, end_time, decision, project_id,
		activities, idle_seconds, decided_by, decided_at) SELECT $1, $2, $3, $4, $5, $6, $7, $8, count(*), sum(duration_seconds), $4, now() FROM c)
	INSERT INTO tracking.idle_decision_activity (activity_id, organization_id, decision_id, decision, occurred_at)
	SELECT c.id, $2, $1, $7, c.occurred_at FROM c`, id, org, sess, user, from, to, decision, project)
}

func TestIdleDecisionsCorrectAPastDaysSummaryExactlyThroughTheActivityStream(t *testing.T) {
	e := newEnv(t)
	ctx, writer := e.runConsumers(t, testkit.Kafka(t), func(*kafka.Writer) func(context.Context) error { return e.jobs.RunCorrections })
	org, user := uuid.NewString(), uuid.NewString()
	e.tenant(org, "UTC", 0, 0, 0)
	e.clock.Set(ts("2026-05-20T12:00:00Z"))
	e.partitions(ts("2026-05-01T00:00:00Z"))
	start := ts("2026-05-10T09:00:00Z")
	sess := e.session(org, user, start, ptr(start.Add(3*time.Hour)), nil)
	project := uuid.NewString()
	e.exec("INSERT INTO tracking.projects (id, organization_id, name, created_by) VALUES ($1, $2, 'p', $3)", project, org, user)
	active := heartbeats(start, 10, time.Minute, "active", 60, "https://work.example/")
	idle := heartbeats(start.Add(time.Hour), 30, time.Minute, "idle", 45, "https://work.example/")
	e.activities(org, user, sess, append(active, idle...)...)
	if _, err := e.jobs.SummarizeDate(ctx, org, day("2026-05-10")); err != nil {
		t.Fatal(err)
	}
	stretches := []struct {
		from, to time.Time
		decision string
		project  *string
	}{
		{start.Add(time.Hour), start.Add(70 * time.Minute), "keep", nil},
		{start.Add(70 * time.Minute), start.Add(80 * time.Minute), "discard", nil},
		{start.Add(80 * time.Minute), start.Add(85 * time.Minute), "assign", &project},
	}
	// What the decisions make of the day, from the activity the test stored.
	var wantActive, wantIdle int64
	for _, a := range active {
		wantActive += int64(a.dur)
	}
	for _, a := range idle {
		kind := ""
		for _, s := range stretches {
			if !a.at.Before(s.from) && a.at.Before(s.to) {
				kind = s.decision
			}
		}
		switch kind {
		case "":
			wantIdle += int64(a.dur)
		case "keep", "assign":
			wantActive += int64(a.dur)
		}
	}
	for _, s := range stretches {
		e.decideIdle(org, user, sess, s.from, s.to, s.decision, s.project)
		ev, err := events.New(e.clock.Now(), "ingest", events.TypeActivityCorrected, org, user, events.ActivityCorrected{
			Session:  events.Session{SessionID: sess, OrganizationID: org, UserID: user, Status: "stopped"},
			Decision: s.decision, FirstAt: s.from, LastAt: s.to.Add(-time.Minute)})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(ev)
		if err := writer.WriteMessages(ctx, kafka.Message{Topic: events.TopicActivity, Key: []byte(ev.Key), Value: raw}); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, 30*time.Second, "the decided day's corrected summary", func() bool {
		s, _ := e.summary(org, user, "2026-05-10")
		return s.Active == wantActive && s.Idle == wantIdle
	})
	s, _ := e.summary(org, user, "2026-05-10")
	wantScore := float64(int64(float64(wantActive)*10000/float64(wantActive+wantIdle)+0.5)) / 100
	if s.Total != wantActive+wantIdle || s.Score != wantScore || s.Sessions != 1 {
		t.Errorf("corrected summary %+v, want %d active, %d idle, score %.2f", s, wantActive, wantIdle, wantScore)
	}
	// The live computation, which today's reports read, agrees with the stored one.
	var liveActive, liveIdle int64
	lo := start.Truncate(24 * time.Hour)
	if err := pg.InOrg(ctx, e.pool, org, func(tx pgx.Tx) error {
		rows, err := liveSummaryRows(ctx, tx, org, user, day("2026-05-10"), lo, lo.Add(24*time.Hour), categoryMap{})
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				return err
			}
			liveActive, liveIdle = v[6].(int64), v[7].(int64)
		}
		return rows.Err()
	}); err != nil {
		t.Fatal(err)
	}
	if liveActive != wantActive || liveIdle != wantIdle {
		t.Errorf("the live summary counts %d active / %d idle, want %d / %d", liveActive, liveIdle, wantActive, wantIdle)
	}
}
