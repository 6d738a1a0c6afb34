package report

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
)

// SummaryDay is one tenant-local day a summary run computed.
type SummaryDay struct {
	Date  string `json:"date"`
	Users int64  `json:"users"`
	// Recomputed marks a day summarized before, done again for late uploads.
	Recomputed bool `json:"recomputed,omitempty"`
}

// SummaryResult reports a daily-summary run for one tenant.
type SummaryResult struct {
	OrganizationID string       `json:"organization_id"`
	Days           []SummaryDay `json:"days"`
}

// summarySQL computes every user's summary of one tenant-local day in one
// pass over that day's activity: it groups by user, session and URL
// first (a few rows per user), then derives applications and totals from
// those groups, and upserts. Day bounds come in as UTC instants ($3, $4),
// the time of the computation as $5.
const summarySQL = `
WITH g AS (
  SELECT a.user_id, a.session_id, a.url,
         coalesce(sum(a.duration_seconds) FILTER (WHERE a.activity_type = 'active'), 0) AS act,
         coalesce(sum(a.duration_seconds) FILTER (WHERE a.activity_type = 'idle'), 0) AS idl
  FROM tracking.activity_logs a
  WHERE a.organization_id = $1 AND a.occurred_at >= $3 AND a.occurred_at < $4
  GROUP BY a.user_id, a.session_id, a.url
), apps AS (
  SELECT user_id, reporting.app_name(url) AS app, sum(act) AS act, sum(idl) AS idl
  FROM g GROUP BY 1, 2
), app_json AS (
  -- Compact JSON text: reports send it out as stored.
  SELECT user_id, '[' || string_agg(format('{"app":%s,"total_seconds":%s,"active_seconds":%s,"idle_seconds":%s}',
           to_json(app), act + idl, act, idl), ',' ORDER BY act + idl DESC, app) || ']' AS usage
  FROM apps GROUP BY user_id
), per_user AS (
  SELECT user_id, count(DISTINCT session_id) AS sessions, sum(act) AS act, sum(idl) AS idl
  FROM g GROUP BY user_id
)
INSERT INTO reporting.daily_summaries AS d (organization_id, user_id, date, total_work_seconds, active_seconds,
  idle_seconds, productivity_score, sessions_count, app_usage, computed_at)
SELECT $1, u.user_id, $2::date, u.act + u.idl, u.act, u.idl,
       CASE WHEN u.act + u.idl = 0 THEN 0 ELSE round(u.act * 100.0 / (u.act + u.idl), 2) END,
       u.sessions, coalesce(j.usage, '[]')::json, $5
FROM per_user u LEFT JOIN app_json j ON j.user_id = u.user_id
ON CONFLICT (organization_id, user_id, date) DO UPDATE SET
  total_work_seconds = EXCLUDED.total_work_seconds, active_seconds = EXCLUDED.active_seconds,
  idle_seconds = EXCLUDED.idle_seconds, productivity_score = EXCLUDED.productivity_score,
  sessions_count = EXCLUDED.sessions_count, app_usage = EXCLUDED.app_usage, computed_at = EXCLUDED.computed_at`

// summarizeDay upserts the summaries of the tenant of tx for one
// tenant-local day. Each activity counts on the day of its timestamp, so
// a session across midnight counts on both days. now is recorded as the
// time of the computation.
func summarizeDay(ctx context.Context, tx pgx.Tx, org, tz string, day, now time.Time) (int64, error) {
	lo, hi, err := dayBounds(ctx, tx, tz, day)
	if err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, summarySQL, org, day, lo, hi, now)
	if err != nil || tag.RowsAffected() == 0 {
		return 0, err
	}
	return tag.RowsAffected(), bumpReportVersion(ctx, tx, org)
}

