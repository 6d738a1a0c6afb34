package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// AlertResult reports an alert job for one tenant.
type AlertResult struct {
	OrganizationID string `json:"organization_id"`
	Raised         int    `json:"raised"`
	Resolved       int    `json:"resolved"`
}

// activeSession is what the idle rule looks at.
type activeSession struct {
	ID, UserID     string
	StartTime      time.Time
	LastActivityAt *time.Time
	LastActiveAt   *time.Time
}

// idleRule decides whether s is idle at now: no activity at all for the
// inactive threshold, or only idle activity for the idle threshold. It
// returns the instant after which active work ends the idleness.
func idleRule(now time.Time, st Settings, s activeSession) (since time.Time, message string, idle bool) {
	last := s.StartTime
	if s.LastActivityAt != nil {
		last = *s.LastActivityAt
	}
	if d := now.Sub(last); d >= st.InactiveThreshold {
		return last, fmt.Sprintf("No activity for %s (threshold %s)", minutes(d), minutes(st.InactiveThreshold)), true
	}
	if s.LastActivityAt == nil {
		return time.Time{}, "", false
	}
	activeSince := s.StartTime
	if s.LastActiveAt != nil {
		activeSince = *s.LastActiveAt
	}
	onlyIdle := s.LastActiveAt == nil || s.LastActivityAt.After(*s.LastActiveAt)
	if d := now.Sub(activeSince); onlyIdle && d >= st.IdleThreshold {
		return activeSince, fmt.Sprintf("Only idle activity for %s (threshold %s)", minutes(d), minutes(st.IdleThreshold)), true
	}
	return time.Time{}, "", false
}

func minutes(d time.Duration) string {
	m := int(d / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	if m < 1 {
		return fmt.Sprintf("%d seconds", int(d/time.Second))
	}
	return fmt.Sprintf("%d minutes", m)
}

// DetectIdle raises an idle alert for every active session of org that
// is idle and has none open, and resolves the open idle alerts of
// sessions that have stopped. The partial unique index on open idle
// alerts makes "never two" hold even against a concurrent run.
func (j *Jobs) DetectIdle(ctx context.Context, org string) (AlertResult, error) {
	res := AlertResult{OrganizationID: org}
	now := j.clock.Now()
	err := pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
		if err := lockTenant(ctx, tx, JobIdleDetection, org); err != nil {
			return err
		}
		st, err := j.cfg.settings(ctx, tx, org)
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `
SELECT ws.id::text, ws.user_id::text, ws.start_time, ws.last_activity_at,
       (SELECT a.occurred_at FROM tracking.activity_logs a
         WHERE a.session_id = ws.id AND a.organization_id = ws.organization_id
           AND a.activity_type = 'active' AND a.occurred_at >= ws.start_time
         ORDER BY a.occurred_at DESC LIMIT 1)
FROM tracking.work_sessions ws
WHERE ws.organization_id = $1 AND ws.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM reporting.alerts al
                  WHERE al.session_id = ws.id AND al.alert_type = 'idle' AND al.resolved_at IS NULL)`, org)
		if err != nil {
			return err
		}
		sessions, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (activeSession, error) {
			var s activeSession
			return s, r.Scan(&s.ID, &s.UserID, &s.StartTime, &s.LastActivityAt, &s.LastActiveAt)
		})
		if err != nil {
			return err
		}
		for _, s := range sessions {
			since, msg, idle := idleRule(now, st, s)
			if !idle {
				continue
			}
			a, err := scanAlert(tx.QueryRow(ctx, `INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, last_seen_at, created_at)
				VALUES (gen_random_uuid(), $1, $2, $3, 'idle', $4, $5, $6)
				ON CONFLICT (session_id) WHERE alert_type = 'idle' AND resolved_at IS NULL DO NOTHING
				RETURNING `+alertColumns, org, s.UserID, s.ID, msg, since, now))
			if errors.Is(err, pgx.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
			}
			if err := emitAlert(ctx, tx, events.TypeAlertRaised, a); err != nil {
				return err
			}
			res.Raised++
		}
		rows, err = tx.Query(ctx, `UPDATE reporting.alerts al SET resolved_at = $2
			FROM tracking.work_sessions ws
			WHERE al.organization_id = $1 AND al.alert_type = 'idle' AND al.resolved_at IS NULL
			  AND ws.id = al.session_id AND ws.status = 'stopped'
			RETURNING `+alertCols("al."), org, now)
		if err != nil {
			return err
		}
		n, err := emitAll(ctx, tx, rows, events.TypeAlertResolved)
		res.Resolved = n
		if err != nil {
			return err
		}
		// Triggered jobs are kept for a while for GET /api/jobs/{id}.
		_, err = tx.Exec(ctx, "DELETE FROM reporting.jobs WHERE organization_id = $1 AND created_at < $2", org, now.Add(-jobRetention))
		return err
	})
	return res, err
}

