package systemtest

import (
	"net/http"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestASelfRegisteredOrganizationGetsYesterdaysSummaryWithNobodyTriggeringIt
// runs make dev's schedules (shortened) as the operator's install-wide
// CronJobs run in a cluster: an organization without a WorkPulseTenant
// uploads yesterday's work late and finds it summarized, no job
// triggered.
func TestASelfRegisteredOrganizationGetsYesterdaysSummaryWithNobodyTriggeringIt(t *testing.T) {
	p := startPlatform(t, []string{"DEV_DAILY_SUMMARY_EVERY=1s", "DEV_IDLE_DETECTION_EVERY=1s", "DEV_OVERTIME_CHECK_EVERY=1s"}, nil)
	c := p.Client(t)
	admin := c.Register("admin@nightly.example", "Admin", "Nightly")
	yesterday := clock.Real.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	start := yesterday.Add(9 * time.Hour)
	sess := c.StartSession(admin, start)
	res, r, err := c.Agent(admin, NewLedger()).Bulk(sess.ID, Heartbeats(start, 20, 30, "active"))
	if err != nil || r.Status != http.StatusCreated || res.Uploaded != 20 {
		t.Fatalf("yesterday's offline batch: %d %+v (%v)", r.Status, res, err)
	}
	c.StopSession(admin, sess.ID)

	var report *struct {
		Date          string `json:"date"`
		ActiveSeconds int64  `json:"active_seconds"`
	}
	day := yesterday.Format(time.DateOnly)
	if !WaitFor(30*time.Second, func() bool {
		report = nil
		c.Must(http.StatusOK, "GET", "/reports/daily?date="+day, admin.Token, nil).Into(t, &report)
		return report != nil && report.ActiveSeconds == 600
	}) {
		t.Fatalf("yesterday's report %+v after 30 seconds, want 600 active seconds", report)
	}
}
