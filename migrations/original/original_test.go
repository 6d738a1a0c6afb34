package original_test

import (
	"context"
	_ "embed"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/bcrypt"

	"github.com/workpulse/workpulse/migrations/original"
	"github.com/workpulse/workpulse/test/testkit"
)

//go:embed testdata/original.sql
var originalSchema string

// legacy is an original system's database built for a test, and what the
// import of it must come to, tallied while planting its rows.
type legacy struct {
	url string
	// read counts every row per table; refused the rows that break
	// WorkPulse's rules, by the report's reason.
	read    map[string]int
	refused map[string]map[string]int
	// activitySeconds sums the durations of the activity rows to keep.
	activitySeconds int64
	sharedEmail     string
	password        string
}

func (l *legacy) imported(table string) int {
	n := l.read[table]
	for _, v := range l.refused[table] {
		n -= v
	}
	return n
}

type builder struct {
	t     *testing.T
	l     *legacy
	batch *pgx.Batch
	rnd   *rand.Rand
	hash  string
}

func (b *builder) row(table, sql string, args ...any) {
	b.l.read[table]++
	b.batch.Queue(sql, args...)
}

func (b *builder) refuse(table, reason string) {
	if b.l.refused[table] == nil {
		b.l.refused[table] = map[string]int{}
	}
	b.l.refused[table][reason]++
}

// newLegacy builds the original's schema and months of realistic data in
// a database of its own: three organizations, a member in two of them,
// sessions from August to November 2026 with ten heartbeats each, and the
// rows the original let in that WorkPulse refuses.
func newLegacy(t *testing.T) *legacy {
	t.Helper()
	ctx := context.Background()
	db := testkit.NewDB(t)
	if _, err := db.Owner.Exec(ctx, originalSchema); err != nil {
		t.Fatal(err)
	}
	l := &legacy{url: db.URL, read: map[string]int{}, refused: map[string]map[string]int{}, sharedEmail: "shared@example.com", password: "old secret 1"}
	raw, err := bcrypt.GenerateFromPassword([]byte(l.password), 10)
	if err != nil {
		t.Fatal(err)
	}
	b := &builder{t: t, l: l, batch: &pgx.Batch{}, rnd: rand.New(rand.NewPCG(16, 2026)), hash: "$2b$" + strings.TrimPrefix(string(raw), "$2a$")}
	b.plant()
	if err := db.Owner.SendBatch(ctx, b.batch).Close(); err != nil {
		t.Fatal(err)
	}
	return l
}

var day0 = time.Date(2026, 8, 3, 0, 0, 0, 0, time.UTC)

type member struct {
	id, org string
	ok      bool
}

func (b *builder) plant() {
	plans := []string{"pro", "free", "enterprise"}
	var orgs []string
	for i, plan := range plans {
		id := uuid.NewString()
		orgs = append(orgs, id)
		b.row("organizations", "INSERT INTO organizations (id, name, plan_type, created_at) VALUES ($1, $2, $3, $4)",
			id, fmt.Sprintf("Org %d", i), plan, day0.AddDate(0, 0, -30))
	}
	var members []member
	user := func(org, email, name, role, status string, offset int) member {
		m := member{id: uuid.NewString(), org: org, ok: true}
		b.row("users", "INSERT INTO users (id, organization_id, email, password_hash, name, role, status, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6::user_role_enum, $7::user_status_enum, $8, $8)",
			m.id, org, email, b.hash, name, role, status, day0.AddDate(0, 0, -20).Add(time.Duration(offset)*time.Minute))
		return m
	}
	for oi, org := range orgs {
		for i := range 6 {
			role := "employee"
			if i == 0 || (oi == 0 && i == 1) { // the first organization has two admins
				role = "admin"
			}
			status := "active"
			if oi == 2 && i == 5 {
				status = "suspended"
			}
			members = append(members, user(org, fmt.Sprintf("m%d-%d@example.com", oi, i), fmt.Sprintf("Member %d-%d", oi, i), role, status, i))
		}
	}
	members = append(members, user(orgs[0], b.l.sharedEmail, "Shared One", "employee", "active", 10))
	members = append(members, user(orgs[1], b.l.sharedEmail, "Shared Two", "employee", "active", 10))
	members = append(members, user(orgs[0], "Case@example.com", "Case Upper", "employee", "active", 11))
	dup := user(orgs[0], "case@example.com", "Case Lower", "employee", "active", 12)
	dup.ok = false
	b.refuse("users", "email repeats another member's of its organization in other letter case")
	short := user(orgs[2], "x@example.com", "X", "employee", "active", 13)
	short.ok = false
	b.refuse("users", "name is shorter than 2 characters")
	members = append(members, dup, short)

	projects := map[string][]string{}
	for oi, org := range orgs {
		names := []string{"Website", "Backend"}
		if oi == 1 {
			names = append(names, "website") // renamed, not refused
		}
		for _, n := range names {
			id := uuid.NewString()
			projects[org] = append(projects[org], id)
			b.row("projects", "INSERT INTO projects (id, organization_id, name, description, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
				id, org, n, "About "+n, members[oi*6].id, day0.AddDate(0, 0, -10))
		}
	}
	for mi, m := range members {
		b.sessions(m, mi, projects[m.org])
	}
}

