package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/test/testkit"
)

// Two installations share one Kafka cluster, each with its own
// KAFKA_TOPIC_PREFIX, and know one organization (an organization moved from
// one to the other, say): what one publishes lands on its own topics only,
// and a suspension told to one leaves the other accepting.
func TestTwoInstallationsOnOneKafkaEachReadAndWriteOnlyTheirOwnTopics(t *testing.T) {
	at := time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC)
	brokers := testkit.Kafka(t)
	org := uuid.NewString()
	start := func(prefix string) (*testkit.Tracker, func() int) {
		tr := testkit.StartTrackerWith(t, run, at, func(db *testkit.DB) { db.EnsureActivityMonth(t, at) },
			testkit.TrackerOptions{Brokers: brokers, TopicPrefix: prefix, Organization: org})
		sid := uuid.NewString()
		if _, err := tr.DB.Owner.Exec(context.Background(), "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active')",
			sid, org, tr.Member.UserID, tr.Clock.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		return tr, func() int {
			status, _ := testkit.Do(t, http.DefaultClient, http.MethodPost, tr.URL+"/api/sessions/"+sid+"/activity", tr.Token,
				[]byte(`{"activity_type":"active","duration_seconds":9}`), nil)
			return status
		}
	}
	a, postA := start("team-a.workpulse.")
	b, postB := start("team-b.workpulse.")
	for name, post := range map[string]func() int{"a": postA, "b": postB} {
		if code := post(); code != http.StatusCreated {
			t.Fatalf("activity in installation %s: %d", name, code)
		}
	}

	trackers := []*testkit.Tracker{a, b}
	// The member whose activity e records, if it is activity.
	memberOf := func(e events.Envelope) string {
		var p events.ActivityRecorded
		if e.Type != events.TypeActivityRecorded || e.Payload(&p) != nil {
			return ""
		}
		return p.UserID
	}
	for _, tr := range trackers {
		testkit.WaitEvent(t, brokers, tr.TopicPrefix+events.TopicActivity, 10*time.Second, func(e events.Envelope) bool {
			return memberOf(e) == tr.Member.UserID
		})
	}
	for _, m := range testkit.AllRecords(t, brokers[0]) {
		e, err := events.Decode(m.Value)
		if err != nil {
			continue
		}
		for _, tr := range trackers {
			if memberOf(e) == tr.Member.UserID && !strings.HasPrefix(m.Topic, tr.TopicPrefix) {
				t.Errorf("an event of the installation %s is on %s", tr.TopicPrefix, m.Topic)
			}
		}
	}

	b.FollowsSuspension(t, postB)
	// b's consumer took well under this to apply the suspension: had a's
	// read b's topic, a would be refusing by now.
	for range 10 {
		if code := postA(); code != http.StatusCreated {
			t.Fatalf("installation a answers %d after the organization was suspended in b", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
