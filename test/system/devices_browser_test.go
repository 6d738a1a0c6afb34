package systemtest

import (
	"fmt"
	"os"
	"testing"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestTheWebAppManagesDesktopAgents runs services/web/web/e2e/devices.mjs in
// headless Chromium against the platform: a member registers a desktop agent
// and is shown its token once (copied by the button, taken by the API), the
// table's times are the API's in the organization's zone (not UTC), an agent
// registered and revoked on the keyboard alone has its token refused, a new
// token for an agent refuses the old one, an admin sees a member's agents
// apart from their own and revokes one, a manager sees their own alone; and
// on each of these pages axe-core and a page that fits a phone's width.
func TestTheWebAppManagesDesktopAgents(t *testing.T) {
	root := browserReady(t)
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Devices Org "+suffix)
	erin := c.Invite(admin, "erin-"+suffix+"@example.com", "Erin Employee", "employee")
	mona := c.Invite(admin, "mona-"+suffix+"@example.com", "Mona Manager", "manager")
	// A zone 5.5 hours off UTC: a time shown in UTC or the browser's zone
	// differs from it in the hour and the minute.
	const zone = "Asia/Kolkata"
	c.Must(200, "PATCH", "/organization", admin.Token, map[string]any{"time_zone": zone})
	runBrowserScript(t, root, p, "e2e/devices.mjs", "ZONE="+zone,
		"ADMIN_EMAIL="+admin.Email, "EMPLOYEE_EMAIL="+erin.Email, "MANAGER_EMAIL="+mona.Email,
		"SCREENSHOTS="+os.Getenv("WORKPULSE_SCREENSHOTS"))
}