// sessions plants a member's sessions every fourth day, their activity,
// daily summaries and alerts, and one kind of broken row per member
// number.
func (b *builder) sessions(m member, mi int, projects []string) {
	var starts []time.Time
	for d := mi % 4; d < 116; d += 4 {
		starts = append(starts, day0.AddDate(0, 0, d).Add(time.Duration(8*60+b.rnd.IntN(120))*time.Minute))
	}
	// Before any session: an idle alert with nothing to be about.
	b.alert(m, "idle", day0.AddDate(0, 0, -5), "idle alert without a session of its user started before it")
	for si, start := range starts {
		sid := uuid.NewString()
		end := start.Add(11 * time.Minute)
		status, endArg := "stopped", &end
		sessionOK := m.ok
		switch {
		case si == len(starts)-1 || (mi == 3 && si == len(starts)-2):
			status, endArg = "active", nil // member 3 has two active sessions
		case mi == 4 && si == 2:
			endArg = nil // stopped without an end: kept, ended by its activity
		case mi == 5 && si == 3:
			bad := start.Add(-time.Hour)
			endArg = &bad
			sessionOK = false
			b.refuse("work_sessions", "end_time is before start_time")
		}
		if !m.ok {
			b.refuse("work_sessions", "its user was not imported")
		}
		var project *string
		if len(projects) > 0 {
			project = &projects[si%len(projects)]
		}
		b.row("work_sessions", "INSERT INTO work_sessions (id, organization_id, user_id, project_id, start_time, end_time, total_active_seconds, total_idle_seconds, last_activity_at, status, version, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9::session_status_enum, 3, $5, $5)",
			sid, m.org, m.id, project, start, endArg, 120, start.Add(2*time.Minute), status)
		b.activity(m, mi, si, sid, start, sessionOK, endArg != nil && sessionOK && status == "stopped" && !(mi == 4 && si == 2))
		b.summary(m, mi, si, start)
		if si%5 == 1 {
			b.alert(m, "idle", start.Add(3*time.Minute), "")
			b.alert(m, "idle", start.Add(6*time.Minute), "")
		}
		if si%7 == 2 {
			b.alert(m, "overtime", start.Add(9*time.Hour), "")
			if mi == 2 && si == 2 {
				b.alert(m, "overtime", start.Add(10*time.Hour), "a second overtime alert of its user's day")
			}
		}
	}
}

func (b *builder) alert(m member, kind string, at time.Time, reason string) {
	b.row("alerts", "INSERT INTO alerts (id, user_id, type, message, created_at) VALUES ($1, $2, $3::alert_type_enum, $4, $5)",
		uuid.NewString(), m.id, kind, "Alert "+kind, at)
	switch {
	case !m.ok:
		b.refuse("alerts", "its user was not imported")
	case reason != "":
		b.refuse("alerts", reason)
	}
}

