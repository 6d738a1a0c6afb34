package storage_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// statementCounter counts the statements a pool sends.
type statementCounter struct{ n atomic.Int64 }

// operatorPool is one connection logged in as the operator's role, which
// runs retention in a cluster, counting the statements it sends.
func operatorPool(t testing.TB, db *testkit.DB) (*pgxpool.Pool, *statementCounter) {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(db.URL)
	if err != nil {
		t.Fatal(err)
	}
	statements := &statementCounter{}
	cfg.MaxConns, cfg.ConnConfig.User, cfg.ConnConfig.Tracer = 1, testkit.Roles.Name("operator"), statements
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, statements
}

func (c *statementCounter) TraceQueryStart(ctx context.Context, _ *pgx.Conn, _ pgx.TraceQueryStartData) context.Context {
	c.n.Add(1)
	return ctx
}

func (*statementCounter) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// backendCPU is the CPU time PostgreSQL's backend pid has used, read from
// /proc (the server runs on this machine in make test and make bench).
func backendCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Skipf("the database backend's CPU time is not readable here: %v", err)
	}
	// The fields after the command name, which is in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkTheHourlyRetentionPassOver1000Organizations measures one
// retention pass (what the operator's shared storage pass and make dev run
// every hour) over 1,000 organizations in four zones, each with five
// members' activity, dedup keys, stopped sessions, summaries, alerts and
// audit entries for every day of the last two months, all inside the
// installation's retention; ten of them keep one month of their own and
// also hold a January that is due. It runs as the operator's role on one
// connection and reports the statements sent, the pass's wall and CPU
// time and the database backend's CPU time, for the first pass (the ten
// due) and a second (nothing due). Run it with:
//
//	hack/with-deps.sh go test ./migrations/storage -run '^$' -bench HourlyRetention -benchtime 1x
func BenchmarkTheHourlyRetentionPassOver1000Organizations(b *testing.B) {
	const orgs, due, users = 1000, 10, 5
	ctx := context.Background()
	now := time.Date(2027, 3, 20, 12, 0, 0, 0, time.UTC)
	for range b.N {
		db := testkit.NewDB(b)
		for _, m := range []string{"2027-01-01", "2027-02-01", "2027-03-01"} {
			if _, err := db.Owner.Exec(ctx, "SELECT tracking.ensure_month_partition('activity_logs_shared', $1::date)", m); err != nil {
				b.Fatal(err)
			}
		}
		// Every row is made by the server: one statement per table.
		for _, q := range []string{
			fmt.Sprintf(`INSERT INTO auth.organizations (id, name, time_zone)
			 SELECT gen_random_uuid(), 'Org ' || i, (ARRAY['UTC', 'America/New_York', 'Europe/Berlin', 'Asia/Tokyo'])[i %% 4 + 1]
			 FROM generate_series(1, %d) i`, orgs),
			fmt.Sprintf(`INSERT INTO tracking.tenants (organization_id, retention_months)
			 SELECT id, 1 FROM auth.organizations ORDER BY id LIMIT %d`, due),
			fmt.Sprintf(`CREATE UNLOGGED TABLE public.seed AS
			 SELECT o.id AS org, gen_random_uuid() AS user_id, gen_random_uuid() AS session, gen_random_uuid() AS act,
			        d + interval '10 hours' AS at
			 FROM auth.organizations o, generate_series(1, %d) u,
			      generate_series('2027-01-20'::timestamptz, '2027-03-19', interval '1 day') d
			 WHERE d >= '2027-02-01' OR o.id IN (SELECT organization_id FROM tracking.tenants)`, users),
			`INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status)
			 SELECT session, org, user_id, at, at + interval '8 hours', 'stopped' FROM public.seed`,
			`INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type, duration_seconds)
			 SELECT act, org, session, user_id, act::text, at, 'active', 30 FROM public.seed`,
			`INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)
			 SELECT user_id, act::text, org, act, at FROM public.seed`,
			`INSERT INTO reporting.daily_summaries (organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds, productivity_score, sessions_count, app_usage)
			 SELECT org, user_id, at::date, 30, 30, 0, 100, 1, '[]' FROM public.seed`,
			`INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, local_date, created_at)
			 SELECT gen_random_uuid(), org, user_id, session, 'overtime', 'x', at::date, at FROM public.seed`,
			`INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id)
			 SELECT gen_random_uuid(), org, at, user_id, 'user.role_changed', 'user', user_id FROM public.seed`,
			`DROP TABLE public.seed`,
			`ANALYZE`,
		} {
			if _, err := db.Owner.Exec(ctx, q); err != nil {
				b.Fatalf("%s: %v", q, err)
			}
		}
		pool, statements := operatorPool(b, db)
		var pid int
		if err := pool.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&pid); err != nil {
			b.Fatal(err)
		}
		m := &storage.Maintainer{DB: pool, Clock: testkit.NewClock(now), Policy: storage.Policy{Premake: 4, Window: storage.Window(30), Retention: 13}}
		for _, pass := range []string{"first", "second"} {
			statements.n.Store(0)
			sent, cpu, pgCPU := clock.Start(), processCPU(), backendCPU(b, pid)
			retained, err := m.ApplyRetention(ctx)
			if err != nil {
				b.Fatal(err)
			}
			wall, cpu, pgCPU := sent.Elapsed(), processCPU()-cpu, backendCPU(b, pid)-pgCPU
			deleted := int64(0)
			for _, r := range retained {
				for _, n := range r.Deleted {
					deleted += n
				}
			}
			if want := map[string]int64{"first": due * users * 12 * 6, "second": 0}[pass]; deleted != want {
				b.Errorf("the %s pass deleted %d rows, want %d", pass, deleted, want)
			}
			b.ReportMetric(float64(statements.n.Load()), pass+"-statements")
			b.ReportMetric(wall.Seconds(), pass+"-wall-s")
			b.ReportMetric(cpu.Seconds(), pass+"-cpu-s")
			b.ReportMetric(pgCPU.Seconds(), pass+"-pg-cpu-s")
		}
		pool.Close()
	}
}