// SummarizeDate computes the summaries of org for one tenant-local date.
// Re-running it gives the same rows (with the same ids).
func (j *Jobs) SummarizeDate(ctx context.Context, org string, day time.Time) (SummaryResult, error) {
	res := SummaryResult{OrganizationID: org, Days: []SummaryDay{}}
	err := pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
		if err := lockTenant(ctx, tx, JobDailySummary, org); err != nil {
			return err
		}
		st, err := j.cfg.settings(ctx, tx, org)
		if err != nil {
			return err
		}
		n, err := summarizeDay(ctx, tx, org, st.TimeZone, day, j.clock.Now())
		res.Days = append(res.Days, SummaryDay{Date: day.Format(time.DateOnly), Users: n})
		return err
	})
	return res, err
}

// CatchUp computes every tenant-local day of org from the one after the
// last completed day through yesterday, one transaction per day that also
// advances the progress, so a missed night is made up and a crash loses
// at most the day in progress. A tenant without progress starts at its
// first activity, at most MaxCatchUpDays back.
//
// Offline clients upload late, so each run also recomputes the
// RecomputeDays days before yesterday that it did not just compute: with
// one run a night, every day is summarized twice, the second time with
// what arrived during the following day.
func (j *Jobs) CatchUp(ctx context.Context, org string) (SummaryResult, error) {
	res := SummaryResult{OrganizationID: org, Days: []SummaryDay{}}
	computed := map[string]bool{}
	for {
		done := false
		err := pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
			if err := lockTenant(ctx, tx, JobDailySummary, org); err != nil {
				return err
			}
			st, err := j.cfg.settings(ctx, tx, org)
			if err != nil {
				return err
			}
			now := j.clock.Now()
			today, _, _, err := localDay(ctx, tx, st.TimeZone, now)
			if err != nil {
				return err
			}
			yesterday := today.AddDate(0, 0, -1)
			next, err := j.nextDay(ctx, tx, org, st.TimeZone, yesterday)
			if err != nil {
				return err
			}
			if next.After(yesterday) {
				done = true
				for k := j.cfg.RecomputeDays; k >= 1; k-- {
					d := yesterday.AddDate(0, 0, -k)
					if computed[d.Format(time.DateOnly)] {
						continue
					}
					n, err := summarizeDay(ctx, tx, org, st.TimeZone, d, now)
					if err != nil {
						return err
					}
					res.Days = append(res.Days, SummaryDay{Date: d.Format(time.DateOnly), Users: n, Recomputed: true})
				}
				return nil
			}
			n, err := summarizeDay(ctx, tx, org, st.TimeZone, next, now)
			if err != nil {
				return err
			}
			computed[next.Format(time.DateOnly)] = true
			res.Days = append(res.Days, SummaryDay{Date: next.Format(time.DateOnly), Users: n})
			_, err = tx.Exec(ctx, `INSERT INTO reporting.summary_progress (organization_id, last_completed_date, updated_at) VALUES ($1, $2, $3)
				ON CONFLICT (organization_id) DO UPDATE SET last_completed_date = EXCLUDED.last_completed_date, updated_at = $3`, org, next, now)
			return err
		})
		if err != nil || done {
			return res, err
		}
	}
}

// nextDay is the first day the catch-up has not completed.
func (j *Jobs) nextDay(ctx context.Context, tx pgx.Tx, org, tz string, yesterday time.Time) (time.Time, error) {
	var last time.Time
	err := tx.QueryRow(ctx, "SELECT last_completed_date FROM reporting.summary_progress WHERE organization_id = $1", org).Scan(&last)
	if err == nil {
		return last.AddDate(0, 0, 1), nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return time.Time{}, err
	}
	earliest := yesterday.AddDate(0, 0, 1-j.cfg.MaxCatchUpDays)
	lo, _, err := dayBounds(ctx, tx, tz, earliest)
	if err != nil {
		return time.Time{}, err
	}
	var first *time.Time
	if err := tx.QueryRow(ctx, `SELECT (min(occurred_at) AT TIME ZONE $3)::date FROM tracking.activity_logs
		WHERE organization_id = $1 AND occurred_at >= $2`, org, lo, tz).Scan(&first); err != nil {
		return time.Time{}, err
	}
	if first == nil {
		// Nothing tracked yet: nothing to make up.
		return yesterday.AddDate(0, 0, 1), nil
	}
	return *first, nil
}
