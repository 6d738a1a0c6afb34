package systemtest

import (
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// seedActivity is one activity an agent posts: the application it names
// (a URL's host, or the name of a program) and its seconds.
type seedActivity struct {
	url, app, kind string
	seconds        int
}

// appTotals are the seconds per application as a report adds them up.
type appTotals map[string]struct{ Active, Idle int }

func (a appTotals) add(acts []seedActivity) {
	for _, x := range acts {
		t := a[x.app]
		if x.kind == "active" {
			t.Active += x.seconds
		} else {
			t.Idle += x.seconds
		}
		a[x.app] = t
	}
}

// TestTheReportsChartsAndAnEmployeesDayShowTheAPIsNumbers runs
// services/web/web/e2e/reports.mjs in headless Chromium against the
// platform. Two members' agents post activity in nine applications of known
// seconds; then the team's day has its "Top applications" chart and table
// hold the eight most used with their active and idle seconds as the API
// and the seed have them (the ninth left out), its active and idle chart a
// bar per person of the API's seconds, a person's week a bar per day, and
// the employee's own day its activity (active, idle, productivity and
// applications) as the API's daily report has it, following a new post
// without a reload; and on these pages axe-core and a page that fits a
// phone's width.
func TestTheReportsChartsAndAnEmployeesDayShowTheAPIsNumbers(t *testing.T) {
	root := browserReady(t)
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Reports Org "+suffix)
	erin := c.Invite(admin, "erin-"+suffix+"@example.com", "Erin Employee", "employee")
	omar := c.Invite(admin, "omar-"+suffix+"@example.com", "Omar Other", "employee")

	// Seconds all different per application, so that the order (most
	// tracked first) has no ties; "Terminal" is a program, not a URL.
	seeds := []struct {
		m    Member
		acts []seedActivity
	}{
		{erin, []seedActivity{
			{"https://docs.example.com/guide", "docs.example.com", "active", 610},
			{"https://www.docs.example.com/api", "docs.example.com", "idle", 230},
			{"https://git.example.com/pulls", "git.example.com", "active", 470},
			{"https://chat.example.com/", "chat.example.com", "active", 150},
			{"https://chat.example.com/room", "chat.example.com", "idle", 290},
			{"Terminal", "Terminal", "active", 380},
			{"https://wiki.example.com/", "wiki.example.com", "active", 90},
		}},
		{omar, []seedActivity{
			{"https://git.example.com/issues", "git.example.com", "active", 520},
			{"https://mail.example.com/", "mail.example.com", "idle", 310},
			{"https://design.example.com/", "design.example.com", "active", 260},
			{"https://calendar.example.com/", "calendar.example.com", "active", 70},
			{"https://news.example.com/", "news.example.com", "idle", 40},
		}},
	}
	now := clock.Real.Now().UTC()
	day := now.Format(time.DateOnly)
	midnight, _ := time.Parse(time.DateOnly, day)
	start := now.Add(-30 * time.Minute)
	if start.Before(midnight) {
		start = midnight
	}
	team, own := appTotals{}, appTotals{}
	var erinSession string
	for _, seed := range seeds {
		s := c.StartSession(seed.m, start)
		for i, a := range seed.acts {
			at := start.Add(time.Duration(i+1) * now.Sub(start) / time.Duration(len(seed.acts)+1))
			c.Must(201, "POST", "/sessions/"+s.ID+"/activity", seed.m.Token, map[string]any{
				"activity_type": a.kind, "duration_seconds": a.seconds, "url": a.url,
				"client_activity_id": fmt.Sprintf("seed-%d", i), "timestamp": at.Format(time.RFC3339),
			})
		}
		team.add(seed.acts)
		if seed.m.ID == erin.ID {
			own.add(seed.acts)
			erinSession = s.ID
		}
	}
	c.runJob(admin, "daily-summary", map[string]any{"date": day})

	wantTeam, _ := json.Marshal(team)
	wantOwn, _ := json.Marshal(own)
	runBrowserScript(t, root, p, "e2e/reports.mjs", "DAY="+day,
		"ADMIN_EMAIL="+admin.Email, "EMPLOYEE_EMAIL="+erin.Email, "OTHER_EMAIL="+omar.Email,
		"EMPLOYEE_SESSION="+erinSession, "SEEDED_TEAM_APPS="+string(wantTeam), "SEEDED_EMPLOYEE_APPS="+string(wantOwn),
		"SCREENSHOTS="+os.Getenv("WORKPULSE_SCREENSHOTS"))
}
