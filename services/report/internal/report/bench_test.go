package report

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// The benchmarks of issue 4. Run them with
//
//	hack/with-deps.sh go test ./services/report/internal/report -run '^$' -bench . -benchtime 1x -timeout 30m
//
// BENCH_USERS scales them down for a quick look (default 1000).

func benchUsers() int {
	n := 1000
	if v := os.Getenv("BENCH_USERS"); v != "" {
		fmt.Sscan(v, &n)
	}
	return n
}

var benchApps = []string{"https://github.com/workpulse/workpulse/pull/1", "https://mail.google.com/mail/u/0", "Visual Studio Code",
	"https://docs.example.com/guide", "Slack", "https://www.youtube.com/watch?v=x", "Terminal", ""}

// BenchmarkDailySummary summarizes one day of 1,000 users with a full day
// of 30-second heartbeats each: 2,880 activities per user, 2.88 million
// in all, seeded through COPY.
func BenchmarkDailySummary(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	org := uuid.New()
	date := day("2026-09-15")
	start := ts("2026-09-15T00:00:00Z")
	e.partitions(start)
	users := benchUsers()
	const perUser = 2880

	seedWatch := clock.Start()
	ids := make([]uuid.UUID, users)
	sessions := make([]uuid.UUID, users)
	for i := range ids {
		ids[i], sessions[i] = uuid.New(), uuid.New()
		e.exec(`INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status)
			VALUES ($1, $2, $3, $4, $5, 'stopped')`, sessions[i], org, ids[i], start, start.Add(24*time.Hour))
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= users*perUser {
			return nil, nil
		}
		u, k := i/perUser, i%perUser
		i++
		typ := "active"
		if k%5 == 4 {
			typ = "idle"
		}
		var url *string
		if a := benchApps[(k/20+u)%len(benchApps)]; a != "" {
			url = &a
		}
		return []any{uuid.New(), org, sessions[u], ids[u], start.Add(time.Duration(k) * 30 * time.Second), typ, int32(30), url}, nil
	})
	n, err := e.db.Owner.CopyFrom(ctx, pgx.Identifier{"tracking", "activity_logs"},
		[]string{"id", "organization_id", "session_id", "user_id", "occurred_at", "activity_type", "duration_seconds", "url"}, src)
	if err != nil {
		b.Fatal(err)
	}
	e.exec("ANALYZE tracking.activity_logs")
	b.Logf("seeded %d activities of %d users in %s", n, users, seedWatch.Elapsed().Round(time.Second))

	b.ResetTimer()
	var worst time.Duration
	for range b.N {
		watch := clock.Start()
		res, err := e.jobs.SummarizeDate(ctx, org.String(), date)
		if err != nil {
			b.Fatal(err)
		}
		worst = max(worst, watch.Elapsed())
		if res.Days[0].Users != int64(users) {
			b.Fatalf("summarized %d users, want %d", res.Days[0].Users, users)
		}
	}
	b.StopTimer()
	b.ReportMetric(worst.Seconds(), "max-s/run")
	reportLoad(b)
	b.ReportMetric(float64(n), "activities")
	var active, idle int64
	if err := e.db.Owner.QueryRow(ctx, "SELECT sum(active_seconds), sum(idle_seconds) FROM reporting.daily_summaries").Scan(&active, &idle); err != nil {
		b.Fatal(err)
	}
	if active+idle != n*30 {
		b.Fatalf("summaries hold %d seconds, want %d", active+idle, n*30)
	}
}

