package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestTheCategoryOfAnActivity(t *testing.T) {
	t.Parallel()
	team, other := "team-a", "team-b"
	rs := compileRules([]CategoryRule{
		{Match: "host", Pattern: "github.com", Category: CategoryProductive},
		{Match: "regex", Pattern: `(?i)youtube\.com/watch`, Category: CategoryUnproductive},
		{Match: "host", Pattern: "youtube.com", Category: CategoryProductive},
		{Match: "app", Pattern: "Slack", Category: CategoryProductive},
		{Match: "path_prefix", Pattern: "/admin", Category: CategoryUnproductive},
		{TeamID: &team, Match: "app", Pattern: "Slack", Category: CategoryUnproductive},
		{TeamID: &other, Match: "app", Pattern: "Slack", Category: CategoryNeutral},
		{TeamID: &other, Match: "host", Pattern: "github.com", Category: CategoryUnproductive},
	})
	tests := []struct {
		name  string
		teams []string
		text  string
		want  string
	}{
		{"A host rule of the organization decides for everyone.", nil, "https://github.com/workpulse", CategoryProductive},
		{"The first matching rule wins over a later one.", nil, "https://www.youtube.com/watch?v=1", CategoryUnproductive},
		{"A later rule decides what the earlier ones leave.", nil, "https://youtube.com/channel/x", CategoryProductive},
		{"An application rule matches the application's name.", nil, "slack", CategoryProductive},
		{"A path prefix of any host matches that path.", nil, "https://intranet.test/admin/users", CategoryUnproductive},
		{"Activity no rule matches is neutral.", nil, "https://news.test/", CategoryNeutral},
		{"An activity without a URL is neutral.", nil, "", CategoryNeutral},
		{"A team's rule overrides the organization's for its members.", []string{team}, "Slack", CategoryUnproductive},
		{"The organization's rules still decide what the team's leave.", []string{team}, "https://github.com/", CategoryProductive},
		{"A member of two teams gets the first team's rule that matches.", []string{team, other}, "Slack", CategoryUnproductive},
		{"The second team's rules apply where the first team has none.", []string{team, other}, "https://github.com/", CategoryUnproductive},
		{"Another team's rules do not apply to a non-member.", []string{"team-c"}, "Slack", CategoryProductive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := rs.category(tt.teams, tt.text); got != tt.want {
				t.Fatalf("category(%v, %q) = %s, want %s", tt.teams, tt.text, got, tt.want)
			}
		})
	}
}

// team makes a team of org in auth with members, returning its id.
func (f *fixture) team(org string, members ...string) string {
	f.t.Helper()
	id := uuid.NewString()
	f.exec("INSERT INTO auth.organizations (id, name) VALUES ($1, 'Categories test') ON CONFLICT DO NOTHING", org)
	f.exec("INSERT INTO auth.teams (id, organization_id, name) VALUES ($1, $2, $3)", id, org, "team "+id[:8])
	for _, m := range members {
		f.exec(`INSERT INTO auth.users (id, organization_id, email, name, password_hash, role) VALUES ($1, $2, $3, 'Member', 'x', 'employee')
			ON CONFLICT DO NOTHING`, m, org, m[:8]+"@example.com")
		f.exec("INSERT INTO auth.team_members (team_id, user_id, organization_id, role) VALUES ($1, $2, $3, 'member')", id, m, org)
	}
	return id
}

// putRules replaces the rules as the admin and waits for the
// recomputation it started; it returns the finished job.
func (f *fixture) putRules(t *testing.T, body string) JobView {
	t.Helper()
	r := f.do("PUT", "/api/categories/rules", &f.admin, body)
	if r.status != 200 {
		t.Fatalf("PUT rules: %d %s", r.status, r.body)
	}
	view := decode[categoryRulesView](t, r)
	if view.JobID == "" {
		t.Fatalf("a change of the rules started no recomputation: %s", r.body)
	}
	var job JobView
	eventually(t, 20*time.Second, "the recomputation to end", func() bool {
		job = decode[JobView](t, f.do("GET", "/api/jobs/"+view.JobID, &f.admin, ""))
		return job.State == "succeeded" || job.State == "failed"
	})
	if job.State != "succeeded" || job.Type != JobCategoryRecompute {
		t.Fatalf("recomputation %+v", job)
	}
	return job
}

