package report

import (
	"strings"
	"testing"
	"time"
)

func TestTodaysDailyReportShowsAnAcceptedActivityAtOnceWithTheNumbersTheSummaryStores(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.tenant(f.ada.OrganizationID, "America/New_York", 0, 0, 0)
	// 08:00 in New York on 4 May.
	f.clock.Set(ts("2026-05-04T12:00:00Z"))
	f.partitions(ts("2026-05-04T00:00:00Z"))
	start := ts("2026-05-04T11:00:00Z")
	sess := f.session(f.ada.OrganizationID, f.ada.UserID, start, nil, nil)
	// Late on 3 May in New York: another day.
	f.activities(f.ada.OrganizationID, f.ada.UserID, sess, act{at: ts("2026-05-04T03:30:00Z"), typ: "active", dur: 50, url: "https://github.com/x"})
	f.activities(f.ada.OrganizationID, f.ada.UserID, sess, heartbeats(start, 10, time.Minute, "active", 60, "https://github.com/x")...)

	daily := func() (string, Summary) {
		r := f.do("GET", "/api/reports/daily", &f.ada, "")
		if r.status != 200 {
			t.Fatalf("daily report: %d %s", r.status, r.body)
		}
		return strings.TrimSpace(string(r.body)), decode[Summary](t, r)
	}
	if _, s := daily(); s.Date != "2026-05-04" || s.ActiveSeconds != 600 || s.SessionsCount != 1 || s.UserName == nil {
		t.Fatalf("today's report %+v, want 600 active seconds of 4 May", s)
	}
	f.activities(f.ada.OrganizationID, f.ada.UserID, sess, act{at: start.Add(20 * time.Minute), typ: "idle", dur: 30, url: "Slack"})
	live, s := daily()
	if s.ActiveSeconds != 600 || s.IdleSeconds != 30 || s.TotalWorkSeconds != 630 || s.ProductivityScore != 95.24 {
		t.Fatalf("today's report after one more activity %+v, want it counted", s)
	}
	if again, _ := daily(); again != live {
		t.Errorf("two reads differ:\n%s\n%s", live, again)
	}

	// The summary the job stores once the day has ended is the same.
	if _, err := f.jobs.SummarizeDate(f.ctx, f.ada.OrganizationID, day("2026-05-04")); err != nil {
		t.Fatal(err)
	}
	live, _ = daily()
	f.clock.Set(ts("2026-05-05T12:00:00Z"))
	r := f.do("GET", "/api/reports/daily?date=2026-05-04", &f.ada, "")
	if stored := strings.TrimSpace(string(r.body)); stored != live {
		t.Errorf("stored summary differs from the live one:\nstored %s\nlive   %s", stored, live)
	}
}
