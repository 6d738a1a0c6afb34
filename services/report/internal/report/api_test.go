package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/test/testkit"
)

// fixture is two tenants with an admin and employees each, served by the
// report API; the first has a manager of a team of Ada alone.
type fixture struct {
	*env
	srv                  *httptest.Server
	iss                  *testkit.Issuer
	teams                *testkit.Teams
	admin, ada, bob      authn.Principal
	lead                 authn.Principal
	otherAdmin, stranger authn.Principal
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	e := newEnv(t)
	// The seeded summaries are of days that have ended: today's report is
	// computed from the activity on every read.
	e.clock.Set(testStart.AddDate(0, 0, 2))
	return fixtureOn(t, e)
}

// fixtureOn serves the report API on e's pool.
func fixtureOn(t *testing.T, e *env) *fixture {
	t.Helper()
	f := &fixture{env: e, iss: testkit.NewIssuer(t)}
	f.teams = testkit.NewTeams(t, e.db, "workpulse_report", f.iss.Verifier)
	runner := NewRunner(e.pool, e.jobs, e.log, e.clock)
	t.Cleanup(runner.Stop)
	h := NewServer(Deps{Config: e.cfg, DB: e.pool, Verifier: f.iss.Verifier, Jobs: e.jobs, Runner: runner,
		HTTP: metrics.NewHTTP(prometheus.NewRegistry(), "report"), Clock: e.clock})
	f.srv = httptest.NewServer(httpx.Stack(e.clock, h, 1<<20))
	t.Cleanup(f.srv.Close)

	f.admin = testkit.Member("", authn.RoleAdmin)
	org := f.admin.OrganizationID
	f.ada = testkit.Member(org, authn.RoleEmployee)
	f.bob = testkit.Member(org, authn.RoleEmployee)
	f.lead = testkit.Member(org, authn.RoleManager)
	f.teams.Manage(t, org, f.lead.UserID, f.ada.UserID)
	f.otherAdmin = testkit.Member("", authn.RoleAdmin)
	f.stranger = testkit.Member(f.otherAdmin.OrganizationID, authn.RoleEmployee)
	e.user(org, f.admin.UserID, "Zed Admin")
	e.user(org, f.ada.UserID, "Ada")
	e.user(org, f.bob.UserID, "bob")
	e.user(f.otherAdmin.OrganizationID, f.stranger.UserID, "Stranger")
	return f
}

