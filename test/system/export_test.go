package systemtest

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// memberExport is GET /api/users/{id}/export as JSON.
type memberExport struct {
	UserID string `json:"user_id"`
	Auth   struct {
		Profile   []map[string]any `json:"profile"`
		Teams     []map[string]any `json:"teams"`
		Devices   []map[string]any `json:"devices"`
		SignIns   []map[string]any `json:"sign_ins"`
		Audit     []map[string]any `json:"audit"`
		Truncated []string         `json:"truncated"`
	} `json:"auth"`
	Tracking struct {
		WorkSessions  []map[string]any `json:"work_sessions"`
		Activity      []map[string]any `json:"activity"`
		IdleDecisions []map[string]any `json:"idle_decisions"`
		TimeRequests  []map[string]any `json:"time_requests"`
		Truncated     []string         `json:"truncated"`
	} `json:"tracking"`
	Reporting struct {
		Member         []map[string]any `json:"member"`
		DailySummaries []map[string]any `json:"daily_summaries"`
		Alerts         []map[string]any `json:"alerts"`
		Truncated      []string         `json:"truncated"`
	} `json:"reporting"`
}

// TestAMembersExportHoldsWhatEveryServiceStoresOfThemAndNothingOfAColleague
// gives a member and a colleague data in every schema (a team, a device,
// sign-ins, a session with activity and an idle decision, a manual entry,
// a summary and an alert) and exports the member through the front door:
// auth's, ingest's and report's parts are all there, with no token and
// nothing of the colleague; the CSV neutralizes a formula name; only the
// member and an admin may export, and each export is audited.
func TestAMembersExportHoldsWhatEveryServiceStoresOfThemAndNothingOfAColleague(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Export Org "+suffix)
	const formula = `=HYPERLINK("http://evil.example/","open")`
	member := c.Invite(admin, "mia-"+suffix+"@example.com", formula, "employee")
	colleague := c.Invite(admin, "col-"+suffix+"@example.com", "Colleague Cole", "employee")
	lead := c.Invite(admin, "lead-"+suffix+"@example.com", "Lead Lee", "manager")
	foreign := c.Register("fay-"+suffix+"@example.com", "Fay Foreign", "Foreign Org "+suffix)

	var team struct{ ID string }
	c.Must(201, "POST", "/teams", admin.Token, map[string]any{"name": "Exporters"}).Into(t, &team)
	c.Must(200, "PUT", "/teams/"+team.ID+"/members/"+member.ID, admin.Token, map[string]any{"role": "member"})
	c.Must(200, "PUT", "/teams/"+team.ID+"/members/"+lead.ID, admin.Token, map[string]any{"role": "manager"})
	var device struct{ ID, Token string }
	c.Must(201, "POST", "/devices", member.Token, map[string]any{"name": "Mia's laptop"}).Into(t, &device)

	now := clock.Real.Now().UTC()
	start := now.Add(-50 * time.Minute).Truncate(time.Minute)
	if midnight := now.Truncate(24 * time.Hour); start.Before(midnight) {
		start = midnight
	}
	sessions := map[string]string{}
	for _, m := range []Member{member, colleague} {
		s := c.StartSession(m, start)
		sessions[m.ID] = s.ID
		beat := Heartbeats(start.Add(time.Minute), 1, 60, "active")[0]
		beat.URL = "https://u-" + m.ID[:8] + ".example/page"
		if _, err := c.Agent(m, NewLedger()).Single(s.ID, beat); err != nil {
			t.Fatal(err)
		}
		c.Must(201, "POST", "/sessions/"+s.ID+"/activity/bulk", m.Token, map[string]any{"activities": Heartbeats(start.Add(2*time.Minute), 2, 5, "idle")})
		c.Must(201, "POST", "/sessions/"+s.ID+"/idle-decisions", m.Token, map[string]any{"start_time": start.Add(2 * time.Minute).Format(time.RFC3339),
			"end_time": start.Add(10 * time.Minute).Format(time.RFC3339), "decision": "keep"})
		c.Must(201, "POST", "/time-requests", m.Token, map[string]any{"start_time": start.Add(-3 * time.Hour).Format(time.RFC3339),
			"end_time": start.Add(-2 * time.Hour).Format(time.RFC3339), "note": "workshop of " + m.ID})
	}
	c.runJob(admin, "daily-summary", map[string]any{"date": start.Format(time.DateOnly)})
	// Both sessions have been quiet for most of an hour: an idle alert each.
	c.runJob(admin, "idle-detection", nil)

	var got memberExport
	var raw []byte
	if !WaitFor(time.Minute, func() bool {
		r := c.Must(200, "GET", "/users/me/export", member.Token, nil)
		raw = r.Raw
		got = memberExport{}
		r.Into(t, &got)
		return len(got.Reporting.DailySummaries) > 0 && len(got.Reporting.Alerts) > 0 && len(got.Reporting.Member) > 0
	}) {
		t.Fatalf("the export never held the member's summary, alert and profile copy: %s", raw)
	}

	t.Run("Every part holds the member's records.", func(t *testing.T) {
		a, tr, rp := got.Auth, got.Tracking, got.Reporting
		for name, ok := range map[string]bool{
			"user_id":         got.UserID == member.ID,
			"profile":         len(a.Profile) == 1 && a.Profile[0]["id"] == member.ID && a.Profile[0]["name"] == formula,
			"teams":           len(a.Teams) == 1 && a.Teams[0]["team_id"] == team.ID && a.Teams[0]["team_name"] == "Exporters",
			"devices":         len(a.Devices) == 1 && a.Devices[0]["id"] == device.ID,
			"sign_ins":        len(a.SignIns) >= 1,
			"audit":           slices.ContainsFunc(a.Audit, func(e map[string]any) bool { return e["action"] == "team.member_added" }),
			"work_sessions":   len(tr.WorkSessions) == 1 && tr.WorkSessions[0]["id"] == sessions[member.ID],
			"activity":        len(tr.Activity) == 3 && slices.ContainsFunc(tr.Activity, func(e map[string]any) bool { return strings.Contains(fmt.Sprint(e["url"]), member.ID[:8]) }),
			"idle_decisions":  len(tr.IdleDecisions) == 1 && tr.IdleDecisions[0]["decision"] == "keep",
			"time_requests":   len(tr.TimeRequests) == 1 && tr.TimeRequests[0]["note"] == "workshop of "+member.ID,
			"member":          len(rp.Member) == 1 && rp.Member[0]["user_id"] == member.ID,
			"daily_summaries": len(rp.DailySummaries) == 1 && rp.DailySummaries[0]["date"] == start.Format(time.DateOnly),
			"alerts":          len(rp.Alerts) >= 1 && rp.Alerts[0]["session_id"] == sessions[member.ID],
			"nothing cut":     len(a.Truncated)+len(tr.Truncated)+len(rp.Truncated) == 0,
		} {
			if !ok {
				t.Errorf("%s is not the member's: %s", name, raw)
			}
		}
	})
	t.Run("Nothing of the colleague and no secret is in it.", func(t *testing.T) {
		for what, s := range map[string]string{"the colleague's id": colleague.ID, "the colleague's email": colleague.Email,
			"the colleague's session": sessions[colleague.ID], "the device token": device.Token, "the member's access token": member.Token,
			"a password hash": "password_hash", "a token column": `"token`} {
			if bytes.Contains(raw, []byte(s)) {
				t.Errorf("the export holds %s", what)
			}
		}
	})
	t.Run("The CSV has a row per field and neutralizes the formula name.", func(t *testing.T) {
		r := c.Must(200, "GET", "/users/"+member.ID+"/export?format=csv", admin.Token, nil)
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("Content-Type %q", ct)
		}
		rows, err := csv.NewReader(bytes.NewReader(r.Raw)).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(rows[0], []string{"section", "record", "field", "value"}) {
			t.Fatalf("header %q", rows[0])
		}
		sections := map[string]bool{}
		for _, row := range rows[1:] {
			sections[row[0]] = true
			if row[0] == "profile" && row[2] == "name" && row[3] != "'"+formula {
				t.Errorf("the name cell %q is not neutralized", row[3])
			}
		}
		for _, s := range []string{"profile", "teams", "devices", "sign_ins", "audit", "work_sessions", "activity", "idle_decisions",
			"time_requests", "member", "daily_summaries", "alerts"} {
			if !sections[s] {
				t.Errorf("the CSV has no %s rows", s)
			}
		}
		if bytes.Contains(r.Raw, []byte(colleague.ID)) {
			t.Error("the CSV holds the colleague's id")
		}
	})
	t.Run("Only the member and an admin of their organization export them.", func(t *testing.T) {
		for _, tt := range []struct {
			name  string
			as    Member
			want  int
			code  string
			whose string
		}{
			{"A colleague is refused.", colleague, 403, "AUTH_INSUFFICIENT_PERMISSIONS", member.ID},
			{"The manager of the member's team is refused.", lead, 403, "AUTH_INSUFFICIENT_PERMISSIONS", member.ID},
			{"The manager exports their own.", lead, 200, "", "me"},
			{"Another organization's admin finds no such member.", foreign, 404, "USER_NOT_FOUND", member.ID},
			{"A format other than json or csv is refused.", member, 400, "VALIDATION_FAILED", "me/export?format=xml"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				path := "/users/" + tt.whose + "/export"
				if strings.Contains(tt.whose, "?") {
					path = "/users/" + tt.whose
				}
				r := c.Must(tt.want, "GET", path, tt.as.Token, nil)
				if r.Code() != tt.code {
					t.Errorf("code %q, want %q", r.Code(), tt.code)
				}
			})
		}
	})
	t.Run("Each export is audited with its actor and format.", func(t *testing.T) {
		var entries []struct {
			ActorID *string        `json:"actor_id"`
			Details map[string]any `json:"details"`
		}
		c.Must(200, "GET", "/audit?action=user.data_exported&subject_id="+member.ID, admin.Token, nil).Into(t, &entries)
		seen := map[string]bool{}
		for _, e := range entries {
			if e.ActorID != nil {
				seen[*e.ActorID+" "+fmt.Sprint(e.Details["format"])] = true
			}
		}
		if !seen[member.ID+" json"] || !seen[admin.ID+" csv"] {
			t.Errorf("audit entries %+v", entries)
		}
	})
}