// activity plants ten heartbeats a minute apart and, by member and
// session number, the broken rows the original accepted.
func (b *builder) activity(m member, mi, si int, sid string, start time.Time, sessionOK, ended bool) {
	urls := []string{"https://github.com/x", "https://www.docs.google.com/y", "Slack", "https://news.example.com"}
	add := func(id string, ts time.Time, kind string, dur int, cid *string, reason string) {
		b.row("activity_logs", "INSERT INTO activity_logs (id, session_id, timestamp, activity_type, duration_seconds, url, client_activity_id) VALUES ($1, $2, $3, $4::activity_type_enum, $5, $6, $7)",
			id, sid, ts, kind, dur, urls[b.rnd.IntN(len(urls))], cid)
		switch {
		case !sessionOK:
			b.refuse("activity_logs", "its session was not imported")
		case reason != "":
			b.refuse("activity_logs", reason)
		default:
			b.l.activitySeconds += int64(dur)
		}
	}
	for k := range 10 {
		kind := "active"
		if b.rnd.IntN(4) == 0 {
			kind = "idle"
		}
		cid := fmt.Sprintf("c-%s-%d", sid[:8], k)
		id, ts := uuid.NewString(), start.Add(time.Duration(k+1)*time.Minute)
		add(id, ts, kind, 60, &cid, "")
		if si%9 != 4 {
			continue
		}
		switch k {
		case 1: // the same row twice, as a restore left it
			// (without its client id: the original's unique index forbids
			// the same one twice at one timestamp)
			add(id, ts, kind, 60, nil, "repeats a row already read (same id and timestamp)")
		case 2: // an agent's retry under the same client id, a second later
			add(uuid.NewString(), ts.Add(time.Second), kind, 60, &cid, "client_activity_id repeats an earlier activity of its user (WorkPulse keeps the first)")
		case 3:
			add(uuid.NewString(), start.Add(-time.Minute), kind, 60, nil, "timestamp is before its session's start_time")
		case 4:
			add(uuid.NewString(), ts.Add(time.Second), kind, []int{0, -5, 4000}[mi%3], nil, "duration_seconds is not between 1 and 3600")
		case 5:
			if ended {
				add(uuid.NewString(), start.Add(time.Hour), kind, 60, nil, "timestamp is after its session's end_time")
			}
		}
	}
}

func (b *builder) summary(m member, mi, si int, start time.Time) {
	active, score := any(500), any(75.5)
	reason := ""
	switch {
	case mi == 6 && si == 1:
		active, reason = nil, "a total or the productivity_score is missing"
	case mi == 7 && si == 1:
		score, reason = 120.0, "productivity_score is not between 0 and 100"
	}
	b.row("daily_summaries", "INSERT INTO daily_summaries (id, organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds, productivity_score, app_usage) VALUES ($1, $2, $3, $4, 600, $5, 100, $6, '[{\"app\":\"github.com\",\"total_seconds\":600,\"active_seconds\":500,\"idle_seconds\":100}]')",
		uuid.NewString(), m.org, m.id, start.Format(time.DateOnly), active, score)
	switch {
	case !m.ok:
		b.refuse("daily_summaries", "its user was not imported")
	case reason != "":
		b.refuse("daily_summaries", reason)
	}
}

func runImport(t *testing.T, l *legacy, target *testkit.DB, batch int) *original.Report {
	t.Helper()
	return runImportShowing(t, l, target, batch, nil)
}

// runImportShowing is runImport with its progress written to progress.
func runImportShowing(t *testing.T, l *legacy, target *testkit.DB, batch int, progress io.Writer) *original.Report {
	t.Helper()
	ctx := context.Background()
	src, err := pgx.Connect(ctx, l.url)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close(ctx)
	im := &original.Importer{Source: src, Target: target.Owner, Clock: testkit.NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)), BatchSize: batch}
	if progress != nil {
		im.Progress = original.NewProgress(progress)
	}
	rep, err := im.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// stored counts what the import left in WorkPulse.