// seedSummary stores a summary directly, all of it neutral.
func (f *fixture) seedSummary(p authn.Principal, date string, active, idle int64) {
	f.t.Helper()
	score := 0.0
	if active+idle > 0 {
		score = float64(active*10000/(active+idle)) / 100
	}
	f.exec(`INSERT INTO reporting.daily_summaries (organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds,
		productivity_score, sessions_count, app_usage, neutral_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $4)`,
		p.OrganizationID, p.UserID, day(date), active+idle, active, idle, score,
		`[{"app": "github.com", "total_seconds": `+itoa(active+idle)+`, "active_seconds": `+itoa(active)+`, "idle_seconds": `+itoa(idle)+`}]`)
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) code() string {
	var env struct {
		Success bool `json:"success"`
		Error   struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	_ = json.Unmarshal(r.body, &env)
	return env.Error.Code
}

func (f *fixture) do(method, path string, p *authn.Principal, body string, headers ...string) response {
	f.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if p != nil {
		req.Header.Set("Authorization", "Bearer "+f.iss.Token(f.t, *p))
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
	return v
}

func TestReportEndpointsScopeByRoleAndOrganization(t *testing.T) {
	f := newFixture(t)
	f.seedSummary(f.ada, "2026-05-04", 3000, 600)
	f.seedSummary(f.bob, "2026-05-04", 100, 0)
	f.seedSummary(f.stranger, "2026-05-04", 500, 500)
	q := "?startDate=2026-05-01&endDate=2026-05-31"
	tests := []struct {
		name   string
		caller *authn.Principal
		path   string
		status int
		code   string
		rows   int
	}{
		{"Without a token every report answers 401.", nil, "/api/reports/daily?date=2026-05-04", 401, "AUTH_INVALID_TOKEN", -1},
		{"A member reads their own daily summary.", &f.ada, "/api/reports/daily?date=2026-05-04", 200, "", 1},
		{"A member's daily summary of a day without one is null.", &f.ada, "/api/reports/daily?date=2026-05-05", 200, "", 0},
		{"A member reads their own user report.", &f.ada, "/api/reports/user/" + f.ada.UserID + q, 200, "", 1},
		{"An employee may not read a colleague's report.", &f.ada, "/api/reports/user/" + f.bob.UserID + q, 403, "REPORT_UNAUTHORIZED", -1},
		{"An admin reads a member's report.", &f.admin, "/api/reports/user/" + f.bob.UserID + q, 200, "", 1},
		{"A manager reads the report of a member of their team.", &f.lead, "/api/reports/user/" + f.ada.UserID + q, 200, "", 1},
		{"A manager may not read the report of someone outside their teams.", &f.lead, "/api/reports/user/" + f.bob.UserID + q, 403, "REPORT_UNAUTHORIZED", -1},
		{"A manager may not read another organization's user.", &f.lead, "/api/reports/user/" + f.stranger.UserID + q, 403, "REPORT_UNAUTHORIZED", -1},
		{"A manager's organization report holds only their team's members and themself.", &f.lead, "/api/reports/organization" + q, 200, "", 1},
		{"An admin reading a user of another organization gets 404.", &f.admin, "/api/reports/user/" + f.stranger.UserID + q, 404, "REPORT_USER_NOT_FOUND", -1},
		{"An admin reading an unknown user gets 404.", &f.admin, "/api/reports/user/" + uuid.NewString() + q, 404, "REPORT_USER_NOT_FOUND", -1},
		{"An employee may not read the organization report.", &f.ada, "/api/reports/organization" + q, 403, "AUTH_INSUFFICIENT_PERMISSIONS", -1},
		{"An admin's organization report holds only their organization.", &f.admin, "/api/reports/organization" + q, 200, "", 2},
		{"The other organization's admin sees only theirs.", &f.otherAdmin, "/api/reports/organization" + q, 200, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("GET", tt.path, tt.caller, "")
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code(), tt.status, tt.code, r.body)
			}
			if r.header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			switch {
			case tt.rows < 0:
			case strings.Contains(tt.path, "/daily"):
				if got := strings.TrimSpace(string(r.body)) != "null"; got != (tt.rows == 1) {
					t.Errorf("body %s, want %d summaries", r.body, tt.rows)
				}
			default:
				if got := len(decode[[]Summary](t, r)); got != tt.rows {
					t.Errorf("%d rows, want %d", got, tt.rows)
				}
			}
		})
	}
	// The team changes: from the next poll the manager sees Bob, not Ada.
	f.teams.Manage(t, f.admin.OrganizationID, f.lead.UserID, f.bob.UserID)
	if r := f.do("GET", "/api/reports/user/"+f.bob.UserID+q, &f.lead, ""); r.status != 200 {
		t.Fatalf("the new member's report: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/reports/user/"+f.ada.UserID+q, &f.lead, ""); r.status != 403 {
		t.Fatalf("the former member's report: %d %s", r.status, r.body)
	}
}

func TestReportsHaveTheContractShapeAndOrder(t *testing.T) {
	f := newFixture(t)
	f.seedSummary(f.ada, "2026-05-04", 3000, 600)
	f.seedSummary(f.bob, "2026-05-04", 100, 0)
	f.seedSummary(f.ada, "2026-05-05", 10, 20)
	f.seedSummary(f.ada, "2026-04-01", 10, 20)

	daily := decode[Summary](t, f.do("GET", "/api/reports/daily?date=2026-05-04", &f.ada, ""))
	var usage []map[string]any
	_ = json.Unmarshal(daily.AppUsage, &usage)
	if daily.UserID != f.ada.UserID || daily.Date != "2026-05-04" || daily.ActiveSeconds != 3000 || daily.IdleSeconds != 600 ||
		daily.TotalWorkSeconds != 3600 || daily.ProductivityScore != 83.33 || len(usage) != 1 || daily.OrganizationID != f.ada.OrganizationID {
		t.Errorf("daily summary %+v", daily)
	}

	user := decode[[]Summary](t, f.do("GET", "/api/reports/user/"+f.ada.UserID+"?startDate=2026-05-01&endDate=2026-05-31", &f.ada, ""))
	if len(user) != 2 || user[0].Date != "2026-05-05" || user[1].Date != "2026-05-04" {
		t.Errorf("user report not newest first within the range: %+v", user)
	}

	org := decode[[]Summary](t, f.do("GET", "/api/reports/organization?startDate=2026-05-04&endDate=2026-05-05", &f.admin, ""))
	var order []string
	for _, s := range org {
		order = append(order, s.Date+" "+*s.UserName)
	}
	if got := strings.Join(order, ", "); got != "2026-05-05 Ada, 2026-05-04 Ada, 2026-05-04 bob" {
		t.Errorf("organization report order: %s", got)
	}
}

