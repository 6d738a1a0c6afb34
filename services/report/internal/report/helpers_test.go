package report

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/test/testkit"
)

// env is one test's database with the report service's view of it.
type env struct {
	t    testing.TB
	db   *testkit.DB
	pool *pgxpool.Pool // as workpulse_report: row-level security applies
	cfg  Config
	jobs *Jobs
	log  *slog.Logger
	ctx  context.Context
	// clock is the service's clock; tests move it.
	clock *testkit.Clock
}

// runConsumers runs the report consumers on brokers, and the worker each
// of extra makes with the returned writer, until the test ends; the test
// writes its own events with that writer, in the returned context.
func (e *env) runConsumers(t *testing.T, brokers []string, extra ...func(*kafka.Writer) func(context.Context) error) (context.Context, *kafka.Writer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	writer := kafkax.NewWriter(brokers)
	t.Cleanup(func() { cancel(); <-done; writer.Close() })
	workers := NewConsumers(e.pool, e.log, e.clock).Workers(kafkax.ConsumerConfig{Brokers: brokers}, nil)
	for _, x := range extra {
		workers = append(workers, x(writer))
	}
	go func() {
		defer close(done)
		errs := make(chan error, len(workers))
		for _, w := range workers {
			go func() { errs <- w(ctx) }()
		}
		for range workers {
			<-errs
		}
	}()
	return ctx, writer
}

// testStart is where every test's clock stands until the test moves it.
var testStart = ts("2026-05-04T12:00:00Z")

// newEnv gives the test its own database and clock, so that a test runs
// beside the others; a benchmark runs alone, for its timings.
func newEnv(t testing.TB) *env {
	t.Helper()
	if t, ok := t.(*testing.T); ok {
		t.Parallel()
	}
	db := testkit.NewDB(t)
	e := &env{t: t, db: db, pool: db.Pool(t, "workpulse_report"), cfg: DefaultConfig(),
		log: slog.New(slog.NewTextHandler(io.Discard, nil)), ctx: context.Background(), clock: testkit.NewClock(testStart)}
	e.jobs = NewJobs(e.pool, e.cfg, e.log, e.clock)
	return e
}

func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) time.Time {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return d
}

func (e *env) exec(sql string, args ...any) {
	e.t.Helper()
	if _, err := e.db.Owner.Exec(e.ctx, sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// partitions makes sure activity partitions exist for the months of ts.
func (e *env) partitions(times ...time.Time) {
	e.t.Helper()
	for _, t := range times {
		e.exec("SELECT tracking.ensure_month_partition('activity_logs_shared', $1::date)", t.UTC())
	}
}

// tenant sets a tenant's zone and thresholds (0: the default).
func (e *env) tenant(org, tz string, inactiveSec, idleSec, overtimeHours int) {
	e.t.Helper()
	e.exec(`INSERT INTO reporting.tenant_settings (organization_id, time_zone, inactive_threshold_seconds, idle_threshold_seconds, overtime_threshold_hours)
		VALUES ($1, $2, nullif($3, 0), nullif($4, 0), nullif($5, 0))`, org, tz, inactiveSec, idleSec, overtimeHours)
}

func (e *env) user(org, id, name string) {
	e.t.Helper()
	e.exec("INSERT INTO reporting.users (user_id, organization_id, email, name, role) VALUES ($1, $2, $3, $4, 'employee')",
		id, org, id[:8]+"@example.com", name)
}

// session stores a session; end nil means active.
func (e *env) session(org, user string, start time.Time, end *time.Time, lastActivity *time.Time) string {
	e.t.Helper()
	id := uuid.NewString()
	status := "active"
	if end != nil {
		status = "stopped"
	}
	e.exec(`INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status, last_activity_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id, org, user, start, end, status, lastActivity)
	return id
}

// idleSession stores an active session of user's that started an hour
// ago and was last seen 20 minutes ago, past the default idle threshold.
func (e *env) idleSession(org, user string) string {
	e.t.Helper()
	last := e.clock.Now().Add(-20 * time.Minute)
	return e.session(org, user, e.clock.Now().Add(-time.Hour), nil, &last)
}

type act struct {
	at  time.Time
	typ string
	dur int32
	url string
}

// activities stores activities of a session through COPY.
func (e *env) activities(org, user, session string, acts ...act) {
	e.t.Helper()
	rows := make([][]any, len(acts))
	for i, a := range acts {
		var url *string
		if a.url != "" {
			url = &a.url
		}
		rows[i] = []any{uuid.New(), uuid.MustParse(org), uuid.MustParse(session), uuid.MustParse(user), a.at, a.typ, a.dur, url}
	}
	_, err := e.db.Owner.CopyFrom(e.ctx, pgx.Identifier{"tracking", "activity_logs"},
		[]string{"id", "organization_id", "session_id", "user_id", "occurred_at", "activity_type", "duration_seconds", "url"},
		pgx.CopyFromRows(rows))
	if err != nil {
		e.t.Fatal(err)
	}
}

// heartbeats returns n activities every step from start.
func heartbeats(start time.Time, n int, step time.Duration, typ string, dur int32, url string) []act {
	out := make([]act, n)
	for i := range out {
		out[i] = act{at: start.Add(time.Duration(i) * step), typ: typ, dur: dur, url: url}
	}
	return out
}

type storedSummary struct {
	Active, Idle, Total int64
	Score               float64
	Sessions            int32
	Apps                string
}

// summary reads a stored summary as the owner; ok is false when absent.
func (e *env) summary(org, user string, d string) (storedSummary, bool) {
	e.t.Helper()
	var s storedSummary
	err := e.db.Owner.QueryRow(e.ctx, `SELECT active_seconds, idle_seconds, total_work_seconds, productivity_score::float8, sessions_count, app_usage::text
		FROM reporting.daily_summaries WHERE organization_id = $1 AND user_id = $2 AND date = $3`, org, user, day(d)).
		Scan(&s.Active, &s.Idle, &s.Total, &s.Score, &s.Sessions, &s.Apps)
	if err == pgx.ErrNoRows {
		return s, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return s, true
}

// outboxEvents counts the events of a type waiting in the outbox.
func (e *env) outboxEvents(eventType string) int {
	e.t.Helper()
	var n int
	if err := e.db.Owner.QueryRow(e.ctx, "SELECT count(*) FROM reporting.outbox WHERE payload->>'type' = $1", eventType).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) count(sql string, args ...any) int {
	e.t.Helper()
	var n int
	if err := e.db.Owner.QueryRow(e.ctx, sql, args...).Scan(&n); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func ptr[T any](v T) *T { return &v }

// eventually waits for cond as testkit.Eventually does.
var eventually = testkit.Eventually
