package report

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
)

func TestThePayrollExportListsEveryFinishedEntryOfThePeriodToWhoSeesIt(t *testing.T) {
	f := newFixture(t)
	org := f.admin.OrganizationID
	f.tenant(org, "Europe/Berlin", 0, 0, 0)
	stopped := func(user authn.Principal, from, to string, active, idle int64) string {
		id := f.session(org, user.UserID, ts(from), ptr(ts(to)), nil)
		f.exec("UPDATE tracking.work_sessions SET total_active_seconds = $2, total_idle_seconds = $3 WHERE id = $1", id, active, idle)
		return id
	}
	// 00:30 on 4 May in Berlin: in the period; 00:30 on 5 May: not.
	early := stopped(f.ada, "2026-05-03T22:30:00Z", "2026-05-03T23:30:00Z", 3000, 600)
	stopped(f.ada, "2026-05-04T22:30:00Z", "2026-05-04T23:00:00Z", 1800, 0)
	f.session(org, f.ada.UserID, ts("2026-05-04T12:00:00Z"), nil, nil) // still running: not payable yet
	project := uuid.NewString()
	f.exec("INSERT INTO tracking.projects (id, organization_id, name, created_by) VALUES ($1, $2, '=HYPERLINK(\"x\")', $3)", project, org, f.admin.UserID)
	manual := stopped(f.bob, "2026-05-04T08:00:00Z", "2026-05-04T09:00:00Z", 3600, 0)
	f.exec("UPDATE tracking.work_sessions SET project_id = $2 WHERE id = $1", manual, project)
	f.exec(`INSERT INTO tracking.time_requests (id, organization_id, user_id, project_id, start_time, end_time, status, requested_at,
		reviewed_by, reviewed_at, session_id) VALUES ($1, $2, $3, $4, '2026-05-04T08:00:00Z', '2026-05-04T09:00:00Z', 'approved',
		'2026-05-04T10:00:00Z', $5, '2026-05-04T11:00:00Z', $6)`, uuid.NewString(), org, f.bob.UserID, project, f.admin.UserID, manual)
	// Ada assigned 900 of the early session's active seconds, idle time she
	// decided, to the project; a stretch she kept stays the session's.
	decide := func(decision string, project *string, from, to string, seconds int64) {
		f.exec(`INSERT INTO tracking.idle_decisions (id, organization_id, session_id, user_id, start_time, end_time, decision, project_id,
			activities, idle_seconds, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $4, $6)`,
			uuid.NewString(), org, early, f.ada.UserID, ts(from), ts(to), decision, project, seconds)
	}
	decide("keep", nil, "2026-05-03T22:35:00Z", "2026-05-03T22:40:00Z", 300)
	decide("assign", &project, "2026-05-03T22:45:00Z", "2026-05-03T23:00:00Z", 900)
	stranger := f.session(f.otherAdmin.OrganizationID, f.stranger.UserID, ts("2026-05-04T08:00:00Z"), ptr(ts("2026-05-04T09:00:00Z")), nil)

	const period = "/api/reports/payroll?startDate=2026-05-04&endDate=2026-05-04"
	cases := []struct {
		name   string
		caller *authn.Principal
		want   []string
	}{
		{"The admin gets every member's entries, oldest first, an assigned stretch right after its session.", &f.admin, []string{early, early, manual}},
		{"A manager gets their team's.", &f.lead, []string{early, early}},
		{"An employee gets their own.", &f.bob, []string{manual}},
		{"Another organization gets its own only.", &f.otherAdmin, []string{stranger}},
	}
	for _, tc := range cases {
		r := f.do("GET", period, tc.caller, "")
		got := decode[struct {
			Entries []PayrollEntry `json:"entries"`
		}](t, r)
		var ids []string
		for _, e := range got.Entries {
			ids = append(ids, e.SessionID)
		}
		if r.status != 200 || strings.Join(ids, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: status %d, entries %v, want %v", tc.name, r.status, ids, tc.want)
		}
	}
	got := decode[struct {
		Entries []PayrollEntry `json:"entries"`
	}](t, f.do("GET", period, &f.admin, ""))
	if e := got.Entries[2]; e.Source != SourceManual || e.ApprovedBy == nil || *e.ApprovedBy != f.admin.UserID || e.ActiveSeconds != 3600 ||
		e.ProjectID == nil || *e.ProjectID != project || e.UserName == nil || *e.UserName != "bob" {
		t.Errorf("the manual entry: %+v", e)
	}
	if e := got.Entries[0]; e.Source != SourceTracked || e.ApprovedBy != nil || e.ActiveSeconds != 3000-900 || e.IdleSeconds != 600 || e.ProjectID != nil {
		t.Errorf("the tracked entry, less what was assigned: %+v", e)
	}
	if e := got.Entries[1]; e.Source != SourceAssigned || e.ActiveSeconds != 900 || e.IdleSeconds != 0 || e.ProjectID == nil || *e.ProjectID != project ||
		!e.StartTime.Equal(ts("2026-05-03T22:45:00Z")) || !e.EndTime.Equal(ts("2026-05-03T23:00:00Z")) || e.UserName == nil || *e.UserName != "Ada" {
		t.Errorf("the stretch assigned to the project: %+v", e)
	}

	r := f.do("GET", period+"&format=csv", &f.admin, "")
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || r.status != 200 || len(recs) != 4 || strings.Join(recs[0], ",") != strings.Join(payrollHeader, ",") {
		t.Fatalf("csv: status %d %q %v", r.status, recs, err)
	}
	if want := []string{manual, f.bob.UserID, "bob", project, `'=HYPERLINK("x")`, "2026-05-04T08:00:00Z", "2026-05-04T09:00:00Z", "3600", "0",
		"manual", f.admin.UserID}; strings.Join(recs[3], "|") != strings.Join(want, "|") {
		t.Errorf("csv row %q, want %q (the project's name neutralized)", recs[3], want)
	}
	if n := f.count(`SELECT count(*) FROM auth.audit_log WHERE action = 'report.exported' AND details->>'report' = 'payroll'`); n != 6 {
		t.Errorf("%d payroll exports audited, want 6", n)
	}
	if r := f.do("GET", "/api/reports/payroll?startDate=2026-05-05&endDate=2026-05-04", &f.admin, ""); r.status != 400 || r.code() != "REPORT_INVALID_DATE_RANGE" {
		t.Errorf("a reversed period: %d %s", r.status, r.body)
	}
}
