package systemtest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestRemovingAMemberWithErasureEmptiesEveryServiceOfThemAndOnlyOfThem
// removes a member with data=erase on the platform as make dev runs it:
// user.removed travels through auth's outbox and Kafka to session, ingest
// and report, which delete the member's sessions, activity, dedup keys,
// time requests, summaries and name within seconds, while a colleague's stay as they were.
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
		// A manual entry still waiting for review: no session takes it along.
		c.Must(201, "POST", "/time-requests", m.Token, map[string]any{"start_time": start.Add(-3 * time.Hour).Format(time.RFC3339),
			"end_time": start.Add(-2 * time.Hour).Format(time.RFC3339), "note": "workshop"})
	}
	c.runJob(admin, "daily-summary", map[string]any{"date": start.Format(time.DateOnly)})

	db := p.PG.Conn(t)
	held := func(user string) map[string]int {
		t.Helper()
		out := map[string]int{}
		for _, table := range []string{"tracking.work_sessions", "tracking.activity_logs", "tracking.activity_dedup",
			"tracking.time_requests", "reporting.daily_summaries", "reporting.users"} {
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
