package report

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
)

func TestDailySummarySplitsBySessionAcrossMidnightInTheTenantZone(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	e.tenant(org, "Asia/Tokyo", 0, 0, 0)
	// 22:00 to 02:00 Tokyo time (UTC+9): 13:00Z to 17:00Z on 2026-06-10.
	start := ts("2026-06-10T13:00:00Z")
	e.partitions(start)
	sess := e.session(org, user, start, ptr(start.Add(4*time.Hour)), nil)
	e.activities(org, user, sess, heartbeats(start, 480, 30*time.Second, "active", 30, "https://github.com/x")...)

	for _, d := range []string{"2026-06-10", "2026-06-11"} {
		if _, err := e.jobs.SummarizeDate(e.ctx, org, day(d)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"2026-06-10", "2026-06-11"} {
		s, ok := e.summary(org, user, d)
		if !ok {
			t.Fatalf("no summary for %s", d)
		}
		if s.Active != 7200 || s.Total != 7200 || s.Sessions != 1 || s.Score != 100 {
			t.Errorf("%s: got %+v, want 2 hours active in 1 session with score 100", d, s)
		}
	}
	if _, ok := e.summary(org, user, "2026-06-09"); ok {
		t.Error("a summary appeared for a day without activity")
	}
}

func TestDailySummaryFollowsDSTChangesInTheTenantZone(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	e.tenant(org, "America/New_York", 0, 0, 0)
	e.partitions(ts("2026-03-01T00:00:00Z"))
	sess := e.session(org, user, ts("2026-03-07T12:00:00Z"), ptr(ts("2026-03-09T12:00:00Z")), nil)
	e.activities(org, user, sess,
		// 23:59:30 EST on the 7th.
		act{at: ts("2026-03-08T04:59:30Z"), typ: "active", dur: 10},
		// Midnight EST starts the 8th, a 23-hour day (clocks jump at 02:00).
		act{at: ts("2026-03-08T05:00:00Z"), typ: "active", dur: 20},
		// 23:59 EDT, still the 8th.
		act{at: ts("2026-03-09T03:59:00Z"), typ: "idle", dur: 40},
		// 00:30 EDT on the 9th; a fixed UTC-5 offset would put it on the 8th.
		act{at: ts("2026-03-09T04:30:00Z"), typ: "active", dur: 80},
	)
	for _, d := range []string{"2026-03-07", "2026-03-08", "2026-03-09"} {
		if _, err := e.jobs.SummarizeDate(e.ctx, org, day(d)); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name         string
		date         string
		active, idle int64
		score        float64
	}{
		{"The last second before midnight standard time counts on the day before.", "2026-03-07", 10, 0, 100},
		{"The 23-hour day of the change holds what falls between its local midnights.", "2026-03-08", 20, 40, 33.33},
		{"After the change, local midnight is at 04:00 UTC.", "2026-03-09", 80, 0, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := e.summary(org, user, tt.date)
			if !ok {
				t.Fatalf("no summary for %s", tt.date)
			}
			if s.Active != tt.active || s.Idle != tt.idle || s.Score != tt.score || s.Total != tt.active+tt.idle {
				t.Errorf("got %+v, want active %d idle %d score %v", s, tt.active, tt.idle, tt.score)
			}
		})
	}
}

func TestDailySummaryGroupsAppsByHostOrName(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	start := ts("2026-05-04T08:00:00Z")
	e.partitions(start)
	sess := e.session(org, user, start, ptr(start.Add(8*time.Hour)), nil)
	e.activities(org, user, sess,
		act{at: start, typ: "active", dur: 100, url: "https://github.com/workpulse/a"},
		act{at: start.Add(time.Minute), typ: "idle", dur: 50, url: "https://www.GitHub.com/b?q=1"},
		act{at: start.Add(2 * time.Minute), typ: "active", dur: 300, url: "Visual Studio Code"},
		act{at: start.Add(3 * time.Minute), typ: "active", dur: 20, url: "http://user@docs.example.org:8080/x"},
		act{at: start.Add(4 * time.Minute), typ: "idle", dur: 30},
	)
	if _, err := e.jobs.SummarizeDate(e.ctx, org, day("2026-05-04")); err != nil {
		t.Fatal(err)
	}
	s, _ := e.summary(org, user, "2026-05-04")
	var apps []struct {
		App     string `json:"app"`
		TotalS  int64  `json:"total_seconds"`
		ActiveS int64  `json:"active_seconds"`
		IdleS   int64  `json:"idle_seconds"`
	}
	if err := json.Unmarshal([]byte(s.Apps), &apps); err != nil {
		t.Fatal(err)
	}
	type app struct {
		name                string
		total, active, idle int64
	}
	want := []app{{"Visual Studio Code", 300, 300, 0}, {"github.com", 150, 100, 50}, {"unknown", 30, 0, 30}, {"docs.example.org", 20, 20, 0}}
	if len(apps) != len(want) {
		t.Fatalf("got apps %s, want %v", s.Apps, want)
	}
	for i, w := range want {
		if g := apps[i]; g.App != w.name || g.TotalS != w.total || g.ActiveS != w.active || g.IdleS != w.idle {
			t.Errorf("app %d: got %+v, want %+v", i, g, w)
		}
	}
	if s.Score != 84 { // 420 active of 500 tracked seconds
		t.Errorf("productivity score %v, want 84", s.Score)
	}
}