type stored struct {
	counts          map[string]int
	activitySeconds int64
	events          int
}

var storedTables = map[string]string{"organizations": "auth.organizations", "users": "auth.users", "projects": "tracking.projects",
	"work_sessions": "tracking.work_sessions", "activity_logs": "tracking.activity_logs", "daily_summaries": "reporting.daily_summaries",
	"alerts": "reporting.alerts"}

func storedIn(t *testing.T, db *testkit.DB) stored {
	t.Helper()
	ctx := context.Background()
	s := stored{counts: map[string]int{}}
	for table, ours := range storedTables {
		var n int
		if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM "+ours).Scan(&n); err != nil {
			t.Fatal(err)
		}
		s.counts[table] = n
	}
	if err := db.Owner.QueryRow(ctx, "SELECT coalesce(sum(duration_seconds), 0) FROM tracking.activity_logs").Scan(&s.activitySeconds); err != nil {
		t.Fatal(err)
	}
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM auth.outbox").Scan(&s.events); err != nil {
		t.Fatal(err)
	}
	return s
}

// checkComplete compares what WorkPulse holds with what the original's
// rows come to once the refused ones are left out.
func checkComplete(t *testing.T, l *legacy, db *testkit.DB) {
	t.Helper()
	s := storedIn(t, db)
	for _, table := range original.Tables {
		if s.counts[table] != l.imported(table) {
			t.Errorf("%s holds %d rows, want the original's %d less %d refused", table, s.counts[table], l.read[table], l.read[table]-l.imported(table))
		}
	}
	if s.activitySeconds != l.activitySeconds {
		t.Errorf("activity sums to %d s, want the kept rows' %d s", s.activitySeconds, l.activitySeconds)
	}
	if want := l.imported("organizations") + l.imported("users"); s.events != want {
		t.Errorf("auth's outbox holds %d events, want one organization.created or user.created per organization and member (%d)", s.events, want)
	}
	ctx := context.Background()
	var wrong int
	if err := db.Owner.QueryRow(ctx, `SELECT count(*) FROM tracking.work_sessions s
		LEFT JOIN LATERAL (SELECT coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0) AS a,
		  coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) AS i, max(occurred_at) AS last
		  FROM tracking.activity_logs l WHERE l.session_id = s.id) t ON true
		WHERE s.total_active_seconds <> t.a OR s.total_idle_seconds <> t.i OR s.last_activity_at IS DISTINCT FROM t.last
		   OR s.end_time < t.last`).Scan(&wrong); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 {
		t.Errorf("%d sessions' totals, last activity or end disagree with their stored activity", wrong)
	}
}

