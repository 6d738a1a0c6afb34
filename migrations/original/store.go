package original

import (
	"context"

	"github.com/jackc/pgx/v5"
)

// The original's side: it is only read. Enum columns are read as text and
// timestamps without time zone are UTC (the original ran with TZ=UTC).

const sourceCountsSQL = `SELECT (SELECT count(*) FROM organizations), (SELECT count(*) FROM users), (SELECT count(*) FROM projects),
  (SELECT count(*) FROM work_sessions), (SELECT count(*) FROM activity_logs), (SELECT count(*) FROM daily_summaries),
  (SELECT count(*) FROM alerts)`

const sourceOrganizationsSQL = `SELECT id::text, name, plan_type, created_at FROM organizations ORDER BY created_at, id`

const sourceUsersSQL = `SELECT id::text, organization_id::text, email, password_hash, name, role::text, status::text, created_at, updated_at
FROM users ORDER BY organization_id, created_at, id`

const sourceProjectsSQL = `SELECT id::text, organization_id::text, name, description, created_by::text, created_at
FROM projects ORDER BY organization_id, created_at, id`

// The newest active session of a user is rank 1 of its status.
const sourceSessionsSQL = `SELECT id::text, organization_id::text, user_id::text, project_id::text, start_time, end_time,
  last_activity_at, status::text, version, created_at, updated_at,
  row_number() OVER (PARTITION BY user_id, status ORDER BY start_time DESC, id DESC)
FROM work_sessions ORDER BY start_time, id`

const sourceActivityMonthsSQL = `SELECT DISTINCT w.organization_id::text, date_trunc('month', a.timestamp)
FROM activity_logs a JOIN work_sessions w ON w.id = a.session_id`

// copy numbers the rows sharing an id and timestamp (restored twice, say);
// client_copy numbers a user's rows sharing a client_activity_id, which
// WorkPulse stores once. Both orders are total, so every run keeps the
// same row.
const sourceActivitySQL = `SELECT a.id::text, a.session_id::text, a.timestamp, a.activity_type::text, a.duration_seconds, a.url,
  a.client_activity_id,
  row_number() OVER (PARTITION BY a.id, a.timestamp ORDER BY a.session_id, a.client_activity_id NULLS FIRST, a.duration_seconds, a.url NULLS FIRST),
  CASE WHEN a.client_activity_id IS NULL THEN 1 ELSE
    row_number() OVER (PARTITION BY w.user_id, a.client_activity_id ORDER BY a.timestamp, a.id, a.session_id) END
FROM activity_logs a LEFT JOIN work_sessions w ON w.id = a.session_id
ORDER BY a.timestamp, a.id`

const sourceSummariesSQL = `SELECT id::text, organization_id::text, user_id::text, date, total_work_seconds, active_seconds,
  idle_seconds, productivity_score::float8, app_usage::text
FROM daily_summaries ORDER BY date, id`

const sourceAlertsSQL = `SELECT id::text, user_id::text, type::text, message, created_at, resolved_at FROM alerts ORDER BY created_at, id`

func sourceCounts(ctx context.Context, src *pgx.Conn) ([]int, error) {
	n := make([]int, len(Tables))
	dst := make([]any, len(n))
	for i := range n {
		dst[i] = &n[i]
	}
	return n, src.QueryRow(ctx, sourceCountsSQL).Scan(dst...)
}

// WorkPulse's side. Every insert skips rows already there (ON CONFLICT DO
// NOTHING) and returns the ids it stored, so that a re-run or a run after
// a kill stores only what is missing.

const insertOrganizationsSQL = `INSERT INTO auth.organizations (id, name, plan_type, created_at, updated_at)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[], $4::timestamptz[])
ON CONFLICT DO NOTHING RETURNING id::text`

const insertUsersSQL = `INSERT INTO auth.users (id, organization_id, email, name, password_hash, role, active, created_at, updated_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bool[], $8::timestamptz[], $9::timestamptz[])
ON CONFLICT DO NOTHING RETURNING id::text`

const insertProjectsSQL = `INSERT INTO tracking.projects (id, organization_id, name, description, created_by, created_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::uuid[], $6::timestamptz[])
ON CONFLICT DO NOTHING RETURNING id::text`

