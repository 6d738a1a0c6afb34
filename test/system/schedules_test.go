package systemtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestASelfRegisteredOrganizationIsKeptWithNobodyTriggeringAnything runs
// make dev's schedules (shortened) as the operator runs them in a
// cluster, its storage pass included: an organization without a
// WorkPulseTenant uploads yesterday's work late and finds it summarized,
// sees today's work in its daily report within 2 seconds of each accepted
// post, and a future month of the activity storage that was dropped is
// made again, no job triggered by anyone.
func TestASelfRegisteredOrganizationIsKeptWithNobodyTriggeringAnything(t *testing.T) {
	p := startPlatform(t, []string{"DEV_DAILY_SUMMARY_EVERY=1s", "DEV_IDLE_DETECTION_EVERY=1s", "DEV_OVERTIME_CHECK_EVERY=1s",
		"DEV_STORAGE_MAINTENANCE_EVERY=1s"}, nil)
	c := p.Client(t)
	admin := c.Register("admin@nightly.example", "Admin", "Nightly")
	agent := c.Agent(admin, NewLedger())

	type daily struct {
		Date          string `json:"date"`
		ActiveSeconds int64  `json:"active_seconds"`
		IdleSeconds   int64  `json:"idle_seconds"`
	}
	report := func(query string) *daily {
		var d *daily
		c.Must(http.StatusOK, "GET", "/reports/daily"+query, admin.Token, nil).Into(t, &d)
		return d
	}

	// Yesterday's late upload is stored and summarized.
	{
		yesterday := clock.Real.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
		start := yesterday.Add(9 * time.Hour)
		sess := c.StartSession(admin, start)
		res, r, err := agent.Bulk(sess.ID, Heartbeats(start, 20, 30, "active"))
		if err != nil || r.Status != http.StatusCreated || res.Uploaded != 20 {
			t.Fatalf("yesterday's offline batch: %d %+v (%v)", r.Status, res, err)
		}
		c.StopSession(admin, sess.ID)
		var d *daily
		if !WaitFor(30*time.Second, func() bool {
			d = report("?date=" + yesterday.Format(time.DateOnly))
			return d != nil && d.ActiveSeconds == 600
		}) {
			t.Fatalf("yesterday's report %+v after 30 seconds, want 600 active seconds", d)
		}
	}

	// Today's report shows each accepted post exactly within 2 seconds.
	{
		now := clock.Real.Now().UTC()
		if since := now.Sub(now.Truncate(24 * time.Hour)); since < 2*time.Minute {
			// The posts below are of the two minutes before now: all of today.
			time.Sleep(2*time.Minute - since)
			now = clock.Real.Now().UTC()
		}
		start := now.Add(-2 * time.Minute).Truncate(time.Second)
		sess := c.StartSession(admin, start)
		var active, idle int64
		for i, act := range []Activity{
			{ClientActivityID: "11111111-0000-4000-8000-000000000001", Timestamp: start, ActivityType: "active", DurationSeconds: 30},
			{ClientActivityID: "11111111-0000-4000-8000-000000000002", Timestamp: start.Add(30 * time.Second), ActivityType: "idle", DurationSeconds: 15},
			{ClientActivityID: "11111111-0000-4000-8000-000000000003", Timestamp: start.Add(45 * time.Second), ActivityType: "active", DurationSeconds: 20},
		} {
			r, err := agent.Single(sess.ID, act)
			if err != nil || r.Status != http.StatusCreated {
				t.Fatalf("post %d: %d %s (%v)", i, r.Status, r.Raw, err)
			}
			accepted := clock.Start()
			if act.ActivityType == "active" {
				active += int64(act.DurationSeconds)
			} else {
				idle += int64(act.DurationSeconds)
			}
			var d *daily
			if !WaitFor(2*time.Second, func() bool {
				d = report("")
				return d != nil && d.ActiveSeconds == active && d.IdleSeconds == idle
			}) {
				t.Fatalf("today's report %+v 2 seconds after post %d, want %d active and %d idle seconds", d, i, active, idle)
			}
			t.Logf("post %d shown after %s", i, accepted.Elapsed())
			if d.Date != now.Format(time.DateOnly) {
				t.Errorf("today's report is of %s, want %s", d.Date, now.Format(time.DateOnly))
			}
		}
	}

	// A dropped future month of the activity storage is made again.
	{
		db := p.PG.Conn(t)
		last := storage.MonthOf(clock.Real.Now()).Add(storage.DefaultPremake).Partition(storage.SharedTree)
		exists := func() bool {
			var ok bool
			if err := db.QueryRow(context.Background(), "SELECT to_regclass($1) IS NOT NULL",
				pgx.Identifier{"tracking", last}.Sanitize()).Scan(&ok); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		if !exists() {
			t.Fatalf("tracking.%s, the last month ahead, does not exist", last)
		}
		if _, err := db.Exec(context.Background(), "DROP TABLE "+pgx.Identifier{"tracking", last}.Sanitize()); err != nil {
			t.Fatal(err)
		}
		if !WaitFor(20*time.Second, exists) {
			t.Fatalf("tracking.%s is not made again 20 seconds after it was dropped", last)
		}
	}
}