func TestTheOriginalsDataIsImportedWithEveryRefusedRowReportedAndASecondRunImportsNothing(t *testing.T) {
	t.Parallel()
	l := newLegacy(t)
	db := testkit.NewDB(t)
	var progress strings.Builder
	rep := runImportShowing(t, l, db, 500, &progress)
	for _, table := range original.Tables {
		if line := fmt.Sprintf("%s: %d of %d rows read\n", table, l.read[table], l.read[table]); !strings.Contains(progress.String(), line) {
			t.Errorf("the progress does not say %q:\n%s", line, progress.String())
		}
	}
	for _, table := range original.Tables {
		c := rep.Counts[table]
		if c.Read != l.read[table] || c.Imported != l.imported(table) || c.Present != 0 {
			t.Errorf("%s: read %d, imported %d, present %d; want %d read and %d imported", table, c.Read, c.Imported, c.Present, l.read[table], l.imported(table))
		}
		if got, want := fmt.Sprint(c.Refused), fmt.Sprint(orEmpty(l.refused[table])); got != want {
			t.Errorf("%s refused %s, want %s", table, got, want)
		}
	}
	checkComplete(t, l, db)
	if !strings.Contains(rep.String(), "has 2 admins: review them") {
		t.Errorf("the report does not point at the organization with two admins:\n%s", rep)
	}
	ctx := context.Background()
	var hashes []string
	rows, _ := db.Owner.Query(ctx, "SELECT password_hash FROM auth.users WHERE email = $1", l.sharedEmail)
	hashes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil || len(hashes) != 2 {
		t.Fatalf("the member of two organizations has %d accounts (%v), want 2", len(hashes), err)
	}
	if err := bcrypt.CompareHashAndPassword([]byte(hashes[0]), []byte(l.password)); err != nil {
		t.Errorf("the imported hash %q does not open with the old password: %v", hashes[0], err)
	}
	var months int
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM pg_class WHERE relname IN ('activity_logs_shared_2026_08', 'activity_logs_shared_2026_09', 'activity_logs_shared_2026_10', 'activity_logs_shared_2026_11')").Scan(&months); err != nil || months != 4 {
		t.Errorf("%d of the months August to November 2026 exist (%v), want 4", months, err)
	}
	var renamed, active, openIdle int
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM tracking.projects WHERE name ILIKE 'website (%'").Scan(&renamed); err != nil || renamed != 1 {
		t.Errorf("%d projects renamed (%v), want the one repeating another's name in other letter case", renamed, err)
	}
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM (SELECT user_id FROM tracking.work_sessions WHERE status = 'active' GROUP BY user_id HAVING count(*) > 1) x").Scan(&active); err != nil || active != 0 {
		t.Errorf("%d users have several active sessions (%v)", active, err)
	}
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM reporting.alerts a JOIN tracking.work_sessions s ON s.id = a.session_id WHERE a.resolved_at IS NULL AND s.status = 'stopped'").Scan(&openIdle); err != nil || openIdle != 0 {
		t.Errorf("%d idle alerts stay open on stopped sessions (%v)", openIdle, err)
	}

	before := storedIn(t, db)
	again := runImport(t, l, db, 500)
	for _, table := range original.Tables {
		if c := again.Counts[table]; c.Imported != 0 || c.Present != l.imported(table) {
			t.Errorf("second run, %s: imported %d, present %d; want 0 and %d", table, c.Imported, c.Present, l.imported(table))
		}
	}
	if after := storedIn(t, db); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("the second run changed what is stored: %v, then %v", before, after)
	}
}

func orEmpty(m map[string]int) map[string]int {
	if m == nil {
		return map[string]int{}
	}
	return m
}

// TestAnImportKilledMidwayIsFinishedByTheNextRun kills migrate
// import-original with SIGKILL while it stores activity, then runs it
// again.
func TestAnImportKilledMidwayIsFinishedByTheNextRun(t *testing.T) {
	t.Parallel()
	l := newLegacy(t)
	db := testkit.NewDB(t)
	bin := filepath.Join(t.TempDir(), "migrate")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/workpulse/workpulse/migrations/cmd/migrate").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "import-original", "--from", l.url, "--batch-size", "20")
	cmd.Env = append(os.Environ(), "DATABASE_URL="+db.URL)
	out := &testkit.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var partial int
	testkit.Eventually(t, time.Minute, "activity being imported", func() bool {
		_ = db.Owner.QueryRow(ctx, "SELECT count(*) FROM tracking.activity_logs").Scan(&partial)
		return partial > 0
	})
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if partial >= l.imported("activity_logs") {
		t.Fatalf("the import had finished (%d activities) before it was killed:\n%s", partial, out.String())
	}
	rep := runImport(t, l, db, 500)
	c := rep.Counts["activity_logs"]
	if c.Present < partial || c.Imported+c.Present != l.imported("activity_logs") {
		t.Errorf("the resumed run imported %d and found %d of %d activities, %d stored before the kill", c.Imported, c.Present, l.imported("activity_logs"), partial)
	}
	checkComplete(t, l, db)
}
