package systemtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestTheWebAppInARealBrowser runs services/web/web/e2e/browser.mjs in
// headless Chromium against the whole platform: sign in, the live board
// loading today's sessions in one request and following an agent's post
// within a second, reports of a day, a week and a month (totals and the
// productivity trend) and a person's day equal to the API's, the week's CSV
// equal to the API's, alerts resolved and filtered, projects created,
// archived and restored, times in the organization's zone, a settings change
// that persists, an invitation from the people page accepted by its person,
// who lands signed in, that member's role changed, deactivated and
// reactivated there while the last admin is kept, that member removed with
// their data kept after a confirmation dialog, a manager seeing their team
// alone on the board, in the reports and the alerts and refused the admin's
// pages, sign-in and navigation by keyboard alone, an employee kept off the
// team board and the settings, an
// employee's own day as the organization's day in a zone a day off UTC's, a
// forgotten password reset through the link mailed to a real SMTP server
// (mailpit), and on every page axe-core and a page that fits a phone's width.
// testkit.DebianBinary installs Debian's chromium on
// a machine that has none; hack/web-build.sh builds the app and installs
// playwright-core and axe-core.
func TestTheWebAppInARealBrowser(t *testing.T) {
	root := browserReady(t)
	mp := testkit.StartMailpit(t)
	p := StartPlatform(t, "SMTP_HOST="+mp.SMTPHost, fmt.Sprintf("SMTP_PORT=%d", mp.SMTPPort), "SMTP_SECURITY=none",
		"SMTP_FROM=noreply@workpulse.test", "PUBLIC_URL=http://workpulse.test", "MAIL_POLL_INTERVAL=100ms")
	c := p.Client(t)

	// The seed: an admin, an employee working now on a project, and a
	// colleague whose session has had no activity, so that idle detection
	// raises an alert to resolve.
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Browser Org "+suffix)
	erin := c.Invite(admin, "erin-"+suffix+"@example.com", "Erin Employee", "employee")
	ivan := c.Invite(admin, "ivan-"+suffix+"@example.com", "Ivan Idle", "employee")
	rita := c.Invite(admin, "rita-"+suffix+"@example.com", "Rita Reset", "employee")
	var project struct{ ID string }
	c.Must(201, "POST", "/projects", admin.Token, map[string]any{"name": "Website"}).Into(t, &project)
	// A manager whose one team has Erin in it and not Ivan or Rita.
	mona := c.Invite(admin, "mona-"+suffix+"@example.com", "Mona Manager", "manager")
	var team struct{ ID string }
	c.Must(201, "POST", "/teams", admin.Token, map[string]any{"name": "Website team"}).Into(t, &team)
	c.Must(200, "PUT", "/teams/"+team.ID+"/members/"+mona.ID, admin.Token, map[string]any{"role": "manager"})
	c.Must(200, "PUT", "/teams/"+team.ID+"/members/"+erin.ID, admin.Token, map[string]any{"role": "member"})

	now := clock.Real.Now().UTC()
	day := now.Format(time.DateOnly)
	midnight, _ := time.Parse(time.DateOnly, day)
	start := now.Add(-40 * time.Minute)
	if start.Before(midnight) {
		start = midnight
	}
	var s Session
	c.Must(201, "POST", "/sessions/start", erin.Token, map[string]any{"project_id": project.ID, "start_time": start.Format(time.RFC3339)}).Into(t, &s)
	for i, kind := range []string{"active", "active", "idle", "active"} {
		at := start.Add(time.Duration(i+1) * now.Sub(start) / 5)
		c.Must(201, "POST", "/sessions/"+s.ID+"/activity", erin.Token, map[string]any{
			"activity_type": kind, "duration_seconds": 120 + 60*i, "client_activity_id": fmt.Sprintf("seed-%d", i),
			"timestamp": at.Format(time.RFC3339), "url": "https://docs.example.com/page",
		})
	}
	c.StartSession(ivan, start)
	c.runJob(admin, "idle-detection", nil)
	c.runJob(admin, "daily-summary", map[string]any{"date": day})

	runBrowserScript(t, root, p, "e2e/browser.mjs", "DAY="+day,
		"ADMIN_EMAIL="+admin.Email, "MANAGER_EMAIL="+mona.Email, "EMPLOYEE_EMAIL="+erin.Email, "EMPLOYEE_TOKEN="+erin.Token, "SESSION_ID="+s.ID,
		"RESET_EMAIL="+rita.Email, "MAILPIT_API="+mp.API,
		"SCREENSHOTS="+os.Getenv("WORKPULSE_SCREENSHOTS"))
}

// TestTheWebAppKeepsItsUserSignedInPastManyTokenExpiries runs
// services/web/web/e2e/refresh.mjs against the platform with 5-second access
// tokens: the board stays live and its requests succeed past several expiries,
// with a second tab of the same session open
// (the app refreshes before expiry, the feed reconnects when the socket is
// closed at expiry), requests that meet an expired token together share one
// refresh, no refresh token is ever spent twice, a member whose role changes
// keeps their page and sees the new role, signing out ends the session on the
// server, and a session ended elsewhere signs the page out.
func TestTheWebAppKeepsItsUserSignedInPastManyTokenExpiries(t *testing.T) {
	root := browserReady(t)
	const expires = 5
	p := StartPlatform(t, fmt.Sprintf("JWT_EXPIRATION=%ds", expires))
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Refresh Org "+suffix)
	erin := c.Invite(admin, "erin-"+suffix+"@example.com", "Erin Employee", "employee")
	s := c.StartSession(erin, clock.Real.Now().Add(-10*time.Minute))
	runBrowserScript(t, root, p, "e2e/refresh.mjs", fmt.Sprintf("EXPIRES=%d", expires), "STAY=40",
		"ADMIN_EMAIL="+admin.Email, "EMPLOYEE_EMAIL="+erin.Email, "SESSION_ID="+s.ID)
}

// browserReady installs Chromium and builds the web app, and returns the
// repository's root.
func browserReady(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	testkit.DebianBinary(t, "/usr/bin/chromium")
	if out, err := exec.Command(filepath.Join(root, "hack/web-build.sh")).CombinedOutput(); err != nil {
		t.Fatalf("hack/web-build.sh: %v\n%s", err, out)
	}
	return root
}

// runBrowserScript runs one of services/web/web/e2e's scripts against p with
// the seeded users' password and env, and fails t if a check failed.
func runBrowserScript(t *testing.T, root string, p *Platform, name string, env ...string) {
	t.Helper()
	script := exec.Command("node", name)
	script.Dir = filepath.Join(root, "services/web/web")
	script.Env = append(os.Environ(), "BASE_URL="+strings.TrimSuffix(p.URL, "/api"), "PASSWORD=correct horse battery")
	script.Env = append(script.Env, env...)
	out, err := script.CombinedOutput()
	t.Logf("browser checks (%s):\n%s", name, out)
	if err != nil {
		t.Fatalf("the browser checks failed: %v", err)
	}
}
