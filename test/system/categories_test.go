package systemtest

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// categoryActivity is one tracked activity of the categories test and
// the category it must count in under each phase's rules, for a member
// outside the team (org) and one in it (team).
type categoryActivity struct {
	text    string
	seconds int64
	typ     string
	want    [3]pair
}

// pair is a category for a member outside the team and one in it.
type pair struct{ org, team string }

// The phases' rules: the first set; then only the team's changed; then
// only the organization's.
var categoryPhases = [3]struct{ org, team []map[string]any }{
	{
		org: []map[string]any{
			{"match": "app", "pattern": "Slack", "category": "productive"},
			{"match": "path_prefix", "pattern": "/admin", "category": "unproductive"},
			{"match": "host", "pattern": "example.com", "category": "productive"},
			{"match": "regex", "pattern": `[?&]v=\d+`, "category": "unproductive"},
		},
		team: []map[string]any{{"match": "host", "pattern": "docs.example.com", "category": "unproductive"}},
	},
	{
		team: []map[string]any{
			{"match": "host", "pattern": "docs.example.com", "category": "productive"},
			{"match": "app", "pattern": " slack ", "category": "neutral"},
		},
	},
	{
		org: []map[string]any{
			{"match": "app", "pattern": "Slack", "category": "unproductive"},
			{"match": "path_prefix", "pattern": "/admin", "category": "unproductive"},
			{"match": "host", "pattern": "example.com", "category": "productive"},
		},
	},
}

const (
	prod   = "productive"
	neut   = "neutral"
	unprod = "unproductive"
)

// categoryDay is what each member tracks on each day: every kind of rule
// matches one activity, a path prefix one only at a segment boundary, and
// idle seconds count in a category as active ones do.
var categoryDay = []categoryActivity{
	{"Slack", 60, "active", [3]pair{{prod, prod}, {prod, neut}, {unprod, neut}}},
	{"https://docs.example.com/guide", 30, "active", [3]pair{{prod, unprod}, {prod, prod}, {prod, prod}}},
	{"https://www.example.com/admin/users", 24, "active", [3]pair{{unprod, unprod}, {unprod, unprod}, {unprod, unprod}}},
	{"https://example.com/administrator", 12, "idle", [3]pair{{prod, prod}, {prod, prod}, {prod, prod}}},
	{"https://video.example.net/watch?v=42", 18, "active", [3]pair{{unprod, unprod}, {unprod, unprod}, {neut, neut}}},
	{"https://elsewhere.example.org/", 6, "active", [3]pair{{neut, neut}, {neut, neut}, {neut, neut}}},
	{"Terminal", 9, "idle", [3]pair{{neut, neut}, {neut, neut}, {neut, neut}}},
}

// categoryFigures are a summary's category numbers as the reports carry them.
type categoryFigures struct {
	UserID  string           `json:"user_id"`
	Date    string           `json:"date"`
	Total   int64            `json:"total_work_seconds"`
	Seconds map[string]int64 `json:"category_seconds"`
	Score   float64          `json:"category_score"`
}

func (f categoryFigures) String() string {
	return fmt.Sprintf("total %d, productive %d, neutral %d, unproductive %d, score %s", f.Total,
		f.Seconds[prod], f.Seconds[neut], f.Seconds[unprod], strconv.FormatFloat(f.Score, 'f', 2, 64))
}

// wantCategories is the figures of a categoryDay under phase's rules for
// a member in the team or not, plus extra seconds of one more activity of
// category extraCat.
func wantCategories(phase int, inTeam bool, extra int64, extraCat string) string {
	f := categoryFigures{Seconds: map[string]int64{prod: 0, neut: 0, unprod: 0}}
	for _, a := range categoryDay {
		cat := a.want[phase].org
		if inTeam {
			cat = a.want[phase].team
		}
		f.Seconds[cat] += a.seconds
		f.Total += a.seconds
	}
	f.Seconds[extraCat] += extra
	f.Total += extra
	// round(productive * 100 / total, 2), as the documentation states it;
	// the numbers are chosen so that no halfway case arises.
	f.Score = float64(int64(float64(f.Seconds[prod])*10000/float64(f.Total)+0.5)) / 100
	return f.String()
}

// categoryActivities is a categoryDay as activities back to back from
// from, and the instant after the last.
func categoryActivities(from time.Time) ([]Activity, time.Time) {
	var out []Activity
	ts := from.UTC().Truncate(time.Second)
	for _, a := range categoryDay {
		out = append(out, Activity{ClientActivityID: uuid.NewString(), Timestamp: ts, ActivityType: a.typ, DurationSeconds: int(a.seconds), URL: a.text})
		ts = ts.Add(time.Duration(a.seconds) * time.Second)
	}
	return out, ts
}

