package report

import (
	"context"
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
		sessions, err := idleCandidates(ctx, tx, org)
		if err != nil {
			return err
		}
		for _, s := range sessions {
			since, msg, idle := idleRule(now, st, s)
			if !idle {
				continue
			}
			a, ok, err := insertIdleAlert(ctx, tx, org, s, msg, since, now)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
			if err := emitAlert(ctx, tx, events.TypeAlertRaised, a); err != nil {
				return err
			}
			res.Raised++
		}
		resolved, err := resolveStoppedIdle(ctx, tx, org, now)
		if err != nil {
			return err
		}
		n, err := emitAll(ctx, tx, resolved, events.TypeAlertResolved)
		res.Resolved = n
		if err != nil {
			return err
		}
		// Triggered jobs are kept for a while for GET /api/jobs/{id}.
		if err := pruneJobs(ctx, tx, org, now.Add(-jobRetention)); err != nil {
			return err
		}
		return pruneErasedMembers(ctx, tx, now.Add(-erasedRetention))
	})
	return res, err
}

const (
	jobRetention       = 30 * 24 * time.Hour
	processedRetention = 14 * 24 * time.Hour
	// erasedRetention is how long an erased member's id is kept at least:
	// as long as a redelivered event could still bring activity of theirs
	// (the window consumed event ids are kept for). It is kept longer while
	// tracking still holds any of their activity or sessions (ingest's or
	// session's erasure not through yet), which a summary could count.
	erasedRetention = processedRetention
)

// PruneProcessedEvents forgets consumed event ids older than any
// redelivery could be; it is not tenant data.
func (j *Jobs) PruneProcessedEvents(ctx context.Context) (int64, error) {
	return pruneProcessedEvents(ctx, j.db, j.clock.Now().Add(-processedRetention))
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
		raised, err := insertOvertimeAlerts(ctx, tx, org, day, lo, hi, limit, now)
		if err != nil {
			return err
		}
		res.Raised, err = emitAll(ctx, tx, raised, events.TypeAlertRaised)
		return err
	})
	return res, err
}

// resolveIdle resolves the open idle alert of a session: when activeAt is
// set, only if that active work came after what the alert was about.
func resolveIdle(ctx context.Context, tx pgx.Tx, sessionID string, activeAt *time.Time, now time.Time) (int, error) {
	alerts, err := resolveSessionIdle(ctx, tx, sessionID, activeAt, now)
	if err != nil {
		return 0, err
	}
	return emitAll(ctx, tx, alerts, events.TypeAlertResolved)
}
