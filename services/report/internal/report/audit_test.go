package report

import (
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
)

func TestReadsOfAnotherMembersReportAndExportsAreAuditedBeforeTheyAreServed(t *testing.T) {
	f := newFixture(t)
	f.seedSummary(f.ada, "2026-05-04", 3000, 600)
	f.seedSummary(f.bob, "2026-05-04", 100, 0)
	q := "?startDate=2026-05-01&endDate=2026-05-31"
	tests := []struct {
		name    string
		caller  *authn.Principal
		path    string
		status  int
		action  string // "" when nothing is recorded
		subject string // "" for the organization
		format  string
	}{
		{"A member reading their own report leaves no entry.", &f.ada, "/api/reports/user/" + f.ada.UserID + q, 200, "", "", ""},
		{"An admin reading their own report leaves none either.", &f.admin, "/api/reports/user/" + f.admin.UserID + q, 200, "", "", ""},
		{"An admin reading a member's report is recorded.", &f.admin, "/api/reports/user/" + f.bob.UserID + q, 200, "report.read", f.bob.UserID, "json"},
		{"An admin downloading a member's report as CSV is recorded with its format.", &f.admin, "/api/reports/user/" + f.ada.UserID + q + "&format=csv", 200, "report.read", f.ada.UserID, "csv"},
		{"A refused read of an unknown member leaves no entry.", &f.admin, "/api/reports/user/" + uuid.NewString() + q, 404, "", "", ""},
		{"An admin reading the organization report on screen leaves no entry.", &f.admin, "/api/reports/organization" + q, 200, "", "", ""},
		{"An admin exporting the organization report as CSV is recorded.", &f.admin, "/api/reports/organization" + q + "&format=csv", 200, "report.exported", "", "csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := f.count("SELECT count(*) FROM auth.audit_log")
			if r := f.do("GET", tt.path, tt.caller, ""); r.status != tt.status {
				t.Fatalf("got %d: %s", r.status, r.body)
			}
			if tt.action == "" {
				if n := f.count("SELECT count(*) FROM auth.audit_log"); n != before {
					t.Fatalf("%d entries recorded; want none", n-before)
				}
				return
			}
			n := f.count(`SELECT count(*) FROM auth.audit_log WHERE organization_id = $1 AND actor_id = $2 AND action = $3
				AND subject_id IS NOT DISTINCT FROM nullif($4, '')::uuid AND subject_type = CASE WHEN $4 = '' THEN 'organization' ELSE 'user' END
				AND details = jsonb_build_object('from', '2026-05-01', 'to', '2026-05-31', 'format', $5::text)`,
				tt.caller.OrganizationID, tt.caller.UserID, tt.action, tt.subject, tt.format)
			if n != 1 || f.count("SELECT count(*) FROM auth.audit_log") != before+1 {
				t.Fatalf("%d matching entries; want exactly the one", n)
			}
		})
	}
}
