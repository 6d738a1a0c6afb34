package systemtest

import (
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestAnApprovedSessionEditCorrectsThePastDaysSummaryAndThePayroll
// tracks an hour yesterday through the agent's API, summarizes the day,
// then has the employee ask for the session to start 15 minutes later
// and end 20 minutes later, and an admin approve it: the stored summary of
// yesterday follows within seconds (activity.corrected), and the payroll
// lists the one session with its new bounds and seconds, still tracked.
func TestAnApprovedSessionEditCorrectsThePastDaysSummaryAndThePayroll(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	admin := c.Register("admin@edits.example", "Admin", "Edits")
	emp := c.Invite(admin, "edith@edits.example", "Edith", "employee")
	day := clock.Real.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	date := day.Format(time.DateOnly)
	from := day.Add(10 * time.Hour)
	s := c.StartSession(emp, from)
	// 120 heartbeats of 30 s: 10:00 to 11:00.
	if res, r, err := c.Agent(emp, NewLedger()).Bulk(s.ID, Heartbeats(from, 120, 30, "active")); err != nil || res.Uploaded != 120 {
		t.Fatalf("bulk: %+v %v %v", res, r, err)
	}
	c.Must(200, "POST", "/sessions/"+s.ID+"/stop", emp.Token, map[string]any{"end_time": from.Add(time.Hour).Format(time.RFC3339)})
	c.runJob(admin, "daily-summary", map[string]any{"date": date})
	summary := func() (active int64) {
		var rows []struct {
			UserID        string `json:"user_id"`
			ActiveSeconds int64  `json:"active_seconds"`
		}
		c.Must(200, "GET", "/reports/organization?startDate="+date+"&endDate="+date, admin.Token, nil).Into(t, &rows)
		for _, r := range rows {
			if r.UserID == emp.ID {
				active += r.ActiveSeconds
			}
		}
		return active
	}
	if got := summary(); got != 3600 {
		t.Fatalf("yesterday's summary before the edit: %d active seconds, want 3600", got)
	}

	newFrom, newTo := from.Add(15*time.Minute), from.Add(80*time.Minute)
	var tr struct {
		ID string `json:"id"`
	}
	c.Must(201, "POST", "/time-requests", emp.Token, map[string]any{"kind": "edit", "session_id": s.ID,
		"start_time": newFrom.Format(time.RFC3339), "end_time": newTo.Format(time.RFC3339)}).Into(t, &tr)
	var res struct {
		Session Session `json:"session"`
	}
	c.Must(200, "POST", "/time-requests/"+tr.ID+"/approve", admin.Token, nil).Into(t, &res)
	// 30 heartbeats (900 s) fall before the new start; 20 minutes are gained.
	want := int64(3600 - 900 + 1200)
	if res.Session.TotalActiveSeconds != want || !res.Session.StartTime.Equal(newFrom) || res.Session.EndTime == nil || !res.Session.EndTime.Equal(newTo) {
		t.Fatalf("the edited session %+v, want %s..%s with %d active seconds", res.Session, newFrom, newTo, want)
	}
	var got int64
	if !WaitFor(30*time.Second, func() bool { got = summary(); return got == want }) {
		t.Errorf("yesterday's summary after the edit: %d active seconds, want %d", got, want)
	}
	var payroll struct {
		Entries []struct {
			SessionID     string    `json:"session_id"`
			StartTime     time.Time `json:"start_time"`
			EndTime       time.Time `json:"end_time"`
			ActiveSeconds int64     `json:"active_seconds"`
			Source        string    `json:"source"`
		} `json:"entries"`
	}
	c.Must(200, "GET", "/reports/payroll?startDate="+date+"&endDate="+date+"&format=json", admin.Token, nil).Into(t, &payroll)
	if e := payroll.Entries; len(e) != 1 || e[0].SessionID != s.ID || !e[0].StartTime.Equal(newFrom) || !e[0].EndTime.Equal(newTo) ||
		e[0].ActiveSeconds != want || e[0].Source != "tracked" {
		t.Errorf("payroll %+v, want the one edited session, tracked, with %d active seconds", payroll.Entries, want)
	}
}