func TestReportsAsCSV(t *testing.T) {
	f := newFixture(t)
	f.seedSummary(f.ada, "2026-05-04", 3000, 600)
	f.seedSummary(f.bob, "2026-05-04", 100, 0)
	tests := []struct {
		name    string
		path    string
		caller  *authn.Principal
		headers []string
		rows    int
	}{
		{"The organization report answers CSV to Accept: text/csv.", "/api/reports/organization?startDate=2026-05-04&endDate=2026-05-04", &f.admin, []string{"Accept", "text/csv"}, 2},
		{"?format=csv asks for CSV too.", "/api/reports/user/" + f.ada.UserID + "?startDate=2026-05-04&endDate=2026-05-04&format=csv", &f.ada, nil, 1},
		{"The daily report as CSV has a header row and one row.", "/api/reports/daily?date=2026-05-04", &f.bob, []string{"Accept", "application/json;q=0.5, text/csv"}, 1},
		{"An empty report as CSV still has its header row.", "/api/reports/daily?date=2026-01-01&format=csv", &f.bob, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("GET", tt.path, tt.caller, "", tt.headers...)
			if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
				t.Fatalf("got %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
			}
			recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			if len(recs) != tt.rows+1 || strings.Join(recs[0], ",") != strings.Join(csvHeader, ",") {
				t.Fatalf("csv %q", recs)
			}
			for _, rec := range recs[1:] {
				var usage []map[string]any
				if rec[0] != "2026-05-04" || json.Unmarshal([]byte(rec[8]), &usage) != nil || len(usage) != 1 {
					t.Errorf("row %q", rec)
				}
			}
		})
	}
	recs, _ := csv.NewReader(bytes.NewReader(f.do("GET", "/api/reports/daily?date=2026-05-04&format=csv", &f.ada, "").body)).ReadAll()
	if want := []string{"2026-05-04", f.ada.UserID, "Ada", "3600", "3000", "600", "83.33", "1"}; strings.Join(recs[1][:8], ",") != strings.Join(want, ",") {
		t.Errorf("row %q, want %q", recs[1], want)
	}
}

func TestReportsRefuseBadDatesAndRanges(t *testing.T) {
	f := newFixture(t)
	uid := f.ada.UserID
	tests := []struct {
		name, path string
		caller     *authn.Principal
		status     int
		code       string
	}{
		{"A date that is not YYYY-MM-DD is refused.", "/api/reports/daily?date=05/04/2026", &f.ada, 400, "REPORT_INVALID_DATE_RANGE"},
		{"An impossible date is refused.", "/api/reports/daily?date=2026-02-30", &f.ada, 400, "REPORT_INVALID_DATE_RANGE"},
		{"A malformed startDate is refused.", "/api/reports/user/" + uid + "?startDate=yesterday", &f.ada, 400, "REPORT_INVALID_DATE_RANGE"},
		{"A start after the end is refused.", "/api/reports/user/" + uid + "?startDate=2026-05-10&endDate=2026-05-01", &f.ada, 400, "REPORT_INVALID_DATE_RANGE"},
		{"A range over the maximum is refused.", "/api/reports/organization?startDate=2020-01-01&endDate=2026-01-01", &f.admin, 400, "REPORT_INVALID_DATE_RANGE"},
		{"A range of exactly one day is accepted.", "/api/reports/organization?startDate=2026-05-01&endDate=2026-05-01", &f.admin, 200, ""},
		{"Without dates the last 30 days are reported.", "/api/reports/organization", &f.admin, 200, ""},
		{"An unknown format is refused.", "/api/reports/organization?format=xml", &f.admin, 400, "VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("GET", tt.path, tt.caller, "")
			if r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %s, want %d %s: %s", r.status, r.code(), tt.status, tt.code, r.body)
			}
		})
	}
}

