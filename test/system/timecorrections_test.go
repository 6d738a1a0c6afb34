package systemtest

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestTimeCorrectionsThroughTheFrontDoorAddUpExactly runs the whole
// platform once for two organizations: one whose employees decide their
// idle time while their agents upload, and one whose manual entries and
// session edits are approved, paid and then locked.
func TestTimeCorrectionsThroughTheFrontDoorAddUpExactly(t *testing.T) {
	p := StartPlatform(t)
	t.Run("Idle decisions made while the agents upload reach the summaries and the organization report exactly, and the audit keeps the activity they covered.",
		func(t *testing.T) { t.Parallel(); idleDecisionsAddUp(t, p) })
	t.Run("Approved manual entries and edits reach the summaries and the payroll, CSV and JSON alike, and a locked period refuses every change in the envelope.",
		func(t *testing.T) { t.Parallel(); lockedTimesheetsHold(t, p) })
}

// summaryRow is a daily summary as the reports answer it.
type summaryRow struct {
	UserID            string  `json:"user_id"`
	Date              string  `json:"date"`
	TotalWorkSeconds  int64   `json:"total_work_seconds"`
	ActiveSeconds     int64   `json:"active_seconds"`
	IdleSeconds       int64   `json:"idle_seconds"`
	ProductivityScore float64 `json:"productivity_score"`
	SessionsCount     int     `json:"sessions_count"`
}

// expectedSummary is the summary of active and idle seconds, one session.
func expectedSummary(user, date string, active, idle int64) summaryRow {
	score := 0.0
	if active+idle > 0 {
		score = math.Round(float64(active)/float64(active+idle)*100*100) / 100
	}
	return summaryRow{UserID: user, Date: date, TotalWorkSeconds: active + idle, ActiveSeconds: active, IdleSeconds: idle,
		ProductivityScore: score, SessionsCount: 1}
}

// organizationReport is the organization report of one date by user.
func (c *Client) organizationReport(admin Member, date string) map[string]summaryRow {
	c.t.Helper()
	var rows []summaryRow
	c.Must(200, "GET", "/reports/organization?startDate="+date+"&endDate="+date, admin.Token, nil).Into(c.t, &rows)
	out := map[string]summaryRow{}
	for _, r := range rows {
		out[r.UserID] = r
	}
	return out
}

// stretch is a half-open interval of a day's heartbeats.
type stretch struct{ from, to time.Time }

func (s stretch) holds(ts time.Time) bool { return !ts.Before(s.from) && ts.Before(s.to) }

// secondsOf is the active and the idle seconds of acts.
func secondsOf(acts []Activity) (active, idle int64) {
	for _, a := range acts {
		if a.ActivityType == "active" {
			active += int64(a.DurationSeconds)
		} else {
			idle += int64(a.DurationSeconds)
		}
	}
	return active, idle
}

// idleSecondsIn is the seconds of the idle activities of acts in s.
func idleSecondsIn(acts []Activity, s stretch) (n int64) {
	for _, a := range acts {
		if a.ActivityType == "idle" && s.holds(a.Timestamp) {
			n += int64(a.DurationSeconds)
		}
	}
	return n
}

// idleDecision is what a decision's answer and the audit say it covered.
type idleDecision struct {
	ID          string `json:"id"`
	Decision    string `json:"decision"`
	Activities  int    `json:"activities"`
	IdleSeconds int64  `json:"idle_seconds"`
}

