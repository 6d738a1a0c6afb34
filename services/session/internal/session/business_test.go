package session

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/test/testkit"
)

func TestTheBusinessMetricsSumEveryTenantForTodayAndAskTheDatabaseOncePerScrapeInterval(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Owner.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	now := time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC)
	for _, month := range []string{"2027-06-01"} {
		exec("SELECT tracking.ensure_month_partition('activity_logs_shared', $1::date)", month)
	}
	orgA, orgB := uuid.New(), uuid.New()
	session := func(org uuid.UUID, status string, lastActivity time.Time) uuid.UUID {
		id := uuid.New()
		var end any
		if status == "stopped" {
			end = lastActivity
		}
		exec(`INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status, last_activity_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, org, uuid.New(), now.Add(-12*time.Hour), end, status, lastActivity)
		return id
	}
	activity := func(org, sid uuid.UUID, at time.Time, kind string, seconds int) {
		exec(`INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, uuid.New(), org, sid, uuid.New(), at, kind, seconds)
	}
	// Two people at work in two tenants; one session open but silent for
	// an hour; one stopped a minute ago.
	a := session(orgA, "active", now.Add(-time.Minute))
	b := session(orgB, "active", now.Add(-4*time.Minute))
	session(orgA, "active", now.Add(-time.Hour))
	session(orgB, "stopped", now.Add(-time.Minute))
	activity(orgA, a, now.Add(-2*time.Hour), "active", 3600)
	activity(orgB, b, now.Add(-time.Hour), "active", 600)
	activity(orgB, b, time.Date(2027, 6, 15, 0, 0, 0, 0, time.UTC), "idle", 120)
	// Yesterday's last minutes are not today's.
	activity(orgA, a, time.Date(2027, 6, 14, 23, 55, 0, 0, time.UTC), "active", 300)

	clk := testkit.NewClock(now)
	reg := prometheus.NewRegistry()
	reg.MustRegister(BusinessMetrics(db.Pool(t, "workpulse_session"), clk, 30*time.Second))

	t.Run("People tracking now are those of every tenant whose active session posted in the last 5 minutes.", func(t *testing.T) {
		if got := testkit.Gauges(t, reg, "type")["workpulse_people_tracking"]; got != 2 {
			t.Fatalf("people tracking %v, want 2", got)
		}
	})
	t.Run("Today's tracked seconds are every tenant's since 00:00 UTC, by type.", func(t *testing.T) {
		got := testkit.Gauges(t, reg, "type")
		if got["workpulse_tracked_seconds_today/active"] != 4200 || got["workpulse_tracked_seconds_today/idle"] != 120 {
			t.Fatalf("tracked today %v, want 4200 s active and 120 s idle", got)
		}
	})
	activity(orgA, a, now.Add(-time.Minute), "active", 60)
	t.Run("A scrape within the interval is answered from the last reading.", func(t *testing.T) {
		clk.Set(now.Add(29 * time.Second))
		if got := testkit.Gauges(t, reg, "type")["workpulse_tracked_seconds_today/active"]; got != 4200 {
			t.Fatalf("tracked today %v, want the cached 4200", got)
		}
	})
	t.Run("The first scrape after the interval reads again.", func(t *testing.T) {
		clk.Set(now.Add(30 * time.Second))
		if got := testkit.Gauges(t, reg, "type")["workpulse_tracked_seconds_today/active"]; got != 4260 {
			t.Fatalf("tracked today %v, want 4260", got)
		}
	})
}
