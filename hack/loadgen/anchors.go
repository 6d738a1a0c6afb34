package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/migrations/roles"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// anchors are what the same PostgreSQL does without the services: the
// figures that the services' results are divided by, so that runs on
// different machines compare.
type anchors struct {
	PgbenchTPS  float64 // the one-post transaction, one commit each
	CopyRate    float64 // activity rows per second through COPY
	CopyRows    int
	CopyElapsed time.Duration
	Load        string // load average after both
}

const anchorDatabase = "workpulse_bench_anchor"

// anchorOrg owns the anchor's sessions; session n (1-64) and its user
// have the id sessionUUID(n), so that pgbench can name them.
const anchorOrg = "aaaaaaaa-0000-0000-0000-000000000000"

func sessionUUID(n string) string {
	return "('00000000-0000-0000-0000-' || lpad(to_hex(" + n + "), 12, '0'))::uuid"
}

// onePost is the transaction of one single post with none of the
// service's work around it: insert one activity and add it to its
// session's total, over 64 sessions.
var onePost = `\set s random(1, 64)
BEGIN;
INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds) VALUES (gen_random_uuid(), '` + anchorOrg + `', ` + sessionUUID(":s") + `, ` + sessionUUID(":s") + `, now(), 'active', 1);
UPDATE tracking.work_sessions SET total_active_seconds = total_active_seconds + 1, last_activity_at = now() WHERE id = ` + sessionUUID(":s") + `;
END;
`

// measureAnchors runs pgbench of onePost (32 clients, d) and COPY of rows
// activity rows into a migrated scratch database on the server of
// adminURL, and drops it after.
func measureAnchors(ctx context.Context, c config) (anchors, error) {
	var a anchors
	admin, err := pgx.Connect(ctx, c.PGAdminURL)
	if err != nil {
		return a, err
	}
	defer admin.Close(context.Background())
	db := pgx.Identifier{anchorDatabase}.Sanitize()
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)"); err != nil {
		return a, err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+db); err != nil {
		return a, err
	}
	defer func() { _, _ = admin.Exec(context.WithoutCancel(ctx), "DROP DATABASE IF EXISTS "+db+" WITH (FORCE)") }()
	u, err := url.Parse(c.PGAdminURL)
	if err != nil {
		return a, err
	}
	u.Path = "/" + anchorDatabase
	dbURL := u.String()
	m, err := migrations.Open(dbURL, roles.Set{Prefix: roles.DefaultPrefix})
	if err != nil {
		return a, err
	}
	_, err = m.Up(ctx)
	m.Close()
	if err != nil {
		return a, fmt.Errorf("migrating the anchor database: %w", err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		return a, err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status)
  SELECT `+sessionUUID("n")+`, '`+anchorOrg+`', `+sessionUUID("n")+`, now() - interval '1 hour', 'active' FROM generate_series(1, 64) AS n`); err != nil {
		return a, err
	}
	if a.PgbenchTPS, err = pgbench(ctx, dbURL, c.Duration); err != nil {
		return a, err
	}
	a.CopyRows = c.CopyRows
	watch := clock.Start()
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"tracking", "activity_logs"},
		[]string{"id", "organization_id", "session_id", "user_id", "client_activity_id", "occurred_at", "activity_type", "duration_seconds", "url"},
		copyRows(c.CopyRows, c.Clock.Now().Add(-time.Hour))); err != nil {
		return a, fmt.Errorf("COPY: %w", err)
	}
	a.CopyElapsed = watch.Elapsed()
	a.CopyRate = float64(c.CopyRows) / a.CopyElapsed.Seconds()
	a.Load = loadAverage()
	return a, nil
}

var tpsLine = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)

// pgbench runs onePost with 32 clients for d and returns its rate.
func pgbench(ctx context.Context, dbURL string, d time.Duration) (float64, error) {
	dir, err := os.MkdirTemp("", "loadgen-pgbench")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(dir)
	script := filepath.Join(dir, "one-post.sql")
	if err := os.WriteFile(script, []byte(onePost), 0o644); err != nil {
		return 0, err
	}
	secs := max(1, int(d.Round(time.Second)/time.Second))
	out, err := exec.CommandContext(ctx, "pgbench", "-n", "-c", "32", "-j", "2", "-T", strconv.Itoa(secs), "-f", script, dbURL).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("pgbench: %w: %s", err, out)
	}
	mt := tpsLine.FindSubmatch(out)
	if mt == nil {
		return 0, fmt.Errorf("pgbench printed no rate: %s", out)
	}
	return strconv.ParseFloat(string(mt[1]), 64)
}

// copyRows makes n activity rows of the anchor's sessions, one second
// apart from start, as a bulk upload would store them.
func copyRows(n int, start time.Time) pgx.CopyFromSource {
	org := uuidBytes(0xaaaaaaaa<<32, 0)
	i := 0
	return pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		s := uuidBytes(0, uint64(1+i%64))
		typ := "active"
		if i%4 == 0 {
			typ = "idle"
		}
		row := []any{uuidBytes(1, uint64(i)), org, s, s, "c-" + strconv.Itoa(i), start.Add(time.Duration(i) * time.Millisecond),
			typ, int32(1 + i%60), "https://example.com/work"}
		i++
		return row, nil
	})
}

func uuidBytes(hi, lo uint64) [16]byte {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], hi)
	binary.BigEndian.PutUint64(b[8:], lo)
	return b
}