// userDays reads a user's report of April and May 2026 by date.
func (f *fixture) userDays(t *testing.T, user string) map[string]Summary {
	t.Helper()
	r := f.do("GET", "/api/reports/user/"+user+"?startDate=2026-04-01&endDate=2026-05-31", &f.admin, "")
	if r.status != 200 {
		t.Fatalf("user report: %d %s", r.status, r.body)
	}
	out := map[string]Summary{}
	for _, s := range decode[[]Summary](t, r) {
		if c := s.CategorySeconds; c.Productive+c.Neutral+c.Unproductive != s.TotalWorkSeconds {
			t.Errorf("%s %s: categories %+v do not add up to the %d tracked seconds", user[:8], s.Date, c, s.TotalWorkSeconds)
		}
		out[s.Date] = s
	}
	return out
}

func TestCategoryRulesRecomputeTheSummariesTheyAffectInBatches(t *testing.T) {
	f := newFixture(t)
	org := f.admin.OrganizationID
	adaTeam := f.team(org, f.ada.UserID)
	first := ts("2026-04-01T09:00:00Z")
	f.partitions(first, testStart)
	// Ada works ten days, more than a batch: 20 minutes on GitHub, 10 in
	// Slack (5 of them idle) and 5 on YouTube a day; Bob works two of them.
	var adaDays []string
	for d := range 10 {
		at := first.AddDate(0, 0, d)
		sess := f.session(org, f.ada.UserID, at, ptr(at.Add(time.Hour)), nil)
		f.activities(org, f.ada.UserID, sess, heartbeats(at, 20, time.Minute, "active", 60, "https://github.com/workpulse")...)
		f.activities(org, f.ada.UserID, sess, heartbeats(at.Add(20*time.Minute), 5, time.Minute, "active", 60, "Slack")...)
		f.activities(org, f.ada.UserID, sess, heartbeats(at.Add(25*time.Minute), 5, time.Minute, "idle", 60, "Slack")...)
		f.activities(org, f.ada.UserID, sess, heartbeats(at.Add(30*time.Minute), 5, time.Minute, "active", 60, "https://www.youtube.com/watch?v=x")...)
		adaDays = append(adaDays, at.Format(time.DateOnly))
	}
	for _, d := range []int{0, 1} {
		at := first.AddDate(0, 0, d).Add(2 * time.Hour)
		sess := f.session(org, f.bob.UserID, at, ptr(at.Add(time.Hour)), nil)
		f.activities(org, f.bob.UserID, sess, heartbeats(at, 30, time.Minute, "active", 60, "Slack")...)
	}
	for _, d := range adaDays {
		if _, err := f.jobs.SummarizeDate(f.ctx, org, day(d)); err != nil {
			t.Fatal(err)
		}
	}
	if got := f.userDays(t, f.ada.UserID); got[adaDays[0]].CategorySeconds.Neutral != 2100 || got[adaDays[0]].CategoryScore != 0 {
		t.Fatalf("without rules everything is neutral: %+v", got[adaDays[0]])
	}

	// The organization's rules change: every stored summary is recomputed,
	// ten of Ada's days and Bob's two in two batches of a week at most.
	job := f.putRules(t, `{"rules": [
		{"match": "host", "pattern": "github.com", "category": "productive"},
		{"match": "regex", "pattern": "youtube\\.com/watch", "category": "unproductive"},
		{"match": "app", "pattern": "slack", "category": "productive"}]}`)
	var progress CategoryRecompute
	if err := json.Unmarshal(job.Result, &progress); err != nil || progress.DaysTotal != 10 || progress.DaysDone != 10 ||
		progress.SummariesChanged != 12 || progress.Passes != 1 {
		t.Errorf("recomputation result %s, want 10 days done of 10 and 12 summaries changed", job.Result)
	}
	// The job's status follows it batch by batch: the days found first,
	// then each batch's days done.
	var steps []CategoryRecompute
	if _, err := f.jobs.RecomputeCategories(f.ctx, org, nil, func(p any) { steps = append(steps, p.(CategoryRecompute)) }); err != nil {
		t.Fatal(err)
	}
	if want := []CategoryRecompute{{Passes: 1, DaysTotal: 10}, {Passes: 1, DaysTotal: 10, DaysDone: 7}, {Passes: 1, DaysTotal: 10, DaysDone: 10}}; !slices.Equal(steps, want) {
		t.Errorf("the progress a recomputation reports: %+v, want %+v", steps, want)
	}
	for _, d := range adaDays {
		s := f.userDays(t, f.ada.UserID)[d]
		if want := (CategorySeconds{Productive: 1800, Unproductive: 300}); s.CategorySeconds != want || s.CategoryScore != 85.71 ||
			s.ProductivityScore != 85.71 {
			t.Fatalf("Ada on %s: %+v, want %+v and a score of 85.71", d, s, want)
		}
	}
	if s := f.userDays(t, f.bob.UserID)[adaDays[0]]; s.CategorySeconds.Productive != 1800 || s.CategoryScore != 100 {
		t.Errorf("Bob's Slack is productive: %+v", s)
	}

	// A rule of Ada's team makes Slack unproductive for her alone: only her
	// days are recomputed, Bob's stay as they are.
	job = f.putRules(t, `{"rules": [
		{"match": "host", "pattern": "github.com", "category": "productive"},
		{"match": "regex", "pattern": "youtube\\.com/watch", "category": "unproductive"},
		{"match": "app", "pattern": "slack", "category": "productive"},
		{"team_id": "`+adaTeam+`", "match": "app", "pattern": "Slack", "category": "unproductive"}]}`)
	if err := json.Unmarshal(job.Result, &progress); err != nil || progress.DaysTotal != 10 || progress.SummariesChanged != 10 {
		t.Errorf("team recomputation result %s, want Ada's 10 days and 10 summaries changed", job.Result)
	}
	if s := f.userDays(t, f.ada.UserID)[adaDays[3]]; s.CategorySeconds != (CategorySeconds{Productive: 1200, Unproductive: 900}) || s.CategoryScore != 57.14 {
		t.Errorf("Ada under her team's rule: %+v", s)
	}
	if s := f.userDays(t, f.bob.UserID)[adaDays[1]]; s.CategorySeconds.Productive != 1800 {
		t.Errorf("Bob is not in the team, yet %+v", s)
	}

	// The organization report and its CSV carry the categories.
	r := f.do("GET", "/api/reports/organization?startDate="+adaDays[0]+"&endDate="+adaDays[0]+"&format=csv", &f.admin, "")
	recs, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil || len(recs) != 3 {
		t.Fatalf("organization CSV %d %q %v", r.status, recs, err)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for _, rec := range recs[1:] {
		total, _ := strconv.ParseInt(rec[col["total_work_seconds"]], 10, 64)
		var sum int64
		for _, c := range []string{"productive_seconds", "neutral_seconds", "unproductive_seconds"} {
			n, _ := strconv.ParseInt(rec[col[c]], 10, 64)
			sum += n
		}
		if sum != total || rec[col["category_score"]] == "" {
			t.Errorf("CSV row %q: categories add up to %d of %d", rec, sum, total)
		}
	}

	// Today is computed on every read, with the rules as they are.
	sess := f.session(org, f.ada.UserID, f.clock.Now().Add(-time.Hour), nil, nil)
	f.activities(org, f.ada.UserID, sess, heartbeats(f.clock.Now().Add(-time.Hour), 10, time.Minute, "active", 60, "Slack")...)
	f.activities(org, f.ada.UserID, sess, heartbeats(f.clock.Now().Add(-30*time.Minute), 10, time.Minute, "active", 60, "https://github.com/")...)
	today := decode[Summary](t, f.do("GET", "/api/reports/daily", &f.ada, ""))
	if today.CategorySeconds != (CategorySeconds{Productive: 600, Unproductive: 600}) || today.CategoryScore != 50 {
		t.Errorf("today's live summary %+v", today)
	}
	orgToday := decode[[]Summary](t, f.do("GET", "/api/reports/organization?startDate="+today.Date+"&endDate="+today.Date, &f.admin, ""))
	if len(orgToday) != 1 || orgToday[0].CategorySeconds != today.CategorySeconds {
		t.Errorf("today's organization report %+v", orgToday)
	}

	// Putting the same rules again changes nothing and starts nothing.
	r = f.do("PUT", "/api/categories/rules", &f.admin, `{"rules": [
		{"match": "host", "pattern": "github.com", "category": "productive"},
		{"match": "regex", "pattern": "youtube\\.com/watch", "category": "unproductive"},
		{"match": "app", "pattern": "slack", "category": "productive"},
		{"team_id": "`+adaTeam+`", "match": "app", "pattern": "Slack", "category": "unproductive"}]}`)
	if v := decode[categoryRulesView](t, r); r.status != 200 || v.JobID != "" || len(v.Rules) != 4 {
		t.Errorf("unchanged rules: %d %s", r.status, r.body)
	}
	if got := decode[categoryRulesView](t, f.do("GET", "/api/categories/rules", &f.admin, "")); len(got.Rules) != 4 ||
		got.Rules[3].TeamID == nil || *got.Rules[3].TeamID != adaTeam || got.Rules[0].Pattern != "github.com" {
		t.Errorf("GET rules %+v", got)
	}
}

func TestBadCategoryRulesAreRefusedWithTheirFieldsAndChangeNothing(t *testing.T) {
	f := newFixture(t)
	f.putRules(t, `{"rules": [{"match": "host", "pattern": "github.com", "category": "productive"}]}`)
	otherTeam := f.team(f.otherAdmin.OrganizationID)
	tests := []struct {
		name   string
		body   string
		status int
		code   string
		field  string
	}{
		{"A regular expression RE2 cannot compile is refused.", `{"rules": [{"match": "regex", "pattern": "(a)\\1", "category": "neutral"}]}`, 400, "VALIDATION_FAILED", "rules[0].pattern"},
		{"An unbounded pattern is refused.", `{"rules": [{"match": "regex", "pattern": "` + strings.Repeat("a", 513) + `", "category": "neutral"}]}`, 400, "VALIDATION_FAILED", "rules[0].pattern"},
		{"An unknown kind of match is refused.", `{"rules": [{"match": "glob", "pattern": "*.com", "category": "neutral"}]}`, 400, "VALIDATION_FAILED", "rules[0].match"},
		{"An unknown category is refused.", `{"rules": [{"match": "app", "pattern": "Slack", "category": "fun"}]}`, 400, "VALIDATION_FAILED", "rules[0].category"},
		{"A host with a scheme is refused.", `{"rules": [{"match": "host", "pattern": "https://a.test", "category": "neutral"}]}`, 400, "VALIDATION_FAILED", "rules[0].pattern"},
		{"Another organization's team is refused.", `{"rules": [{"team_id": "` + otherTeam + `", "match": "app", "pattern": "Slack", "category": "neutral"}]}`, 400, "VALIDATION_FAILED", "rules[0].team_id"},
		{"A body without rules is refused.", `{}`, 400, "VALIDATION_FAILED", "rules"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.do("PUT", "/api/categories/rules", &f.admin, tt.body)
			var env struct {
				Error struct {
					Details []apierr.FieldError `json:"details"`
				} `json:"error"`
			}
			_ = json.Unmarshal(r.body, &env)
			if r.status != tt.status || r.code() != tt.code || len(env.Error.Details) != 1 || env.Error.Details[0].Field != tt.field {
				t.Errorf("got %d %s %+v, want %d %s on %s: %s", r.status, r.code(), env.Error.Details, tt.status, tt.code, tt.field, r.body)
			}
		})
	}
	if r := f.do("PUT", "/api/categories/rules", &f.ada, `{"rules": []}`); r.status != 403 {
		t.Errorf("an employee changed the rules: %d %s", r.status, r.body)
	}
	if r := f.do("GET", "/api/categories/rules", &f.otherAdmin, ""); len(decode[categoryRulesView](t, r).Rules) != 0 {
		t.Errorf("another organization's admin read the rules: %s", r.body)
	}
	if got := decode[categoryRulesView](t, f.do("GET", "/api/categories/rules", &f.admin, "")); len(got.Rules) != 1 || got.Rules[0].Pattern != "github.com" {
		t.Errorf("a refused change changed the rules: %+v", got)
	}
}