// BenchmarkOrganizationReport serves the organization report over 30 days
// of 1,000 users (30,000 summaries) through the full HTTP stack and
// reports the latency percentiles, first with the report cache off (every
// request reads the database), then with it on.
func BenchmarkOrganizationReport(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	iss := testkit.NewIssuer(b)
	admin := testkit.Member("", authn.RoleAdmin)
	org := admin.OrganizationID
	users := benchUsers()
	e.exec(`INSERT INTO reporting.users (user_id, organization_id, email, name, role)
		SELECT gen_random_uuid(), $1, 'u' || g || '@example.com', 'User ' || g, 'employee' FROM generate_series(1, $2) g`, org, users)
	e.exec(`INSERT INTO reporting.daily_summaries (organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds,
			productivity_score, sessions_count, app_usage)
		SELECT $1, u.user_id, d::date, 28800, 23040, 5760, 80, 2,
		  (SELECT '[' || string_agg(format('{"app":%s,"total_seconds":4800,"active_seconds":3840,"idle_seconds":960}', to_json(a)), ',') || ']'
		   FROM unnest(ARRAY['github.com','mail.google.com','Visual Studio Code','docs.example.com','Slack','youtube.com']) a)::json
		FROM reporting.users u, generate_series('2026-09-01'::date, '2026-09-30'::date, '1 day') d`, org)
	e.exec("ANALYZE reporting.daily_summaries")
	e.exec("ANALYZE reporting.users")

	runner := NewRunner(e.pool, e.jobs, e.log, e.clock)
	defer runner.Stop()
	token := iss.Token(b, admin)
	samples := 200
	if v := os.Getenv("BENCH_SAMPLES"); v != "" {
		fmt.Sscan(v, &samples)
	}
	// measure serves the report samples times through a server with cfg
	// and returns the sorted latencies and the response size.
	measure := func(cfg Config) ([]time.Duration, int64) {
		h := httpx.Stack(e.clock, NewServer(Deps{Config: cfg, DB: e.pool, Verifier: iss.Verifier, Jobs: e.jobs, Runner: runner,
			HTTP: metrics.NewHTTP(prometheus.NewRegistry(), "report"), Clock: e.clock}), 1<<20)
		srv := httptest.NewServer(h)
		defer srv.Close()
		get := func() (time.Duration, int64) {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/api/reports/organization?startDate=2026-09-01&endDate=2026-09-30", nil)
			req.Header.Set("Authorization", "Bearer "+token)
			watch := clock.Start()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				b.Fatalf("status %d", resp.StatusCode)
			}
			return watch.Elapsed(), n
		}
		for range 3 { // warm the caches and the connection pool
			get()
		}
		var lat []time.Duration
		var size int64
		for range samples {
			d, n := get()
			lat = append(lat, d)
			size = n
		}
		slices.Sort(lat)
		return lat, size
	}
	pct := func(lat []time.Duration, p float64) float64 {
		return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000
	}
	b.ResetTimer()
	uncached := e.cfg
	uncached.ReportCacheBytes = 0
	var cold, warm []time.Duration
	var size int64
	for range b.N {
		cold, size = measure(uncached)
		warm, _ = measure(e.cfg)
	}
	b.StopTimer()
	// The database's share: the same query with rows read but not decoded.
	var dbLat []time.Duration
	for range 20 {
		watch := clock.Start()
		err := pg.InOrg(ctx, e.pool, org, func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, summaryByDate+"WHERE s.organization_id = $1 AND s.date BETWEEN $2 AND $3 ORDER BY s.date DESC",
				org, day("2026-09-01"), day("2026-09-30"))
			if err != nil {
				return err
			}
			for rows.Next() {
				_ = rows.RawValues()
			}
			return rows.Err()
		})
		if err != nil {
			b.Fatal(err)
		}
		dbLat = append(dbLat, watch.Elapsed())
	}
	slices.Sort(dbLat)
	b.ReportMetric(pct(dbLat, 0.5), "db-p50-ms")
	b.ReportMetric(pct(cold, 0.5), "uncached-p50-ms")
	b.ReportMetric(pct(cold, 0.99), "uncached-p99-ms")
	b.ReportMetric(pct(warm, 0.5), "p50-ms")
	b.ReportMetric(pct(warm, 0.99), "p99-ms")
	reportLoad(b)
	b.ReportMetric(float64(size), "bytes/response")
	b.ReportMetric(float64(30*users), "rows/response")
}

// reportLoad records the machine's load average: the benchmarks share
// their cores with whatever else runs.
func reportLoad(b *testing.B) {
	if load, err := os.ReadFile("/proc/loadavg"); err == nil {
		var l1 float64
		fmt.Sscan(string(load), &l1)
		b.ReportMetric(l1, "loadavg")
	}
}
