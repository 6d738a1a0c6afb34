package report

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
)

func TestARemovedMembersSummariesAlertsAndNameAreErasedOnlyWhenTheAdminChoseTo(t *testing.T) {
	e := newEnv(t)
	org, otherOrg := uuid.NewString(), uuid.NewString()
	gone, stays, elsewhere := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, m := range []struct{ org, id string }{{org, gone}, {org, stays}, {otherOrg, elsewhere}} {
		e.user(m.org, m.id, "Someone")
		e.exec(`INSERT INTO reporting.daily_summaries (organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds,
			productivity_score, sessions_count) VALUES ($1, $2, '2026-05-04', 10, 10, 0, 100, 1)`, m.org, m.id)
		e.exec(`INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message)
			VALUES (gen_random_uuid(), $1, $2, gen_random_uuid(), 'idle', 'x')`, m.org, m.id)
		// An alert event of the member still waiting for the relay.
		e.exec(`INSERT INTO reporting.outbox (event_id, topic, key, payload) VALUES (gen_random_uuid(), $1, $2, jsonb_build_object('organization_id', $3::text))`,
			events.TopicAlerts, m.id, m.org)
	}
	held := func(user string) int {
		return e.count(`SELECT (SELECT count(*) FROM reporting.daily_summaries WHERE user_id = $1) + (SELECT count(*) FROM reporting.alerts WHERE user_id = $1)
			+ (SELECT count(*) FROM reporting.users WHERE user_id = $1) + (SELECT count(*) FROM reporting.outbox WHERE key = $1::text)`, user)
	}
	c := NewConsumers(e.pool, e.log, e.clock)
	remove := func(eventOrg, user string, erase bool) events.Envelope {
		t.Helper()
		ev, err := events.New(e.clock.Now(), "auth", events.TypeUserRemoved, eventOrg, user,
			events.UserRemoved{UserID: user, OrganizationID: eventOrg, EraseData: erase})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.HandleDirectory(e.ctx, ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	steps := []struct {
		name  string
		apply func()
		want  map[string]int
	}{
		{"A removal that keeps the data keeps the summary, the alert, the name and the pending alert event.", func() { remove(org, gone, false) },
			map[string]int{gone: 4, stays: 4, elsewhere: 4}},
		{"An erasure named for another organization touches nothing of this one.", func() { remove(otherOrg, gone, true) },
			map[string]int{gone: 4, stays: 4, elsewhere: 4}},
		{"An erasure deletes the member's summary, alert, name and pending alert event and nobody else's.", func() {
			ev := remove(org, gone, true)
			// A redelivery is absorbed.
			if err := c.HandleDirectory(e.ctx, ev); err != nil {
				t.Fatal(err)
			}
		}, map[string]int{gone: 0, stays: 4, elsewhere: 4}},
	}
	for _, s := range steps {
		s.apply()
		for user, want := range s.want {
			if got := held(user); got != want {
				t.Errorf("%s %s holds %d rows, want %d", s.name, user, got, want)
			}
		}
	}
	if v := e.count("SELECT coalesce((SELECT version FROM reporting.report_versions WHERE organization_id = $1), 0)", org); v != 1 {
		t.Errorf("the report version is %d after one erasure, want 1 (cached reports must not show the erased member)", v)
	}
}

func TestAnErasedMembersActivityThatReachesReportAfterTheErasureIsNeverSummarizedOrAlertedOnAgain(t *testing.T) {
	e := newEnv(t)
	org := uuid.NewString()
	gone, stays := uuid.NewString(), uuid.NewString()
	e.partitions(testStart)
	c := NewConsumers(e.pool, e.log, e.clock)
	ev, err := events.New(e.clock.Now(), "auth", events.TypeUserRemoved, org, gone, events.UserRemoved{UserID: gone, OrganizationID: org, EraseData: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{gone, stays} {
		e.user(org, u, "Someone")
	}
	if err := c.HandleDirectory(e.ctx, ev); err != nil {
		t.Fatal(err)
	}
	// Activity ingest has not erased the member yet (its consumer is
	// behind): their idle session and its activity are still there, as an
	// activity event relayed just before the erasure says.
	for _, u := range []string{gone, stays} {
		s := e.idleSession(org, u)
		e.activities(org, u, s, heartbeats(testStart.Add(-time.Hour), 10, time.Minute, "active", 60, "https://erased.example.com/")...)
	}
	if _, err := e.jobs.SummarizeDate(e.ctx, org, day("2026-05-04")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.jobs.DetectIdle(e.ctx, org); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user string
		want int
	}{{gone, 0}, {stays, 2}} {
		got := e.count(`SELECT (SELECT count(*) FROM reporting.daily_summaries WHERE user_id = $1) + (SELECT count(*) FROM reporting.alerts WHERE user_id = $1)`, c.user)
		if got != c.want {
			t.Errorf("%s has %d summaries and alerts after the erasure, want %d", c.user, got, c.want)
		}
	}
}