// TestProductivityCategoriesFollowTheRulesThroughEveryReportAndTheirRecomputation
// gives an organization rules of every kind and a team an override,
// tracks the same activity for a member of the team and one outside it
// on two past days and today, and summarizes the past days: the
// organization report carries each member's exact seconds per category
// and category score, today's as live as the daily report's. Changing
// the team's rules recomputes only the team member's stored summaries in
// a job whose status shows the days done; changing the organization's
// recomputes everyone's; the reports then show the new figures exactly,
// and today's follow the rules at once.
func TestProductivityCategoriesFollowTheRulesThroughEveryReportAndTheirRecomputation(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	admin := c.Register("ada-"+suffix+"@example.com", "Ada Admin", "Categories Org "+suffix)
	inTeam := c.Invite(admin, "tia-"+suffix+"@example.com", "Tia Team", "employee")
	outside := c.Invite(admin, "oli-"+suffix+"@example.com", "Oli Org", "employee")
	var team struct{ ID string }
	c.Must(201, "POST", "/teams", admin.Token, map[string]any{"name": "Docs"}).Into(t, &team)
	c.Must(200, "PUT", "/teams/"+team.ID+"/members/"+inTeam.ID, admin.Token, map[string]any{"role": "member"})

	org, teamRules := categoryPhases[0].org, categoryPhases[0].team
	putRules := func() (jobID string) {
		t.Helper()
		rules := append([]map[string]any{}, org...)
		for _, r := range teamRules {
			withTeam := map[string]any{"team_id": team.ID}
			for k, v := range r {
				withTeam[k] = v
			}
			rules = append(rules, withTeam)
		}
		var res struct {
			JobID string `json:"job_id"`
		}
		c.Must(200, "PUT", "/categories/rules", admin.Token, map[string]any{"rules": rules}).Into(t, &res)
		if res.JobID == "" {
			t.Fatal("a change to the rules started no recomputation")
		}
		return res.JobID
	}
	type recompute struct {
		DaysTotal        int   `json:"days_total"`
		DaysDone         int   `json:"days_done"`
		SummariesChanged int64 `json:"summaries_changed"`
		Passes           int   `json:"passes"`
	}
	awaitJob := func(id string) recompute {
		t.Helper()
		var job struct {
			Type   string    `json:"type"`
			State  string    `json:"state"`
			Result recompute `json:"result"`
		}
		if !WaitFor(time.Minute, func() bool {
			c.Must(200, "GET", "/jobs/"+id, admin.Token, nil).Into(t, &job)
			return job.State == "succeeded" || job.State == "failed"
		}) || job.State != "succeeded" || job.Type != "category-recompute" {
			t.Fatalf("the recomputation %s is %q of type %q after a minute", id, job.State, job.Type)
		}
		return job.Result
	}
	if got := awaitJob(putRules()); got != (recompute{Passes: 1}) {
		t.Errorf("the first rules, before any summary, recomputed %+v", got)
	}

	now := clock.Real.Now().UTC()
	midnight := now.Truncate(24 * time.Hour)
	days := []time.Time{midnight.AddDate(0, 0, -2), midnight.AddDate(0, 0, -1)}
	todayFrom := now.Add(-10 * time.Minute).Truncate(time.Second)
	if todayFrom.Before(midnight) {
		todayFrom = midnight
	}
	todaySessions := map[string]string{}
	var todayEnd time.Time
	for _, m := range []Member{inTeam, outside} {
		agent := c.Agent(m, NewLedger())
		for _, d := range days {
			from := d.Add(9 * time.Hour)
			s := c.StartSession(m, from)
			acts, _ := categoryActivities(from)
			if res, r, err := agent.Bulk(s.ID, acts); err != nil || res.Uploaded != len(categoryDay) {
				t.Fatalf("bulk of %s: %+v %d %s %v", d.Format(time.DateOnly), res, r.Status, r.Raw, err)
			}
			c.Must(200, "POST", "/sessions/"+s.ID+"/stop", m.Token, map[string]any{"end_time": from.Add(time.Hour).Format(time.RFC3339)})
		}
		s := c.StartSession(m, todayFrom)
		todaySessions[m.ID] = s.ID
		var acts []Activity
		acts, todayEnd = categoryActivities(todayFrom)
		if res, r, err := agent.Bulk(s.ID, acts); err != nil || res.Uploaded != len(categoryDay) {
			t.Fatalf("bulk of today: %+v %d %s %v", res, r.Status, r.Raw, err)
		}
	}
	for _, d := range days {
		c.runJob(admin, "daily-summary", map[string]any{"date": d.Format(time.DateOnly)})
	}
	// The past days' uploads were late: report corrects their summaries
	// by the rules of the moment it takes them, which must be before the
	// rules change for the job's count to be the job's alone.
	p.settleCorrections(t, admin.Org)
	dates := []string{days[0].Format(time.DateOnly), days[1].Format(time.DateOnly), midnight.Format(time.DateOnly)}

	// orgReport is every member's figures by date from the first past day
	// to last.
	orgReport := func(last string) map[string]map[string]string {
		t.Helper()
		var rows []categoryFigures
		c.Must(200, "GET", "/reports/organization?startDate="+dates[0]+"&endDate="+last, admin.Token, nil).Into(t, &rows)
		out := map[string]map[string]string{}
		for _, r := range rows {
			if out[r.UserID] == nil {
				out[r.UserID] = map[string]string{}
			}
			out[r.UserID][r.Date] = r.String()
		}
		return out
	}
	daily := func(m Member) string {
		t.Helper()
		var f categoryFigures
		c.Must(200, "GET", "/reports/daily", m.Token, nil).Into(t, &f)
		return f.String()
	}
	// check compares the reports with phase's figures: past days as of
	// pastPhase (what the stored summaries hold), today as of phase. A
	// report of past days only is cached, one with today never is: both
	// are read.
	check := func(name string, pastPhase, phase int) {
		t.Helper()
		got, past := orgReport(dates[2]), orgReport(dates[1])
		for _, m := range []struct {
			Member
			inTeam bool
		}{{inTeam, true}, {outside, false}} {
			for i, date := range dates {
				want := wantCategories(pastPhase, m.inTeam, 0, neut)
				if i == 2 {
					want = wantCategories(phase, m.inTeam, 0, neut)
				}
				if got[m.ID][date] != want {
					t.Errorf("%s: the organization report of %s for %s: %s; want %s", name, m.Name, date, got[m.ID][date], want)
				}
				if i < 2 && past[m.ID][date] != want {
					t.Errorf("%s: the organization report of past days only, of %s for %s: %s; want %s", name, m.Name, date, past[m.ID][date], want)
				}
			}
			if got, want := daily(m.Member), wantCategories(phase, m.inTeam, 0, neut); got != want {
				t.Errorf("%s: %s's daily report of today: %s; want %s", name, m.Name, got, want)
			}
		}
	}
	check("the first rules", 0, 0)

	teamRules = categoryPhases[1].team
	job := putRules()
	// Today's reports follow the rules at once, the stored days once the
	// job has recomputed them.
	if got, want := daily(inTeam), wantCategories(1, true, 0, neut); got != want {
		t.Errorf("right after the team's change, the team member's daily report of today: %s; want %s", got, want)
	}
	if got := awaitJob(job); got != (recompute{DaysTotal: 2, DaysDone: 2, SummariesChanged: 2, Passes: 1}) {
		t.Errorf("the team's change recomputed %+v; want the team member's 2 days", got)
	}
	check("after the team's change", 1, 1)

	org = categoryPhases[2].org
	if got := awaitJob(putRules()); got != (recompute{DaysTotal: 2, DaysDone: 2, SummariesChanged: 4, Passes: 1}) {
		t.Errorf("the organization's change recomputed %+v; want everyone's 2 days", got)
	}
	check("after the organization's change", 2, 2)

	// One more activity today counts in its category within 2 s of being
	// accepted, as every live number does.
	extra := Activity{ClientActivityID: uuid.NewString(), Timestamp: todayEnd, ActivityType: "active",
		DurationSeconds: 30, URL: "https://docs.example.com/more"}
	if _, err := c.Agent(outside, NewLedger()).Single(todaySessions[outside.ID], extra); err != nil {
		t.Fatal(err)
	}
	want := wantCategories(2, false, 30, prod)
	var gotDaily, gotOrg string
	if !WaitFor(2*time.Second, func() bool {
		gotDaily, gotOrg = daily(outside), orgReport(dates[2])[outside.ID][dates[2]]
		return gotDaily == want && gotOrg == want
	}) {
		t.Errorf("2 s after an accepted activity, today's daily report: %s, the organization report's row: %s; want %s", gotDaily, gotOrg, want)
	}
}

// settleCorrections waits until every activity event has been relayed and
// consumed and report has corrected every day its late uploads marked,
// for org.
func (p *Platform) settleCorrections(t *testing.T, org string) {
	t.Helper()
	db := p.PG.Conn(t)
	if !WaitFor(time.Minute, func() bool { return queryInt(t, db, "SELECT count(*) FROM tracking.outbox") == 0 }) {
		t.Fatal("a minute on, tracking's outbox still holds events")
	}
	if lag := groupLag(t, p.Kafka.Addr, time.Minute); len(lag) > 0 {
		t.Fatalf("consumer groups still behind: %v", lag)
	}
	// A correction takes its marks in the transaction that corrects the
	// summaries: once no mark is seen, every correction is committed.
	if !WaitFor(time.Minute, func() bool {
		return queryInt(t, db, "SELECT count(*) FROM reporting.summary_corrections WHERE organization_id = $1", org) == 0
	}) {
		t.Fatal("a minute on, report still has days to correct")
	}
}
