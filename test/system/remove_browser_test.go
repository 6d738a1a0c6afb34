package systemtest

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestTheWebAppRemovesMembersKeepingOrErasingTheirData runs
// services/web/web/e2e/remove.mjs in headless Chromium against the platform:
// an admin removes one member on the People page keeping their data, and
// the API goes on answering their sessions, summaries and alerts, by name in
// the team's report; then removes another erasing it (chosen with the arrow
// keys), and within seconds the API answers none of that member's, while a
// colleague's and the kept member's stay exactly as they were.
func TestTheWebAppRemovesMembersKeepingOrErasingTheirData(t *testing.T) {
	root := browserReady(t)
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Removal Browser Org "+suffix)
	kept := c.Invite(admin, "kept-"+suffix+"@example.com", "Kept Member", "employee")
	erased := c.Invite(admin, "erased-"+suffix+"@example.com", "Erased Member", "employee")
	colleague := c.Invite(admin, "stays-"+suffix+"@example.com", "Staying Colleague", "employee")

	// Each works a couple of minutes and then nothing for longer than the
	// inactivity threshold (10 minutes), so idle detection raises an alert
	// of theirs, and the day's summary counts the work.
	now := clock.Real.Now().UTC()
	day := now.Format(time.DateOnly)
	start := now.Add(-40 * time.Minute).Truncate(time.Minute)
	if midnight := now.Truncate(24 * time.Hour); start.Before(midnight) {
		start = midnight
	}
	for _, m := range []Member{kept, erased, colleague} {
		s := c.StartSession(m, start)
		if _, err := c.Agent(m, NewLedger()).Single(s.ID, Heartbeats(start, 1, 120, "active")[0]); err != nil {
			t.Fatal(err)
		}
	}
	c.runJob(admin, "idle-detection", nil)
	c.runJob(admin, "daily-summary", map[string]any{"date": day})

	runBrowserScript(t, root, p, "e2e/remove.mjs", "DAY="+day, "ADMIN_EMAIL="+admin.Email,
		"KEEP_ID="+kept.ID, "ERASE_ID="+erased.ID, "COLLEAGUE_ID="+colleague.ID,
		"SCREENSHOTS="+os.Getenv("WORKPULSE_SCREENSHOTS"))
}
