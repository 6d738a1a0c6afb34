package report

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/test/testkit"
)

func TestOpenAlertsAreCountedByKindAcrossEveryTenantOncePerScrapeInterval(t *testing.T) {
	e := newEnv(t)
	now := e.clock.Now()
	alert := func(org uuid.UUID, kind string, resolved bool) uuid.UUID {
		id := uuid.New()
		var session, localDate, resolvedAt any
		if kind == "idle" {
			session = uuid.New()
		} else {
			localDate = now.Format(time.DateOnly)
		}
		if resolved {
			resolvedAt = now
		}
		e.exec(`INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, local_date, resolved_at)
			VALUES ($1, $2, $3, $4, $5, 'test', $6, $7)`, id, org, uuid.New(), session, kind, localDate, resolvedAt)
		return id
	}
	orgA, orgB := uuid.New(), uuid.New()
	idleA := alert(orgA, "idle", false)
	alert(orgB, "idle", false)
	alert(orgB, "idle", true)
	alert(orgB, "overtime", true)
	reg := prometheus.NewRegistry()
	reg.MustRegister(OpenAlertsMetric(e.pool, e.clock, 30*time.Second))

	t.Run("Every tenant's unresolved alerts are counted by kind, 0 for a kind with none open.", func(t *testing.T) {
		got := testkit.Gauges(t, reg, "kind")
		if got["workpulse_alerts_open/idle"] != 2 || got["workpulse_alerts_open/overtime"] != 0 || len(got) != 2 {
			t.Fatalf("open alerts %v, want 2 idle and 0 overtime", got)
		}
	})
	e.exec("UPDATE reporting.alerts SET resolved_at = $2 WHERE id = $1", idleA, now)
	t.Run("A scrape within the interval is answered from the last reading.", func(t *testing.T) {
		e.clock.Set(now.Add(29 * time.Second))
		if got := testkit.Gauges(t, reg, "kind")["workpulse_alerts_open/idle"]; got != 2 {
			t.Fatalf("open idle alerts %v, want the cached 2", got)
		}
	})
	t.Run("The first scrape after the interval reads again.", func(t *testing.T) {
		e.clock.Set(now.Add(30 * time.Second))
		if got := testkit.Gauges(t, reg, "kind")["workpulse_alerts_open/idle"]; got != 1 {
			t.Fatalf("open idle alerts %v, want 1", got)
		}
	})
}