// TestAnExportIsBoundedPerKindOfRecordAndItsPartsAreNotPublic runs the
// platform with EXPORT_MAX_ROWS=2: a member with three activities gets
// two of them, and the tracking part names activity as cut, in JSON and
// CSV alike. The services' parts, which nothing audits, do not come back
// through the front door.
func TestAnExportIsBoundedPerKindOfRecordAndItsPartsAreNotPublic(t *testing.T) {
	p := StartPlatform(t, "EXPORT_MAX_ROWS=2")
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Bounded Org "+suffix)
	now := clock.Real.Now().UTC()
	start := now.Add(-20 * time.Minute).Truncate(time.Minute)
	if midnight := now.Truncate(24 * time.Hour); start.Before(midnight) {
		start = midnight
	}
	s := c.StartSession(admin, start)
	c.Must(201, "POST", "/sessions/"+s.ID+"/activity/bulk", admin.Token, map[string]any{"activities": Heartbeats(start.Add(time.Minute), 3, 60, "active")})

	var got memberExport
	c.Must(200, "GET", "/users/me/export", admin.Token, nil).Into(t, &got)
	if len(got.Tracking.Activity) != 2 || !slices.Equal(got.Tracking.Truncated, []string{"activity"}) {
		t.Errorf("activity %d records, truncated %q; want 2 and [activity]", len(got.Tracking.Activity), got.Tracking.Truncated)
	}
	if len(got.Tracking.WorkSessions) != 1 || len(got.Auth.Truncated) != 0 || len(got.Reporting.Truncated) != 0 {
		t.Errorf("a kind within the bound was cut: %+v", got)
	}
	rows, err := csv.NewReader(bytes.NewReader(c.Must(200, "GET", "/users/me/export?format=csv", admin.Token, nil).Raw)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rows, func(r []string) bool { return slices.Equal(r, []string{"truncated", "1", "section", "activity"}) }) {
		t.Errorf("the CSV names no cut section: %q", rows)
	}

	for _, path := range []string{"/internal/users/" + admin.ID + "/export", "/internal/users/me/export"} {
		req, err := http.NewRequest("GET", strings.TrimSuffix(p.URL, "/api")+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+admin.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		// The web service answers paths outside /api (its pages); what
		// matters is that no service's part comes back.
		if bytes.Contains(body, []byte(`"truncated"`)) || bytes.Contains(body, []byte(admin.ID)) {
			t.Errorf("GET %s through the front door answered a part of the export: %d %s", path, resp.StatusCode, body)
		}
	}
}