func TestALateUploadsCorrectedSummaryCarriesItsCategoriesThroughTheActivityStream(t *testing.T) {
	e := newEnv(t)
	e.clock.Set(ts("2026-05-20T12:00:00Z"))
	f := fixtureOn(t, e)
	ctx, writer := e.runConsumers(t, testkit.Kafka(t), func(*kafka.Writer) func(context.Context) error { return e.jobs.RunCorrections })
	org := f.ada.OrganizationID
	f.putRules(t, `{"rules": [{"match": "host", "pattern": "github.com", "category": "productive"},
		{"match": "app", "pattern": "Games", "category": "unproductive"}]}`)
	lateDay := ts("2026-05-10T09:00:00Z")
	f.partitions(lateDay)
	sess := f.session(org, f.ada.UserID, lateDay, nil, nil)
	f.activities(org, f.ada.UserID, sess, heartbeats(lateDay, 5, time.Minute, "active", 60, "https://github.com/")...)
	if _, err := f.jobs.SummarizeDate(ctx, org, day("2026-05-10")); err != nil {
		t.Fatal(err)
	}
	batch := lateDay.Add(time.Hour)
	f.activities(org, f.ada.UserID, sess, heartbeats(batch, 10, time.Minute, "active", 60, "Games")...)
	ev := lateEvent(t, e.clock.Now(), org, f.ada.UserID, sess, batch, batch.Add(9*time.Minute))
	raw, _ := json.Marshal(ev)
	if err := writer.WriteMessages(ctx, kafka.Message{Topic: events.TopicActivity, Key: []byte(ev.Key), Value: raw}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 30*time.Second, "the late day's corrected summary", func() bool {
		s, _ := e.summary(org, f.ada.UserID, "2026-05-10")
		return s.Total == 900
	})
	if s := f.userDays(t, f.ada.UserID)["2026-05-10"]; s.CategorySeconds != (CategorySeconds{Productive: 300, Unproductive: 600}) || s.CategoryScore != 33.33 {
		t.Errorf("corrected summary %+v", s)
	}
}