// Totals start at zero: they are summed from the stored activity once it
// is in (sessionTotalsSQL), since the original's totals lose updates.
const insertSessionsSQL = `INSERT INTO tracking.work_sessions (id, organization_id, user_id, project_id, start_time, end_time, status,
  total_active_seconds, total_idle_seconds, last_activity_at, version, created_at, updated_at)
SELECT id, org, usr, project, st, en, status, 0, 0, NULL, version, created, updated
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::timestamptz[], $6::timestamptz[], $7::text[], $8::bigint[],
  $9::timestamptz[], $10::timestamptz[]) AS u(id, org, usr, project, st, en, status, version, created, updated)
ON CONFLICT DO NOTHING RETURNING id::text`

// An activity with a client_activity_id is stored with its dedup row; one
// whose client id already points at another activity is not stored (the
// statement's snapshot does not see the dedup rows it inserts itself).
const insertActivitySQL = `WITH src AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::timestamptz[], $7::text[], $8::int[], $9::text[])
    AS u(id, org, sess, usr, cid, ts, kind, dur, url)
), dedup AS (
  INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)
  SELECT usr, cid, org, id, ts FROM src WHERE cid IS NOT NULL ON CONFLICT DO NOTHING
)
INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type,
  duration_seconds, url, created_at)
SELECT id, org, sess, usr, cid, ts, kind, dur, url, $10 FROM src
WHERE cid IS NULL OR NOT EXISTS (SELECT 1 FROM tracking.activity_dedup d
  WHERE d.user_id = src.usr AND d.client_activity_id = src.cid AND d.activity_id <> src.id)
ON CONFLICT DO NOTHING RETURNING id::text`

const presentActivitySQL = `SELECT a.id::text FROM tracking.activity_logs a
JOIN unnest($1::uuid[], $2::timestamptz[], $3::uuid[]) AS u(org, ts, id) ON a.organization_id = u.org AND a.occurred_at = u.ts AND a.id = u.id`

// The rows are the truth: an imported session's totals and last activity
// are those of its stored activity. A stopped session's end moves only
// for one stored with its start as a stand-in end: the activity of the
// others ends by their end_time.
const sessionTotalsSQL = `UPDATE tracking.work_sessions s SET
  total_active_seconds = coalesce(a.active, 0), total_idle_seconds = coalesce(a.idle, 0), last_activity_at = a.last,
  end_time = CASE WHEN s.end_time IS NOT NULL THEN greatest(s.end_time, a.last) END
FROM (SELECT w.id, sum(l.duration_seconds) FILTER (WHERE l.activity_type = 'active') AS active,
        sum(l.duration_seconds) FILTER (WHERE l.activity_type = 'idle') AS idle, max(l.occurred_at) AS last
      FROM unnest($1::uuid[]) AS w(id) LEFT JOIN tracking.activity_logs l ON l.session_id = w.id
      GROUP BY w.id) a
WHERE s.id = a.id`

const insertSummariesSQL = `INSERT INTO reporting.daily_summaries (id, organization_id, user_id, date, total_work_seconds, active_seconds,
  idle_seconds, productivity_score, sessions_count, app_usage, computed_at)
SELECT id, org, usr, day, total, act, idle, score, n, apps::json, $10
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::date[], $5::bigint[], $6::bigint[], $7::bigint[], $8::numeric[], $9::int[], $11::text[])
  AS u(id, org, usr, day, total, act, idle, score, n, apps)
ON CONFLICT DO NOTHING RETURNING id::text`

const insertAlertsSQL = `INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, local_date, last_seen_at,
  created_at, resolved_at)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::date[], $8::timestamptz[],
  $9::timestamptz[], $10::timestamptz[])
ON CONFLICT DO NOTHING RETURNING id::text`

// bumpReportVersionSQL marks an organization's cached reports stale, as
// the report service does with every change to its summaries.
const bumpReportVersionSQL = `INSERT INTO reporting.report_versions AS v (organization_id, version) VALUES ($1, 1)
ON CONFLICT (organization_id) DO UPDATE SET version = v.version + 1`

// presentSQL finds which of ids a table with an id primary key holds.
func presentSQL(table string) string {
	return "SELECT id::text FROM " + table + " WHERE id = ANY($1::uuid[])"
}

func ids(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, sql string, args ...any) (map[string]bool, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	list, err := pgx.CollectRows(rows, pgx.RowTo[string])
	out := make(map[string]bool, len(list))
	for _, id := range list {
		out[id] = true
	}
	return out, err
}

func bumpReportVersions(ctx context.Context, tx pgx.Tx, orgs map[string]bool) error {
	for org := range orgs {
		if _, err := tx.Exec(ctx, bumpReportVersionSQL, org); err != nil {
			return err
		}
	}
	return nil
}