func TestAlertsEndpoints(t *testing.T) {
	f := newFixture(t)
	alert := func(p authn.Principal, typ string, resolved bool, created time.Time) string {
		id := uuid.NewString()
		var resolvedAt *time.Time
		if resolved {
			resolvedAt = &created
		}
		var sess *string
		var local *time.Time
		if typ == "idle" {
			sess = ptr(uuid.NewString())
		} else {
			local = ptr(day(created.Format(time.DateOnly)))
		}
		f.exec(`INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, local_date, created_at, resolved_at)
			VALUES ($1, $2, $3, $4, $5, 'm', $6, $7, $8)`, id, p.OrganizationID, p.UserID, sess, typ, local, created, resolvedAt)
		return id
	}
	adaIdle := alert(f.ada, "idle", false, ts("2026-05-04T10:00:00Z"))
	alert(f.ada, "overtime", true, ts("2026-05-03T20:00:00Z"))
	adaOvertime := alert(f.ada, "overtime", false, ts("2026-05-02T20:00:00Z"))
	bobIdle := alert(f.bob, "idle", false, ts("2026-05-04T11:00:00Z"))
	strangerIdle := alert(f.stranger, "idle", false, ts("2026-05-04T11:00:00Z"))

	list := []struct {
		name   string
		caller *authn.Principal
		query  string
		want   int
		status int
	}{
		{"An employee lists only their own alerts.", &f.ada, "", 3, 200},
		{"An admin lists the organization's alerts.", &f.admin, "", 4, 200},
		{"A manager lists the alerts of their team's members.", &f.lead, "", 3, 200},
		{"A manager filters by a member of their team.", &f.lead, "?user_id=" + f.ada.UserID + "&type=overtime", 2, 200},
		{"A manager may not list the alerts of someone outside their teams.", &f.lead, "?user_id=" + f.bob.UserID, -1, 403},
		{"Alerts filter by type.", &f.admin, "?type=idle", 2, 200},
		{"Alerts filter by status.", &f.admin, "?status=resolved", 1, 200},
		{"Alerts filter by tenant-local creation date.", &f.admin, "?startDate=2026-05-04&endDate=2026-05-04", 2, 200},
		{"An admin filters by user.", &f.admin, "?user_id=" + f.bob.UserID, 1, 200},
		{"An employee may not list a colleague's alerts.", &f.ada, "?user_id=" + f.bob.UserID, -1, 403},
		{"An unknown type is refused.", &f.admin, "?type=sleepy", -1, 400},
		{"A bad date is refused.", &f.admin, "?startDate=2026-13-01", -1, 400},
	}
	for _, tt := range list {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("GET", "/api/alerts"+tt.query, tt.caller, "")
			if r.status != tt.status {
				t.Fatalf("got %d: %s", r.status, r.body)
			}
			if tt.want >= 0 {
				if got := len(decode[[]Alert](t, r)); got != tt.want {
					t.Errorf("%d alerts, want %d", got, tt.want)
				}
			}
		})
	}

	resolve := []struct {
		name   string
		caller *authn.Principal
		id     string
		status int
		code   string
	}{
		{"An employee may not resolve a colleague's alert.", &f.ada, bobIdle, 404, "ALERT_NOT_FOUND"},
		{"A manager may not resolve the alert of someone outside their teams.", &f.lead, bobIdle, 404, "ALERT_NOT_FOUND"},
		{"A manager resolves the alert of a member of their team.", &f.lead, adaOvertime, 200, ""},
		{"An admin may not resolve another organization's alert.", &f.admin, strangerIdle, 404, "ALERT_NOT_FOUND"},
		{"A user resolves their own alert.", &f.ada, adaIdle, 200, ""},
		{"Resolving it again is a conflict.", &f.ada, adaIdle, 409, "ALERT_ALREADY_RESOLVED"},
		{"An admin resolves a member's alert.", &f.admin, bobIdle, 200, ""},
		{"An unknown alert is not found.", &f.admin, "nope", 404, "ALERT_NOT_FOUND"},
	}
	for _, tt := range resolve {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("POST", "/api/alerts/"+tt.id+"/resolve", tt.caller, "")
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("got %d %s, want %d %s: %s", r.status, r.code(), tt.status, tt.code, r.body)
			}
			if tt.status == 200 && decode[Alert](t, r).ResolvedAt == nil {
				t.Errorf("resolved alert without resolved_at: %s", r.body)
			}
		})
	}
	if n := f.outboxEvents(events.TypeAlertResolved); n != 3 {
		t.Errorf("%d alert.resolved events, want 3", n)
	}
}

