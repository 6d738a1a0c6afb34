package systemtest

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestRemovingAMemberWithErasureEmptiesEveryServiceOfThemAndOnlyOfThem
// removes a member with data=erase on the platform as make dev runs it:
// user.removed travels through auth's outbox and Kafka to session, ingest
// and report, which delete the member's sessions, activity, dedup keys,
// idle decisions, time requests, summaries, alerts and name within
// seconds, while a colleague's stay as they were.
func TestRemovingAMemberWithErasureEmptiesEveryServiceOfThemAndOnlyOfThem(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Removal Org "+suffix)
	gone := c.Invite(admin, "gone-"+suffix+"@example.com", "Gone Member", "employee")
	stays := c.Invite(admin, "stays-"+suffix+"@example.com", "Staying Member", "employee")
	now := clock.Real.Now().UTC()
	start := now.Add(-20 * time.Minute).Truncate(time.Minute)
	if midnight := now.Truncate(24 * time.Hour); start.Before(midnight) {
		start = midnight
	}
	for _, m := range []Member{gone, stays} {
		s := c.StartSession(m, start)
		if _, err := c.Agent(m, NewLedger()).Single(s.ID, Heartbeats(start, 1, 60, "active")[0]); err != nil {
			t.Fatal(err)
		}
		c.Must(201, "POST", "/sessions/"+s.ID+"/activity/bulk", m.Token, map[string]any{"activities": Heartbeats(start.Add(time.Minute), 2, 5, "idle")})
		c.Must(201, "POST", "/sessions/"+s.ID+"/idle-decisions", m.Token, map[string]any{"start_time": start.Add(time.Minute).Format(time.RFC3339),
			"end_time": start.Add(2 * time.Minute).Format(time.RFC3339), "decision": "keep"})
		// A manual entry still waiting for review: no session takes it along.
		c.Must(201, "POST", "/time-requests", m.Token, map[string]any{"start_time": start.Add(-3 * time.Hour).Format(time.RFC3339),
			"end_time": start.Add(-2 * time.Hour).Format(time.RFC3339), "note": "workshop"})
	}
	c.runJob(admin, "daily-summary", map[string]any{"date": start.Format(time.DateOnly)})
	// Both sessions have been quiet for over the idle threshold: an idle
	// alert each.
	c.runJob(admin, "idle-detection", nil)

	db := p.PG.Conn(t)
	held := func(user string) map[string]int {
		t.Helper()
		out := map[string]int{}
		for _, table := range []string{"tracking.work_sessions", "tracking.activity_logs", "tracking.activity_dedup",
			"tracking.idle_decisions", "tracking.time_requests", "reporting.daily_summaries", "reporting.alerts", "reporting.users"} {
			var n int
			if err := db.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE user_id = $1", user).Scan(&n); err != nil {
				t.Fatal(err)
			}
			out[table] = n
		}
		return out
	}
	before := held(stays.ID)
	for table, n := range held(gone.ID) {
		if n == 0 || before[table] == 0 {
			t.Fatalf("before the removal %s holds %d rows of the member and %d of the colleague", table, n, before[table])
		}
	}

	c.Must(204, "DELETE", "/users/"+gone.ID+"?data=erase", admin.Token, nil)
	var left map[string]int
	if !WaitFor(30*time.Second, func() bool {
		left = held(gone.ID)
		for _, n := range left {
			if n != 0 {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("30 s after the removal the member's rows left: %v", left)
	}
	if after := held(stays.ID); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the colleague's rows went from %v to %v", before, after)
	}
	// The erasure can beat the revocation list's next poll (a second).
	var r Resp
	if !WaitFor(10*time.Second, func() bool {
		var err error
		r, err = c.Do("GET", "/users/me", gone.Token, nil)
		return err == nil && r.Status == 403
	}) {
		t.Errorf("the removed member's token answers %d %s", r.Status, r.Raw)
	}
}

// TestAnErasedMembersNameAndURLsNeverReachKafka erases a member while
// Kafka is unreachable, with their rename and activity still waiting in
// the outboxes: once Kafka is back and the erasure has gone through every
// service, no record of any topic carries the new name or a URL they
// visited, and report has summarized nothing of theirs again.
func TestAnErasedMembersNameAndURLsNeverReachKafka(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Kafka Erasure Org "+suffix)
	gone := c.Invite(admin, "gone-"+suffix+"@example.com", "Gone Member", "employee")
	now := clock.Real.Now().UTC()
	start := now.Add(-20 * time.Minute).Truncate(time.Minute)
	if midnight := now.Truncate(24 * time.Hour); start.Before(midnight) {
		start = midnight
	}
	s := c.StartSession(gone, start)
	visit := func(at time.Time, url string) {
		t.Helper()
		a := Heartbeats(at, 1, 60, "active")[0]
		a.URL = url
		if _, err := c.Agent(gone, NewLedger()).Single(s.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	relayedURL, pendingURL := "https://relayed-"+suffix+".example.com/private", "https://pending-"+suffix+".example.com/private"
	secretName := "Secret Name " + suffix
	visit(start, relayedURL)
	c.runJob(admin, "daily-summary", map[string]any{"date": start.Format(time.DateOnly)})

	db := p.PG.Conn(t)
	p.Kafka.Down()
	c.Must(200, "PATCH", "/users/me", gone.Token, map[string]any{"name": secretName})
	visit(start.Add(2*time.Minute), pendingURL)
	c.Must(204, "DELETE", "/users/"+gone.ID+"?data=erase", admin.Token, nil)
	if n := queryInt(t, db, "SELECT count(*) FROM auth.outbox WHERE payload->'data'->>'user_id' = $1 AND payload->>'type' <> 'user.removed'", gone.ID); n != 0 {
		t.Errorf("%d events of the erased member wait in auth's outbox", n)
	}
	p.Kafka.Up()

	erased := "SELECT (SELECT count(*) FROM tracking.work_sessions WHERE user_id = $1) + (SELECT count(*) FROM tracking.activity_logs WHERE user_id = $1)" +
		" + (SELECT count(*) FROM reporting.daily_summaries WHERE user_id = $1) + (SELECT count(*) FROM reporting.users WHERE user_id = $1)"
	drained := "SELECT (SELECT count(*) FROM auth.outbox) + (SELECT count(*) FROM tracking.outbox) + (SELECT count(*) FROM reporting.outbox)"
	if !WaitFor(60*time.Second, func() bool { return queryInt(t, db, erased, gone.ID) == 0 && queryInt(t, db, drained) == 0 }) {
		t.Fatalf("60 s after Kafka came back: %d rows of the erased member, %d events waiting in the outboxes", queryInt(t, db, erased, gone.ID), queryInt(t, db, drained))
	}
	// A summary of the day again: nothing of the member comes back.
	c.runJob(admin, "daily-summary", map[string]any{"date": start.Format(time.DateOnly)})
	if n := queryInt(t, db, erased, gone.ID); n != 0 {
		t.Errorf("the day's summary brought back %d rows of the erased member", n)
	}
	records := testkit.AllRecords(t, p.Kafka.Addr)
	if len(records) == 0 {
		t.Fatal("no records in Kafka at all")
	}
	for _, m := range records {
		for _, secret := range []string{secretName, relayedURL, pendingURL, "relayed-" + suffix, "pending-" + suffix} {
			if strings.Contains(string(m.Value), secret) || strings.Contains(string(m.Key), secret) {
				t.Errorf("%s/%d@%d carries %q: %s", m.Topic, m.Partition, m.Offset, secret, m.Value)
			}
		}
	}
	t.Logf("%d records searched", len(records))
}