const (
	jobRetention       = 30 * 24 * time.Hour
	processedRetention = 14 * 24 * time.Hour
)

// PruneProcessedEvents forgets consumed event ids older than any
// redelivery could be; it is not tenant data.
func (j *Jobs) PruneProcessedEvents(ctx context.Context) (int64, error) {
	tag, err := j.db.Exec(ctx, "DELETE FROM reporting.processed_events WHERE processed_at < $1", j.clock.Now().Add(-processedRetention))
	return tag.RowsAffected(), err
}

// CheckOvertime raises at most one overtime alert per user and
// tenant-local day, once the time the user tracked that day exceeds the
// tenant's threshold.
func (j *Jobs) CheckOvertime(ctx context.Context, org string) (AlertResult, error) {
	res := AlertResult{OrganizationID: org}
	now := j.clock.Now()
	err := pg.InOrg(ctx, j.db, org, func(tx pgx.Tx) error {
		if err := lockTenant(ctx, tx, JobOvertimeCheck, org); err != nil {
			return err
		}
		st, err := j.cfg.settings(ctx, tx, org)
		if err != nil {
			return err
		}
		day, lo, hi, err := localDay(ctx, tx, st.TimeZone, now)
		if err != nil {
			return err
		}
		limit := int64(st.OvertimeThreshold / time.Second)
		rows, err := tx.Query(ctx, `
INSERT INTO reporting.alerts (id, organization_id, user_id, alert_type, message, local_date, created_at)
SELECT gen_random_uuid(), $1, t.user_id, 'overtime',
       format('Tracked %sh %sm on %s, over the %s-hour threshold', t.total / 3600, t.total % 3600 / 60,
              to_char($4::date, 'YYYY-MM-DD'), $5::bigint / 3600), $4, $6
FROM (SELECT a.user_id, sum(a.duration_seconds) AS total FROM tracking.activity_logs a
      WHERE a.organization_id = $1 AND a.occurred_at >= $2 AND a.occurred_at < $3
      GROUP BY a.user_id HAVING sum(a.duration_seconds) > $5) t
ON CONFLICT (organization_id, user_id, local_date) WHERE alert_type = 'overtime' DO NOTHING
RETURNING `+alertColumns, org, lo, hi, day, limit, now)
		if err != nil {
			return err
		}
		res.Raised, err = emitAll(ctx, tx, rows, events.TypeAlertRaised)
		return err
	})
	return res, err
}

// resolveIdle resolves the open idle alert of a session: when activeAt is
// set, only if that active work came after what the alert was about.
func resolveIdle(ctx context.Context, tx pgx.Tx, sessionID string, activeAt *time.Time, now time.Time) (int, error) {
	rows, err := tx.Query(ctx, `UPDATE reporting.alerts SET resolved_at = $3
		WHERE session_id = $1 AND alert_type = 'idle' AND resolved_at IS NULL
		  AND ($2::timestamptz IS NULL OR last_seen_at IS NULL OR last_seen_at < $2)
		RETURNING `+alertColumns, sessionID, activeAt, now)
	if err != nil {
		return 0, err
	}
	return emitAll(ctx, tx, rows, events.TypeAlertResolved)
}

// emitAll publishes every alert of rows as eventType.
func emitAll(ctx context.Context, tx pgx.Tx, rows pgx.Rows, eventType string) (int, error) {
	alerts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) { return scanAlert(r) })
	if err != nil {
		return 0, err
	}
	for _, a := range alerts {
		if err := emitAlert(ctx, tx, eventType, a); err != nil {
			return 0, err
		}
	}
	return len(alerts), nil
}
