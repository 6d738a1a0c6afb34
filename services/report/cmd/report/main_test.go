package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/test/testkit"
)

func TestAnUnknownCommandIsAUsageError(t *testing.T) {
	t.Parallel()
	if err := run(context.Background(), []string{"reticulate"}, func(string) (string, bool) { return "", false }, &bytes.Buffer{}, nil, testkit.NewClock(time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC))); !errors.As(err, new(usageError)) {
		t.Errorf("unknown command: %v, want a usage error", err)
	}
}

func TestJobsRunAgainstTheDatabaseAsTheServiceRole(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	org, user := uuid.NewString(), uuid.NewString()
	now := time.Date(2026, 5, 4, 12, 0, 0, 0, time.UTC)
	clk := testkit.NewClock(now)
	exec := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Owner.Exec(ctx, sql, args...); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	exec("INSERT INTO reporting.users (user_id, organization_id, email, name, role) VALUES ($1, $2, 'a@example.com', 'Ada', 'employee')", user, org)
	exec("SELECT tracking.ensure_month_partition('activity_logs_shared', $1::date)", now)
	sess := uuid.NewString()
	last := now.Add(-30 * time.Minute)
	exec(`INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status, last_activity_at)
		VALUES ($1, $2, $3, $4, 'active', $5)`, sess, org, user, now.Add(-2*time.Hour), last)
	exec(`INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds, url)
		VALUES ($1, $2, $3, $4, $5, 'active', 60, 'https://github.com/x')`, uuid.NewString(), org, sess, user, last)

	lookup := func(k string) (string, bool) {
		v, ok := map[string]string{"DATABASE_URL": db.URL, "DATABASE_USER": "workpulse_report"}[k]
		return v, ok
	}
	today := now.Format(time.DateOnly)

	// Two idle detections at once still raise one alert.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = run(ctx, []string{"idle-detection"}, lookup, &bytes.Buffer{}, nil, clk)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	var alerts int
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM reporting.alerts WHERE session_id = $1", sess).Scan(&alerts); err != nil {
		t.Fatal(err)
	}
	if alerts != 1 {
		t.Errorf("%d idle alerts after two concurrent runs, want 1", alerts)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"daily-summary", "--all", "--date", today}, lookup, &out, nil, clk); err != nil {
		t.Fatalf("daily-summary: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"msg":"job succeeded"`) {
		t.Errorf("no success line in the log:\n%s", out.String())
	}
	var active int64
	err := db.Owner.QueryRow(ctx, "SELECT active_seconds FROM reporting.daily_summaries WHERE user_id = $1 AND date = $2", user, today).Scan(&active)
	if errors.Is(err, pgx.ErrNoRows) || active != 60 {
		t.Errorf("summary active seconds %d (%v), want 60", active, err)
	}
	out.Reset()
	clk.Set(now.AddDate(0, 0, 1))
	if err := run(ctx, []string{"daily-summary", "--due"}, lookup, &out, nil, clk); err != nil {
		t.Fatalf("daily-summary --due: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), `"msg":"due summaries"`) {
		t.Errorf("no line of what the due run did in the log:\n%s", out.String())
	}
	var progress time.Time
	if err := db.Owner.QueryRow(ctx, "SELECT last_completed_date FROM reporting.summary_progress WHERE organization_id = $1", org).Scan(&progress); err != nil || !progress.Equal(now.Truncate(24*time.Hour)) {
		t.Errorf("progress after the due run %v (%v), want %s", progress, err, today)
	}
	clk.Set(now)
	if err := run(ctx, []string{"overtime-check", "--org", org}, lookup, &bytes.Buffer{}, nil, clk); err != nil {
		t.Errorf("overtime-check: %v", err)
	}

	out.Reset()
	down := func(k string) (string, bool) {
		if k == "DATABASE_URL" {
			return "postgres://postgres@127.0.0.1:1/none?sslmode=disable", true
		}
		return "", false
	}
	if err := run(ctx, []string{"daily-summary", "--all"}, down, &out, nil, clk); err == nil {
		t.Error("a job without a database succeeded")
	}
	if !strings.Contains(out.String(), `"msg":"job failed"`) {
		t.Errorf("no failure line in the log:\n%s", out.String())
	}
}
