package report

import (
	"strings"
	"testing"
	"time"
)

func TestTodaysDailyReportShowsAnAcceptedActivityAtOnceWithTheNumbersTheSummaryStores(t *testing.T) {
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

func TestTodaysOrganizationReportShowsEveryMembersAcceptedActivityAtOnceBeforeTheStoredDays(t *testing.T) {
	f := newFixture(t)
	org := f.admin.OrganizationID
	f.tenant(org, "Asia/Tokyo", 0, 0, 0)
	// 21:00 in Tokyo on 4 May.
	f.clock.Set(ts("2026-05-04T12:00:00Z"))
	f.partitions(ts("2026-05-01T00:00:00Z"))
	f.seedSummary(f.ada, "2026-05-03", 300, 0)
	start := ts("2026-05-04T01:00:00Z")
	adaSess := f.session(org, f.ada.UserID, start, nil, nil)
	bobSess := f.session(org, f.bob.UserID, start, nil, nil)
	f.activities(org, f.ada.UserID, adaSess, heartbeats(start, 10, time.Minute, "active", 60, "https://github.com/x")...)
	f.activities(org, f.bob.UserID, bobSess, heartbeats(start, 4, time.Minute, "idle", 60, "Slack")...)
	// Another organization's activity of the same day is not theirs.
	strangerSess := f.session(f.stranger.OrganizationID, f.stranger.UserID, start, nil, nil)
	f.activities(f.stranger.OrganizationID, f.stranger.UserID, strangerSess, heartbeats(start, 3, time.Minute, "active", 60, "")...)

	path := "/api/reports/organization?startDate=2026-05-01&endDate=2026-05-04"
	report := func() (string, []Summary) {
		t.Helper()
		r := f.do("GET", path, &f.admin, "")
		if r.status != 200 {
			t.Fatalf("organization report: %d %s", r.status, r.body)
		}
		return strings.TrimSpace(string(r.body)), decode[[]Summary](t, r)
	}
	rows := func(got []Summary) string {
		var out []string
		for _, s := range got {
			out = append(out, s.Date+" "+*s.UserName+" "+itoa(s.ActiveSeconds)+"/"+itoa(s.IdleSeconds))
		}
		return strings.Join(out, ", ")
	}
	if _, got := report(); rows(got) != "2026-05-04 Ada 600/0, 2026-05-04 bob 0/240, 2026-05-03 Ada 300/0" {
		t.Fatalf("today's organization report: %s", rows(got))
	}
	f.activities(org, f.bob.UserID, bobSess, act{at: start.Add(time.Hour), typ: "active", dur: 30, url: "Slack"})
	live, got := report()
	if rows(got) != "2026-05-04 Ada 600/0, 2026-05-04 bob 30/240, 2026-05-03 Ada 300/0" {
		t.Fatalf("after one more activity: %s", rows(got))
	}
	if again, _ := report(); again != live {
		t.Errorf("two reads differ:\n%s\n%s", live, again)
	}

	// Once the day has ended, the stored summaries are what the live
	// report showed.
	if _, err := f.jobs.SummarizeDate(f.ctx, org, day("2026-05-04")); err != nil {
		t.Fatal(err)
	}
	live, _ = report()
	f.clock.Set(ts("2026-05-05T12:00:00Z"))
	if stored, _ := report(); stored != live {
		t.Errorf("stored report differs from the live one:\nstored %s\nlive   %s", stored, live)
	}
}