// idleDecisionsAddUp has three employees of one organization, each with a
// session tracked yesterday and summarized, keep one idle stretch as work,
// discard one and assign one to a project while their agents upload more
// of the same day, one decision racing the idle heartbeats posted into its
// own stretch; a second decision of that stretch takes exactly what the
// first left. The session totals, the stored summaries (daily, per user
// and the organization report) then count every second as decided, and
// the audit lists each decision with the activities it covered, which the
// member's export still holds as the idle activity they were. Today's
// live reports count a decision from its answer on.
func idleDecisionsAddUp(t *testing.T, p *Platform) {
	c := p.Client(t)
	admin := c.Register("admin@idle.example", "Ida Admin", "Idle decisions")
	var project struct {
		ID string `json:"id"`
	}
	c.Must(201, "POST", "/projects", admin.Token, map[string]any{"name": "Support"}).Into(t, &project)
	day := clock.Real.Now().UTC().Truncate(24 * time.Hour).Add(-24 * time.Hour)
	date := day.Format(time.DateOnly)
	at := func(hour, minute int) time.Time {
		return day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	keep, discard, assign := stretch{at(9, 30), at(10, 0)}, stretch{at(10, 30), at(11, 0)}, stretch{at(11, 0), at(11, 30)}
	raced := stretch{at(12, 0), at(13, 0)}
	type employee struct {
		m       Member
		session string
		// before is uploaded before the summary: active and idle
		// stretches of a minute each, and the first quarter of the raced
		// stretch's idle time. racing and after are uploaded while the
		// decisions are made: the rest of the raced stretch one post at a
		// time, then active work and idle time that no decision covers.
		// Each employee's have their own client ids, on the same instants.
		before, racing, after []Activity
		decided               []idleDecision // every decision's answer
		errs                  []string
	}
	var emps []*employee
	for i, name := range []string{"Ines", "Igor", "Iris"} {
		m := c.Invite(admin, fmt.Sprintf("%s%d@idle.example", name, i), name, "employee")
		e := &employee{m: m, session: c.StartSession(m, at(9, 0)).ID,
			before: slices.Concat(Heartbeats(at(9, 0), 30, 60, "active"), Heartbeats(keep.from, 30, 60, "idle"),
				Heartbeats(at(10, 0), 30, 60, "active"), Heartbeats(discard.from, 30, 60, "idle"), Heartbeats(assign.from, 30, 60, "idle"),
				Heartbeats(at(11, 30), 30, 60, "active"), Heartbeats(raced.from, 15, 60, "idle")),
			racing: Heartbeats(at(12, 15), 45, 60, "idle"),
			after:  slices.Concat(Heartbeats(at(13, 0), 30, 60, "active"), Heartbeats(at(13, 30), 15, 60, "idle"))}
		if res, r, err := c.Agent(m, NewLedger()).Bulk(e.session, e.before); err != nil || res.Uploaded != len(e.before) {
			t.Fatalf("%s's upload: %+v %d %s %v", name, res, r.Status, r.Raw, err)
		}
		emps = append(emps, e)
	}
	c.runJob(admin, "daily-summary", map[string]any{"date": date})
	report := c.organizationReport(admin, date)
	for _, e := range emps {
		active, idle := secondsOf(e.before)
		if got, want := report[e.m.ID], expectedSummary(e.m.ID, date, active, idle); got != want {
			t.Fatalf("%s's summary before any decision %+v, want %+v", e.m.Name, got, want)
		}
	}

	decide := func(e *employee, s stretch, decision string, project *string) (idleDecision, Resp, error) {
		var d struct {
			Decision idleDecision `json:"decision"`
		}
		r, err := c.Do("POST", "/sessions/"+e.session+"/idle-decisions", e.m.Token, map[string]any{"start_time": s.from.Format(time.RFC3339),
			"end_time": s.to.Format(time.RFC3339), "decision": decision, "project_id": project})
		if err == nil && r.Status == 201 {
			err = json.Unmarshal(r.Raw, &d)
		}
		return d.Decision, r, err
	}
	var wg sync.WaitGroup
	for _, e := range emps {
		agent := c.Agent(e.m, NewLedger())
		posted := make(chan struct{})
		var mu sync.Mutex
		fail := func(format string, a ...any) {
			mu.Lock()
			defer mu.Unlock()
			e.errs = append(e.errs, fmt.Sprintf(format, a...))
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			for i, a := range e.racing {
				if r, err := agent.Single(e.session, a); err != nil || r.Status != 201 {
					fail("posting %s: %d %s %v", a.Timestamp, r.Status, r.Raw, err)
				}
				if i == 10 {
					close(posted)
				}
			}
			for chunk := range slices.Chunk(e.after, 15) {
				if res, r, err := agent.Bulk(e.session, chunk); err != nil || res.Uploaded != len(chunk) {
					fail("uploading from %s: %+v %d %s %v", chunk[0].Timestamp, res, r.Status, r.Raw, err)
				}
			}
		}()
		go func() {
			defer wg.Done()
			for _, d := range []struct {
				s        stretch
				decision string
				project  *string
			}{{keep, "keep", nil}, {discard, "discard", nil}, {assign, "assign", &project.ID}} {
				got, r, err := decide(e, d.s, d.decision, d.project)
				if err != nil || r.Status != 201 {
					fail("%s of %s: %d %s %v", d.decision, d.s.from, r.Status, r.Raw, err)
					continue
				}
				if want := idleSecondsIn(e.before, d.s); got.IdleSeconds != want || got.Activities != 30 {
					fail("%s of %s covered %d activities, %d s; want 30, %d s", d.decision, d.s.from, got.Activities, got.IdleSeconds, want)
				}
				e.decided = append(e.decided, got)
			}
			<-posted // the raced decision meets idle posts into its stretch
			got, r, err := decide(e, raced, "keep", nil)
			if err != nil || r.Status != 201 {
				fail("keep of the raced stretch: %d %s %v", r.Status, r.Raw, err)
				return
			}
			e.decided = append(e.decided, got)
		}()
	}
	wg.Wait()
	for _, e := range emps {
		if len(e.errs) > 0 {
			t.Fatalf("%s: %v", e.m.Name, e.errs)
		}
	}

	// The raced stretch's second decision takes what its first left: the
	// idle posts that committed after it.
	for _, e := range emps {
		all := slices.Concat(e.before, e.racing, e.after)
		first := e.decided[len(e.decided)-1]
		left := idleSecondsIn(all, raced) - first.IdleSeconds
		got, r, err := decide(e, raced, "discard", nil)
		switch {
		case err != nil:
			t.Fatal(err)
		case left == 0 && (r.Status != 409 || r.Code() != "IDLE_NOTHING_TO_DECIDE"):
			t.Errorf("%s's second decision of the raced stretch, after the first took all of it: %d %s, want 409 IDLE_NOTHING_TO_DECIDE", e.m.Name, r.Status, r.Raw)
		case left > 0 && (r.Status != 201 || got.IdleSeconds != left):
			t.Errorf("%s's second decision of the raced stretch: %d %s, want the %d s the first (%d s) left", e.m.Name, r.Status, r.Raw, left, first.IdleSeconds)
		case left > 0:
			e.decided = append(e.decided, got)
		}
		t.Logf("%s: the raced keep covered %d s of the stretch's %d s", e.m.Name, first.IdleSeconds, idleSecondsIn(all, raced))
	}

	// What every report must now say: kept and assigned idle time is
	// active, discarded time counts nowhere, the rest stays idle.
	want := map[string]summaryRow{}
	for _, e := range emps {
		active, idle := secondsOf(slices.Concat(e.before, e.racing, e.after))
		for _, d := range e.decided {
			idle -= d.IdleSeconds
			if d.Decision != "discard" {
				active += d.IdleSeconds
			}
		}
		want[e.m.ID] = expectedSummary(e.m.ID, date, active, idle)
		var s Session
		c.Must(200, "GET", "/sessions/"+e.session, e.m.Token, nil).Into(t, &s)
		if s.TotalActiveSeconds != active || s.TotalIdleSeconds != idle {
			t.Errorf("%s's session totals %d active, %d idle; want %d, %d", e.m.Name, s.TotalActiveSeconds, s.TotalIdleSeconds, active, idle)
		}
	}
	t.Run("The organization report of the day counts every second as decided.", func(t *testing.T) {
		c := p.Client(t)
		var got map[string]summaryRow
		if !WaitFor(60*time.Second, func() bool {
			got = c.organizationReport(admin, date)
			for user, w := range want {
				if got[user] != w {
					return false
				}
			}
			return true
		}) {
			t.Fatalf("60 s after the last decision the organization report is %+v, want %+v", got, want)
		}
	})
	t.Run("Each member's own daily report and user report say the same.", func(t *testing.T) {
		c := p.Client(t)
		for _, e := range emps {
			var daily summaryRow
			c.Must(200, "GET", "/reports/daily?date="+date, e.m.Token, nil).Into(t, &daily)
			var user []summaryRow
			c.Must(200, "GET", "/reports/user/"+e.m.ID+"?startDate="+date+"&endDate="+date, e.m.Token, nil).Into(t, &user)
			if daily != want[e.m.ID] || len(user) != 1 || user[0] != want[e.m.ID] {
				t.Errorf("%s's daily report %+v and user report %+v, want %+v", e.m.Name, daily, user, want[e.m.ID])
			}
		}
	})
	t.Run("The audit lists each decision with the idle activity it covered, still stored as idle.", func(t *testing.T) {
		c := p.Client(t)
		for _, e := range emps {
			var entries []struct {
				ActorID   string `json:"actor_id"`
				SubjectID string `json:"subject_id"`
				Details   struct {
					DecisionID  string    `json:"decision_id"`
					SessionID   string    `json:"session_id"`
					Decision    string    `json:"decision"`
					StartTime   time.Time `json:"start_time"`
					EndTime     time.Time `json:"end_time"`
					IdleSeconds int64     `json:"idle_seconds"`
					Activities  []struct {
						ID              string    `json:"id"`
						Timestamp       time.Time `json:"timestamp"`
						DurationSeconds int64     `json:"duration_seconds"`
					} `json:"activities"`
					Before map[string]int64 `json:"before"`
					After  map[string]int64 `json:"after"`
				} `json:"details"`
			}
			c.Must(200, "GET", "/audit?action=time.idle_decided&subject_id="+e.m.ID+"&limit=100", admin.Token, nil).Into(t, &entries)
			if len(entries) != len(e.decided) {
				t.Errorf("%s has %d time.idle_decided entries, want one per decision (%d)", e.m.Name, len(entries), len(e.decided))
			}
			var export struct {
				Tracking struct {
					Activity []struct {
						ID           string    `json:"id"`
						OccurredAt   time.Time `json:"occurred_at"`
						ActivityType string    `json:"activity_type"`
					} `json:"activity"`
				} `json:"tracking"`
			}
			c.Must(200, "GET", "/users/"+e.m.ID+"/export?format=json", e.m.Token, nil).Into(t, &export)
			stored := map[string]string{} // activity id -> its type
			for _, a := range export.Tracking.Activity {
				stored[a.ID] = a.ActivityType
			}
			all := slices.Concat(e.before, e.racing, e.after)
			if len(stored) != len(all) {
				t.Errorf("%s's export holds %d activities, want the %d uploaded", e.m.Name, len(stored), len(all))
			}
			// Every idle activity of a decided stretch is listed by exactly
			// one decision of it.
			listed := map[time.Time]int{}
			for _, en := range entries {
				d := en.Details
				if en.ActorID != e.m.ID || en.SubjectID != e.m.ID || d.SessionID != e.session {
					t.Errorf("%s's entry %+v, want them as actor and subject, of their session", e.m.Name, en)
				}
				var sum int64
				for _, a := range d.Activities {
					sum += a.DurationSeconds
					listed[a.Timestamp.UTC()]++
					if !(stretch{d.StartTime, d.EndTime}).holds(a.Timestamp) || stored[a.ID] != "idle" {
						t.Errorf("%s's %s decision lists %s at %s, stored as %q; want an idle activity of the stretch", e.m.Name, d.Decision, a.ID, a.Timestamp, stored[a.ID])
					}
				}
				gained := map[bool]int64{true: 0, false: d.IdleSeconds}[d.Decision == "discard"]
				if sum != d.IdleSeconds || d.After["total_idle_seconds"] != d.Before["total_idle_seconds"]-d.IdleSeconds ||
					d.After["total_active_seconds"] != d.Before["total_active_seconds"]+gained {
					t.Errorf("%s's %s decision lists %d s, says %d s, totals %v before and %v after", e.m.Name, d.Decision, sum, d.IdleSeconds, d.Before, d.After)
				}
			}
			for _, a := range all {
				decided := a.ActivityType == "idle" && (keep.holds(a.Timestamp) || discard.holds(a.Timestamp) || assign.holds(a.Timestamp) || raced.holds(a.Timestamp))
				if n := listed[a.Timestamp]; n != map[bool]int{true: 1}[decided] {
					t.Errorf("%s's %s activity at %s is listed by %d decisions", e.m.Name, a.ActivityType, a.Timestamp, n)
				}
			}
		}
	})
	t.Run("Today's live reports follow a decision at once.", func(t *testing.T) {
		c, e := p.Client(t), emps[0]
		now := clock.Real.Now().UTC().Truncate(time.Second)
		today := now.Truncate(24 * time.Hour)
		if wait := today.Add(time.Minute).Sub(now); wait > 0 {
			// Right after midnight today holds less than the one idle minute
			// the check needs at least.
			time.Sleep(wait)
			now = clock.Real.Now().UTC().Truncate(time.Second)
		}
		// Up to ten idle minutes of today (fewer just after midnight): the
		// first half kept, the second half discarded.
		minutes := min(int(now.Sub(today)/time.Minute), 10)
		from, half := now.Add(-time.Duration(minutes)*time.Minute), time.Duration(minutes)*30*time.Second
		idle := Heartbeats(from, 2*minutes, 30, "idle")
		if res, r, err := c.Agent(e.m, NewLedger()).Bulk(e.session, idle); err != nil || res.Uploaded != len(idle) {
			t.Fatalf("today's upload: %+v %d %s %v", res, r.Status, r.Raw, err)
		}
		for _, d := range []struct {
			s        stretch
			decision string
		}{{stretch{from, from.Add(half)}, "keep"}, {stretch{from.Add(half), now}, "discard"}} {
			if got, r, err := decide(e, d.s, d.decision, nil); err != nil || r.Status != 201 || got.IdleSeconds != int64(half.Seconds()) {
				t.Fatalf("today's %s: %d %s %v, want %s decided", d.decision, r.Status, r.Raw, err, half)
			}
		}
		date := today.Format(time.DateOnly)
		want := expectedSummary(e.m.ID, date, int64(half.Seconds()), 0)
		var daily summaryRow
		c.Must(200, "GET", "/reports/daily", e.m.Token, nil).Into(t, &daily)
		if org := c.organizationReport(admin, date)[e.m.ID]; daily != want || org != want {
			t.Errorf("right after the decisions today's daily report is %+v and the organization report's row %+v, want %+v", daily, org, want)
		}
	})
}

// payrollEntry is a line of the payroll export.
type payrollEntry struct {
	SessionID     string    `json:"session_id"`
	UserID        string    `json:"user_id"`
	UserName      *string   `json:"user_name"`
	ProjectID     *string   `json:"project_id"`
	ProjectName   *string   `json:"project_name"`
	StartTime     time.Time `json:"start_time"`
	EndTime       time.Time `json:"end_time"`
	ActiveSeconds int64     `json:"active_seconds"`
	IdleSeconds   int64     `json:"idle_seconds"`
	Source        string    `json:"source"`
	ApprovedBy    *string   `json:"approved_by"`
}

// payroll reads the payroll of from..to in JSON and in CSV, and fails
// unless the CSV holds the JSON's entries, field by field, in its order.
func (c *Client) payroll(t *testing.T, m Member, from, to string) []payrollEntry {
	t.Helper()
	query := "/reports/payroll?startDate=" + from + "&endDate=" + to
	var body struct {
		Entries []payrollEntry `json:"entries"`
	}
	c.Must(200, "GET", query+"&format=json", m.Token, nil).Into(t, &body)
	r := c.Must(200, "GET", query+"&format=csv", m.Token, nil)
	records, err := csv.NewReader(strings.NewReader(string(r.Raw))).ReadAll()
	if err != nil || len(records) == 0 {
		t.Fatalf("the payroll CSV %q: %v", r.Raw, err)
	}
	header := []string{"session_id", "user_id", "user_name", "project_id", "project_name", "start_time", "end_time",
		"active_seconds", "idle_seconds", "source", "approved_by"}
	if !slices.Equal(records[0], header) {
		t.Errorf("the payroll CSV's header %q, want %q", records[0], header)
	}
	text := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	var asCSV [][]string
	for _, e := range body.Entries {
		asCSV = append(asCSV, []string{e.SessionID, e.UserID, text(e.UserName), text(e.ProjectID), text(e.ProjectName),
			e.StartTime.Format(time.RFC3339), e.EndTime.Format(time.RFC3339), strconv.FormatInt(e.ActiveSeconds, 10),
			strconv.FormatInt(e.IdleSeconds, 10), e.Source, text(e.ApprovedBy)})
	}
	if !reflect.DeepEqual(records[1:], asCSV) && !(len(records) == 1 && len(asCSV) == 0) {
		t.Errorf("the payroll CSV's lines\n%q\ndiffer from its JSON entries\n%q", records[1:], asCSV)
	}
	return body.Entries
}

// lockedTimesheetsHold has an employee track an hour two days ago, then
// ask for a manual entry that day (approved by their team's manager), one
// yesterday (approved by an admin), one rejected, and an edit of the
// tracked session's project and bounds (approved), while their agent
// uploads today's work. The stored summaries of both days and the payroll
// (CSV and JSON alike) follow exactly. An admin then locks both days:
// filing, approving and editing time in them through the front door is
// refused with DAY_LOCKED in the contract's envelope, and the payroll,
// the summaries and the audit are as they were.
func lockedTimesheetsHold(t *testing.T, p *Platform) {
	c := p.Client(t)
	admin := c.Register("admin@locks.example", "Lou Admin", "Locked timesheets")
	lead := c.Invite(admin, "mia@locks.example", "Mia Lead", "manager")
	emp := c.Invite(admin, "tess@locks.example", "Tess", "employee")
	var team, project struct {
		ID string `json:"id"`
	}
	c.Must(201, "POST", "/teams", admin.Token, map[string]any{"name": "Field"}).Into(t, &team)
	c.Must(200, "PUT", "/teams/"+team.ID+"/members/"+lead.ID, admin.Token, map[string]any{"role": "manager"})
	c.Must(200, "PUT", "/teams/"+team.ID+"/members/"+emp.ID, admin.Token, map[string]any{"role": "member"})
	c.Must(201, "POST", "/projects", admin.Token, map[string]any{"name": "Client A"}).Into(t, &project)

	today := clock.Real.Now().UTC().Truncate(24 * time.Hour)
	d1, d2 := today.Add(-48*time.Hour), today.Add(-24*time.Hour)
	date1, date2 := d1.Format(time.DateOnly), d2.Format(time.DateOnly)
	at := func(day time.Time, hour, minute int) time.Time {
		return day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	// Two days ago, 10:00 to 11:10: an hour of work, ten minutes idle.
	tracked := c.StartSession(emp, at(d1, 10, 0))
	beats := slices.Concat(Heartbeats(at(d1, 10, 0), 60, 60, "active"), Heartbeats(at(d1, 11, 0), 10, 60, "idle"))
	if res, r, err := c.Agent(emp, NewLedger()).Bulk(tracked.ID, beats); err != nil || res.Uploaded != len(beats) {
		t.Fatalf("bulk: %+v %d %s %v", res, r.Status, r.Raw, err)
	}
	c.Must(200, "POST", "/sessions/"+tracked.ID+"/stop", emp.Token, map[string]any{"end_time": at(d1, 11, 10).Format(time.RFC3339)})
	c.runJob(admin, "daily-summary", map[string]any{"date": date1})
	c.runJob(admin, "daily-summary", map[string]any{"date": date2})

	request := func(body map[string]any) string {
		var tr struct {
			ID string `json:"id"`
		}
		c.Must(201, "POST", "/time-requests", emp.Token, body).Into(t, &tr)
		return tr.ID
	}
	span := func(from, to time.Time) map[string]any {
		return map[string]any{"start_time": from.Format(time.RFC3339), "end_time": to.Format(time.RFC3339), "note": "client visit"}
	}
	withProject := func(m map[string]any) map[string]any { m["project_id"] = project.ID; return m }
	visit := request(withProject(span(at(d1, 14, 0), at(d1, 15, 30))))
	call := request(span(at(d2, 16, 0), at(d2, 17, 0)))
	refused := request(span(at(d2, 9, 0), at(d2, 9, 45)))
	editBody := withProject(span(at(d1, 10, 15), at(d1, 11, 20)))
	editBody["kind"], editBody["session_id"] = "edit", tracked.ID
	edit := request(editBody)
	// Filed before the lock, reviewed after it.
	late := request(span(at(d2, 12, 0), at(d2, 12, 30)))
	lateEditBody := span(at(d1, 10, 0), at(d1, 11, 30))
	lateEditBody["kind"], lateEditBody["session_id"] = "edit", tracked.ID
	lateEdit := request(lateEditBody)
	// The team's manager sees the request once membership has reached ingest.
	if !WaitFor(30*time.Second, func() bool {
		var l struct {
			Requests []struct{ ID string } `json:"requests"`
		}
		c.Must(200, "GET", "/time-requests?user_id="+emp.ID, lead.Token, nil).Into(t, &l)
		return len(l.Requests) == 6
	}) {
		t.Fatal("the team's manager does not list the employee's 6 requests after 30 s")
	}

	// The reviews, while the employee's agent uploads today's work.
	// Today's, from 20 minutes ago or midnight, if later: its time is not
	// in the days about to be locked.
	now := clock.Real.Now().UTC().Truncate(time.Second)
	liveFrom := now.Add(-20 * time.Minute)
	if liveFrom.Before(today) {
		liveFrom = today
	}
	todays := Heartbeats(liveFrom, int(now.Sub(liveFrom)/(30*time.Second)), 30, "active")
	live := c.StartSession(emp, liveFrom)
	var wg sync.WaitGroup
	var uploadErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		agent := c.Agent(emp, NewLedger())
		for chunk := range slices.Chunk(todays, 4) {
			if res, r, err := agent.Bulk(live.ID, chunk); err != nil || res.Uploaded != len(chunk) {
				uploadErr = fmt.Errorf("today's upload: %+v %d %s %v", res, r.Status, r.Raw, err)
				return
			}
		}
	}()
	c.Must(200, "POST", "/time-requests/"+visit+"/approve", lead.Token, nil)
	c.Must(200, "POST", "/time-requests/"+call+"/approve", admin.Token, nil)
	c.Must(200, "POST", "/time-requests/"+refused+"/reject", lead.Token, map[string]any{"note": "no visit that day"})
	c.Must(200, "POST", "/time-requests/"+edit+"/approve", admin.Token, nil)
	wg.Wait()
	if uploadErr != nil {
		t.Fatal(uploadErr)
	}
	var liveNow Session
	c.Must(200, "GET", "/sessions/"+live.ID, emp.Token, nil).Into(t, &liveNow)
	if want := int64(30 * len(todays)); liveNow.TotalActiveSeconds != want || liveNow.TotalIdleSeconds != 0 {
		t.Errorf("today's session has %d active and %d idle seconds, want the %d and 0 uploaded", liveNow.TotalActiveSeconds, liveNow.TotalIdleSeconds, want)
	}
	c.StopSession(emp, live.ID)

	// The edit keeps 10:15 to 11:10 (45 active minutes, the 10 idle ones)
	// and gains 11:10 to 11:20 as active work.
	editedActive, editedIdle := int64(45*60+10*60), int64(10*60)
	var visitSession string
	for _, e := range c.payroll(t, admin, date1, date2) {
		if e.Source == "manual" && e.StartTime.Equal(at(d1, 14, 0)) {
			visitSession = e.SessionID
		}
	}
	wantPayroll := []payrollEntry{
		{SessionID: tracked.ID, UserID: emp.ID, UserName: &emp.Name, ProjectID: &project.ID, ProjectName: ptr("Client A"),
			StartTime: at(d1, 10, 15), EndTime: at(d1, 11, 20), ActiveSeconds: editedActive, IdleSeconds: editedIdle, Source: "tracked"},
		{SessionID: visitSession, UserID: emp.ID, UserName: &emp.Name, ProjectID: &project.ID, ProjectName: ptr("Client A"),
			StartTime: at(d1, 14, 0), EndTime: at(d1, 15, 30), ActiveSeconds: 5400, Source: "manual", ApprovedBy: &lead.ID},
		{SessionID: "", UserID: emp.ID, UserName: &emp.Name, StartTime: at(d2, 16, 0), EndTime: at(d2, 17, 0), ActiveSeconds: 3600,
			Source: "manual", ApprovedBy: &admin.ID},
	}
	var paid []payrollEntry
	t.Run("The payroll lists the edited session and the approved entries, CSV and JSON alike.", func(t *testing.T) {
		paid = p.Client(t).payroll(t, admin, date1, date2)
		if len(paid) == 3 {
			wantPayroll[2].SessionID = paid[2].SessionID // a manual entry's session is made at approval
		}
		if !reflect.DeepEqual(paid, wantPayroll) {
			t.Errorf("the payroll\n%s\nwant\n%s", jsonText(paid), jsonText(wantPayroll))
		}
		// A member reads their own payroll: the same lines.
		if own := p.Client(t).payroll(t, emp, date1, date2); !reflect.DeepEqual(own, paid) {
			t.Errorf("the employee's own payroll\n%s\ndiffers from the admin's", jsonText(own))
		}
	})
	// Two days ago holds the edited session and the visit.
	wantSummaries := map[string]summaryRow{date1: expectedSummary(emp.ID, date1, editedActive+5400, editedIdle),
		date2: expectedSummary(emp.ID, date2, 3600, 0)}
	wantSummaries[date1] = func(s summaryRow) summaryRow { s.SessionsCount = 2; return s }(wantSummaries[date1])
	summaries := func(c *Client) map[string]summaryRow {
		return map[string]summaryRow{date1: c.organizationReport(admin, date1)[emp.ID], date2: c.organizationReport(admin, date2)[emp.ID]}
	}
	t.Run("The stored summaries of both days count the approved time exactly.", func(t *testing.T) {
		c := p.Client(t)
		var got map[string]summaryRow
		if !WaitFor(60*time.Second, func() bool { got = summaries(c); return reflect.DeepEqual(got, wantSummaries) }) {
			t.Fatalf("60 s after the approvals the summaries are %+v, want %+v", got, wantSummaries)
		}
	})

	c.Must(200, "PUT", "/organization/timesheet-lock", admin.Token, map[string]any{"locked_through": date2})
	audit := func(c *Client) map[string]int {
		var entries []struct {
			Action string `json:"action"`
		}
		c.Must(200, "GET", "/audit?subject_id="+emp.ID+"&limit=200", admin.Token, nil).Into(c.t, &entries)
		n := map[string]int{}
		for _, e := range entries {
			if strings.HasPrefix(e.Action, "time.") {
				n[e.Action]++
			}
		}
		return n
	}
	audited := audit(c)
	if want := map[string]int{"time.requested": 6, "time.approved": 3, "time.rejected": 1}; !reflect.DeepEqual(audited, want) {
		t.Errorf("the employee's time audit %v, want %v", audited, want)
	}
	t.Run("Every change of time in the locked days is refused with DAY_LOCKED in the envelope.", func(t *testing.T) {
		c := p.Client(t)
		for _, tc := range []struct {
			name, path string
			m          Member
			body       any
		}{
			{"A manual entry in a locked day", "/time-requests", emp, span(at(d2, 18, 0), at(d2, 18, 30))},
			{"An edit of a session in a locked day", "/time-requests", emp, editBody},
			{"The approval of an entry filed before the lock", "/time-requests/" + late + "/approve", lead, nil},
			{"The approval of an edit filed before the lock", "/time-requests/" + lateEdit + "/approve", admin, nil},
			{"An idle decision in a locked day", "/sessions/" + tracked.ID + "/idle-decisions", emp,
				map[string]any{"start_time": at(d1, 11, 0).Format(time.RFC3339), "end_time": at(d1, 11, 10).Format(time.RFC3339), "decision": "keep"}},
			{"A session started in a locked day", "/sessions/start", emp, map[string]any{"start_time": at(d2, 20, 0).Format(time.RFC3339)}},
		} {
			r, err := c.Do("POST", tc.path, tc.m.Token, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if msg := dayLockedEnvelope(r, "/api"+tc.path); msg != "" {
				t.Errorf("%s: %s", tc.name, msg)
			}
		}
	})
	t.Run("After the refusals the payroll, the summaries, the requests and the audit are as they were.", func(t *testing.T) {
		c := p.Client(t)
		if got := c.payroll(t, admin, date1, date2); !reflect.DeepEqual(got, paid) {
			t.Errorf("the payroll after the refusals\n%s\nwant\n%s", jsonText(got), jsonText(paid))
		}
		if got := summaries(c); !reflect.DeepEqual(got, wantSummaries) {
			t.Errorf("the summaries after the refusals %+v, want %+v", got, wantSummaries)
		}
		for _, id := range []string{late, lateEdit} {
			var l struct {
				Requests []struct {
					ID, Status string
				} `json:"requests"`
			}
			c.Must(200, "GET", "/time-requests?status=pending", emp.Token, nil).Into(t, &l)
			if !slices.ContainsFunc(l.Requests, func(r struct{ ID, Status string }) bool { return r.ID == id }) {
				t.Errorf("request %s is no longer pending: %+v", id, l.Requests)
			}
		}
		if got := audit(c); !reflect.DeepEqual(got, audited) {
			t.Errorf("the employee's time audit after the refusals %v, want %v as before", got, audited)
		}
	})
}

// dayLockedEnvelope says what r lacks of the contract's error envelope of
// a 409 DAY_LOCKED at path; empty when nothing.
func dayLockedEnvelope(r Resp, path string) string {
	var env struct {
		Success *bool `json:"success"`
		Error   struct {
			Code      string `json:"code"`
			Message   string `json:"message"`
			Timestamp string `json:"timestamp"`
			Path      string `json:"path"`
			RequestID string `json:"requestId"`
		} `json:"error"`
	}
	err := json.Unmarshal(r.Raw, &env)
	_, tsErr := time.Parse(time.RFC3339, env.Error.Timestamp)
	switch {
	case r.Status != http.StatusConflict || err != nil || env.Error.Code != "DAY_LOCKED":
		return fmt.Sprintf("%d %s, want 409 DAY_LOCKED", r.Status, r.Raw)
	case env.Success == nil || *env.Success || env.Error.Message == "" || tsErr != nil || env.Error.Path != path:
		return fmt.Sprintf("%s is not the envelope of %s", r.Raw, path)
	case env.Error.RequestID == "" || env.Error.RequestID != r.Header.Get("X-Request-Id"):
		return fmt.Sprintf("requestId %q, the response's X-Request-Id %q", env.Error.RequestID, r.Header.Get("X-Request-Id"))
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

func jsonText(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}