func TestTriggeredJobsRunAndReportTheirState(t *testing.T) {
	f := newFixture(t)
	start := ts("2026-05-04T08:00:00Z")
	f.partitions(start)
	sess := f.session(f.ada.OrganizationID, f.ada.UserID, start, ptr(start.Add(time.Hour)), nil)
	f.activities(f.ada.OrganizationID, f.ada.UserID, sess, heartbeats(start, 60, time.Minute, "active", 60, "https://github.com")...)

	tests := []struct {
		name   string
		caller *authn.Principal
		path   string
		body   string
		status int
		code   string
	}{
		{"An employee may not trigger jobs.", &f.ada, "/api/jobs/trigger/daily-summary", "", 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"A malformed date is refused.", &f.admin, "/api/jobs/trigger/daily-summary", `{"date": "May 4"}`, 400, "REPORT_INVALID_DATE_RANGE"},
		{"A future date is refused.", &f.admin, "/api/jobs/trigger/daily-summary", `{"date": "2999-01-01"}`, 400, "REPORT_INVALID_DATE_RANGE"},
		{"An unknown field is refused.", &f.admin, "/api/jobs/trigger/daily-summary", `{"day": "2026-05-04"}`, 400, "VALIDATION_FAILED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("POST", tt.path, tt.caller, tt.body)
			if r.status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %s, want %d %s: %s", r.status, r.code(), tt.status, tt.code, r.body)
			}
		})
	}

	for _, tc := range []struct{ path, body string }{
		{"/api/jobs/trigger/daily-summary", `{"date": "2026-05-04"}`},
		{"/api/jobs/trigger/idle-detection", ""},
	} {
		r := f.do("POST", tc.path, &f.admin, tc.body)
		if r.status != 202 {
			t.Fatalf("%s: got %d: %s", tc.path, r.status, r.body)
		}
		tr := decode[triggerResponse](t, r)
		if tr.JobID == "" || tr.Message == "" {
			t.Fatalf("trigger response %s", r.body)
		}
		var job JobView
		eventually(t, 10*time.Second, "the job to end", func() bool {
			job = decode[JobView](t, f.do("GET", "/api/jobs/"+tr.JobID, &f.admin, ""))
			return job.State == "succeeded" || job.State == "failed"
		})
		if job.State != "succeeded" || len(job.Result) == 0 || job.StartedAt == nil || job.FinishedAt == nil {
			t.Fatalf("%s: job %+v", tc.path, job)
		}
		if r := f.do("GET", "/api/jobs/"+tr.JobID, &f.otherAdmin, ""); r.status != 404 || r.code() != "JOB_NOT_FOUND" {
			t.Errorf("another organization's admin read the job: %d %s", r.status, r.body)
		}
	}
	if s, ok := f.summary(f.ada.OrganizationID, f.ada.UserID, "2026-05-04"); !ok || s.Active != 3600 {
		t.Errorf("triggered summary: %+v %v", s, ok)
	}

	// A job whose process died stops beating and reads as failed.
	dead := uuid.NewString()
	f.exec(`INSERT INTO reporting.jobs (id, organization_id, job_type, state, started_at, heartbeat_at)
		VALUES ($1, $2, 'idle-detection', 'running', $3::timestamptz - interval '5 minutes', $3::timestamptz - interval '2 minutes')`,
		dead, f.admin.OrganizationID, f.clock.Now())
	if job := decode[JobView](t, f.do("GET", "/api/jobs/"+dead, &f.admin, "")); job.State != "failed" || job.Error == nil {
		t.Errorf("a job without heartbeat for 2 minutes reads %+v", job)
	}
}