func TestDailySummaryRerunsGiveTheSameRows(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	start := ts("2026-05-05T08:00:00Z")
	e.partitions(start)
	sess := e.session(org, user, start, ptr(start.Add(time.Hour)), nil)
	e.activities(org, user, sess, heartbeats(start, 60, time.Minute, "active", 60, "https://a.example")...)

	snapshot := func() string {
		var s string
		if err := e.db.Owner.QueryRow(e.ctx, `SELECT coalesce(string_agg(concat_ws('|', id, user_id, date, total_work_seconds, active_seconds,
			idle_seconds, productivity_score, sessions_count, app_usage::text), ';' ORDER BY id), '') FROM reporting.daily_summaries`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := e.jobs.SummarizeDate(e.ctx, org, day("2026-05-05")); err != nil {
		t.Fatal(err)
	}
	first := snapshot()
	if _, err := e.jobs.SummarizeDate(e.ctx, org, day("2026-05-05")); err != nil {
		t.Fatal(err)
	}
	if again := snapshot(); again != first || first == "" {
		t.Errorf("re-run changed the rows:\nfirst %s\nagain %s", first, again)
	}
}

func TestDailySummaryCatchUpMakesUpMissedDaysAndLateUploads(t *testing.T) {
	e := newEnv(t)
	org, user := uuid.NewString(), uuid.NewString()
	e.tenant(org, "Europe/Berlin", 0, 0, 0)
	e.partitions(ts("2026-04-01T00:00:00Z"))
	for _, d := range []string{"2026-04-06", "2026-04-07", "2026-04-08", "2026-04-09", "2026-04-10"} {
		start := ts(d + "T08:00:00Z")
		sess := e.session(org, user, start, ptr(start.Add(time.Hour)), nil)
		e.activities(org, user, sess, heartbeats(start, 10, time.Minute, "active", 60, "")...)
	}
	// 00:30 Berlin time on the 9th: the 8th is yesterday.
	e.clock.Set(ts("2026-04-08T22:30:00Z"))
	res, err := e.jobs.CatchUp(e.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if got := dates(res); got != "2026-04-06,2026-04-07,2026-04-08" {
		t.Errorf("first run summarized %s, want the 6th through yesterday", got)
	}
	res, err = e.jobs.CatchUp(e.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if got := dates(res); got != "2026-04-07 again" {
		t.Errorf("second run the same night summarized %s, want only the day before yesterday again", got)
	}

	// An offline client uploads more of the 8th during the 9th.
	late := ts("2026-04-08T15:00:00Z")
	sess := e.session(org, user, late, ptr(late.Add(time.Hour)), nil)
	e.activities(org, user, sess, act{at: late, typ: "idle", dur: 300})
	e.clock.Set(ts("2026-04-09T22:30:00Z"))
	res, err = e.jobs.CatchUp(e.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if got := dates(res); got != "2026-04-09,2026-04-08 again" {
		t.Errorf("next night summarized %s, want the 9th and the 8th again", got)
	}
	if s, _ := e.summary(org, user, "2026-04-08"); s.Idle != 300 || s.Sessions != 2 {
		t.Errorf("the late upload is missing from the 8th: %+v", s)
	}

	// Two nights missed.
	e.clock.Set(ts("2026-04-12T23:30:00Z"))
	res, err = e.jobs.CatchUp(e.ctx, org)
	if err != nil {
		t.Fatal(err)
	}
	if got := dates(res); got != "2026-04-10,2026-04-11,2026-04-12" {
		t.Errorf("after missed nights summarized %s, want the 10th through the 12th", got)
	}
	if _, ok := e.summary(org, user, "2026-04-10"); !ok {
		t.Error("the missed day with activity has no summary")
	}
	var last time.Time
	if err := e.db.Owner.QueryRow(e.ctx, "SELECT last_completed_date FROM reporting.summary_progress WHERE organization_id = $1", org).Scan(&last); err != nil {
		t.Fatal(err)
	}
	if last.Format(time.DateOnly) != "2026-04-12" {
		t.Errorf("progress %s, want 2026-04-12", last.Format(time.DateOnly))
	}
}

func TestDailySummaryRunsTwiceAtOnceWithTheSameResult(t *testing.T) {
	e := newEnv(t)
	org := uuid.NewString()
	start := ts("2026-05-06T08:00:00Z")
	e.partitions(start)
	for range 5 {
		user := uuid.NewString()
		sess := e.session(org, user, start, ptr(start.Add(time.Hour)), nil)
		e.activities(org, user, sess, heartbeats(start, 120, 30*time.Second, "active", 30, "")...)
	}
	e.clock.Set(ts("2026-05-07T08:00:00Z"))
	errs := make(chan error, 2)
	for range 2 {
		go func() { _, err := e.jobs.CatchUp(e.ctx, org); errs <- err }()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if n := e.count("SELECT count(*) FROM reporting.daily_summaries WHERE date = '2026-05-06'"); n != 5 {
		t.Errorf("%d summaries, want 5", n)
	}
}

func dates(r SummaryResult) string {
	s := ""
	for i, d := range r.Days {
		if i > 0 {
			s += ","
		}
		s += d.Date
		if d.Recomputed {
			s += " again"
		}
	}
	return s
}