func TestSummaryJSONMatchesTheStandardEncoder(t *testing.T) {
	t.Parallel()
	names := []*string{nil, ptr("Ada"), ptr(`Quote " and \ backslash`), ptr("tab\tnew\nline\x01"), ptr("Zoë <b>&</b> 日本")}
	for _, name := range names {
		row := summaryRow{id: uuid.New(), org: uuid.New(), user: uuid.New(), name: name, date: "2026-05-04",
			total: 3600, active: 3000, idle: 600, score: 83.33, sessions: 2,
			productive: 1800, neutral: 1200, unproductive: 600, categoryScore: 50,
			usage: []byte(`[{"app":"github.com","total_seconds":3600,"active_seconds":3000,"idle_seconds":600}]`)}
		want, _ := json.Marshal(Summary{ID: uuid.UUID(row.id).String(), OrganizationID: uuid.UUID(row.org).String(),
			UserID: uuid.UUID(row.user).String(), UserName: name, Date: row.date, TotalWorkSeconds: row.total,
			ActiveSeconds: row.active, IdleSeconds: row.idle, ProductivityScore: row.score, SessionsCount: row.sessions,
			AppUsage: row.usage, CategorySeconds: CategorySeconds{Productive: 1800, Neutral: 1200, Unproductive: 600}, CategoryScore: 50})
		var a, b any
		if err := json.Unmarshal(row.appendJSON(nil), &a); err != nil {
			t.Fatalf("invalid JSON for name %v: %v", name, err)
		}
		_ = json.Unmarshal(want, &b)
		if ja, jb := mustJSON(a), mustJSON(b); ja != jb {
			t.Errorf("appendJSON gives %s, json.Marshal %s", ja, jb)
		}
	}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

// Summary is the contract's daily summary as a client decodes it.
type Summary struct {
	ID                string          `json:"id"`
	OrganizationID    string          `json:"organization_id"`
	UserID            string          `json:"user_id"`
	UserName          *string         `json:"user_name"`
	Date              string          `json:"date"`
	TotalWorkSeconds  int64           `json:"total_work_seconds"`
	ActiveSeconds     int64           `json:"active_seconds"`
	IdleSeconds       int64           `json:"idle_seconds"`
	ProductivityScore float64         `json:"productivity_score"`
	SessionsCount     int32           `json:"sessions_count"`
	AppUsage          json.RawMessage `json:"app_usage"`
	CategorySeconds   CategorySeconds `json:"category_seconds"`
	CategoryScore     float64         `json:"category_score"`
}

// CategorySeconds are a summary's seconds by productivity category.
type CategorySeconds struct {
	Productive   int64 `json:"productive"`
	Neutral      int64 `json:"neutral"`
	Unproductive int64 `json:"unproductive"`
}

func TestOrganizationReportCacheFollowsChanges(t *testing.T) {
	f := newFixture(t)
	start := ts("2026-05-04T08:00:00Z")
	f.partitions(start)
	org := f.ada.OrganizationID
	sess := f.session(org, f.ada.UserID, start, ptr(start.Add(time.Hour)), nil)
	f.activities(org, f.ada.UserID, sess, heartbeats(start, 10, time.Minute, "active", 60, "")...)
	if _, err := f.jobs.SummarizeDate(f.ctx, org, day("2026-05-04")); err != nil {
		t.Fatal(err)
	}
	path := "/api/reports/organization?startDate=2026-05-04&endDate=2026-05-04"
	report := func() []Summary {
		t.Helper()
		return decode[[]Summary](t, f.do("GET", path, &f.admin, ""))
	}
	if got := report(); len(got) != 1 || got[0].ActiveSeconds != 600 {
		t.Fatalf("first report %+v", got)
	}
	if got := report(); len(got) != 1 || got[0].ActiveSeconds != 600 {
		t.Fatalf("repeated report %+v", got)
	}
	// A colleague's activity and a re-run of the summary show at once.
	sess = f.session(org, f.bob.UserID, start, ptr(start.Add(time.Hour)), nil)
	f.activities(org, f.bob.UserID, sess, heartbeats(start, 5, time.Minute, "idle", 60, "")...)
	if _, err := f.jobs.SummarizeDate(f.ctx, org, day("2026-05-04")); err != nil {
		t.Fatal(err)
	}
	if got := report(); len(got) != 2 {
		t.Fatalf("after a new summary the report has %d rows, want 2", len(got))
	}
	// So does a member's new name.
	ev, _ := events.New(f.clock.Now(), "auth", events.TypeUserCreated, org, f.bob.UserID,
		events.UserCreated{UserID: f.bob.UserID, OrganizationID: org, Email: "b@example.com", Name: "Aaron", Role: "employee"})
	if err := NewConsumers(f.pool, f.log, f.clock).HandleDirectory(f.ctx, ev); err != nil {
		t.Fatal(err)
	}
	if got := report(); *got[0].UserName != "Aaron" {
		t.Errorf("after a rename the report starts with %s, want Aaron", *got[0].UserName)
	}
	// CSV is cached apart from JSON.
	r := f.do("GET", path+"&format=csv", &f.admin, "")
	if recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll(); err != nil || len(recs) != 3 {
		t.Errorf("csv after json: %q %v", recs, err)
	}
}
