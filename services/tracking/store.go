package tracking

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// SessionColumns selects a session for ScanSession; prefix it with a table
// alias by building the query with SessionColumnsOf.
const SessionColumns = "id, organization_id, user_id, project_id, start_time, end_time, status, " +
	"total_active_seconds, total_idle_seconds, last_activity_at, last_activity_type, version, created_at, updated_at"

// SessionColumnsOf is SessionColumns qualified by alias.
func SessionColumnsOf(alias string) string {
	a := alias + "."
	return a + "id, " + a + "organization_id, " + a + "user_id, " + a + "project_id, " + a + "start_time, " +
		a + "end_time, " + a + "status, " + a + "total_active_seconds, " + a + "total_idle_seconds, " +
		a + "last_activity_at, " + a + "last_activity_type, " + a + "version, " + a + "created_at, " + a + "updated_at"
}

// ScanSession scans one row of SessionColumns.
func ScanSession(row pgx.Row) (Session, error) {
	var s Session
	err := row.Scan(s.Dest()...)
	s.Normalize()
	return s, err
}

// StopSession stops the caller's active session at end, or at now (the
// caller's clock reading) when end is nil.
//
// It is a single UPDATE ... WHERE status = 'active'. ingest locks the
// session row for the whole of an activity transaction, so a stop either
// waits for that transaction and then includes its seconds, or commits
// first and the activity finds the session stopped and stores nothing: no
// second is lost or counted twice. The end defaults to the later of now
// and the last activity, which ingest lets be up to five minutes ahead;
// an explicit end may not precede the start or the last activity.
func StopSession(ctx context.Context, tx pgx.Tx, sessionID, userID string, end *time.Time, now time.Time) (Session, error) {
	s, err := ScanSession(tx.QueryRow(ctx, "UPDATE tracking.work_sessions SET status = 'stopped',"+
		" end_time = coalesce($3::timestamptz, greatest($4::timestamptz, last_activity_at)), version = version + 1, updated_at = now()"+
		" WHERE id = $1 AND user_id = $2 AND status = 'active'"+
		" AND ($3::timestamptz IS NULL OR ($3 >= start_time AND $3 >= coalesce(last_activity_at, '-infinity')))"+
		" RETURNING "+SessionColumns, sessionID, userID, end, now))
	if !errors.Is(err, pgx.ErrNoRows) {
		return s, err
	}
	// Nothing changed: find out why, under the same row-level security.
	var status string
	var start time.Time
	var last *time.Time
	err = tx.QueryRow(ctx, "SELECT status, start_time, last_activity_at FROM tracking.work_sessions WHERE id = $1 AND user_id = $2",
		sessionID, userID).Scan(&status, &start, &last)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return Session{}, ErrSessionNotFound
	case err != nil:
		return Session{}, err
	case status != StatusActive, end == nil:
		return Session{}, ErrSessionAlreadyStopped
	case end.Before(start):
		return Session{}, InvalidTimestamp("end_time is before the session's start_time")
	default:
		return Session{}, InvalidTimestamp("end_time is before the session's last activity")
	}
}

// upsertTenant stores an organization's tenant settings in tx; settings
// of an older generation than the stored ones change nothing.
func upsertTenant(ctx context.Context, tx pgx.Tx, orgID string, t events.TenantUpdated, tz string) error {
	_, err := tx.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, suspended, time_zone, generation, activity_window_days, retention_months)"+
		" VALUES ($1, $2, $3, $4, NULLIF($5::int, 0), NULLIF($6::int, 0))"+
		" ON CONFLICT (organization_id) DO UPDATE SET suspended = EXCLUDED.suspended, time_zone = EXCLUDED.time_zone,"+
		" generation = EXCLUDED.generation, activity_window_days = EXCLUDED.activity_window_days,"+
		" retention_months = EXCLUDED.retention_months, updated_at = now()"+
		" WHERE tracking.tenants.generation <= EXCLUDED.generation",
		orgID, t.Suspended, tz, t.Generation, t.ActivityWindowDays, t.RetentionMonths)
	return err
}

// SuspendedCondition is true when the transaction's tenant is suspended;
// a tenant the operator never configured is not.
var SuspendedCondition = SuspendedOf("public.current_org()")

// SuspendedOf is SuspendedCondition for the organization org (an SQL
// expression), for statements that write several tenants' rows.
func SuspendedOf(org string) string {
	return "EXISTS (SELECT 1 FROM tracking.tenants WHERE organization_id = " + org + " AND suspended)"
}

// CheckNotSuspended refuses writes for a suspended tenant, within tx.
func CheckNotSuspended(ctx context.Context, tx pgx.Tx) error {
	var suspended bool
	if err := tx.QueryRow(ctx, "SELECT "+SuspendedCondition).Scan(&suspended); err != nil {
		return err
	}
	if suspended {
		return ErrTenantSuspended
	}
	return nil
}

// windowDays is orgID's own accepted window in days, nil when it has the
// installation's.
func windowDays(ctx context.Context, db *pgxpool.Pool, orgID string) (*int, error) {
	var days *int
	err := pg.QueryRowInOrg(ctx, db, orgID, "SELECT activity_window_days FROM tracking.tenants WHERE organization_id = public.current_org()",
		func(row pgx.Row) error { return row.Scan(&days) })
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	return days, nil
}

// EraseSessions deletes a member's work sessions.
func EraseSessions(ctx context.Context, tx pgx.Tx, userID string) error {
	_, err := tx.Exec(ctx, "DELETE FROM tracking.work_sessions WHERE user_id = $1", userID)
	return err
}

// EraseActivity is ingest's MemberRemover: an erasure deletes the
// member's activity, its dedup keys, what pins it to idle decisions (the
// decisions go with the sessions), their time requests (pending and
// rejected ones have no session to go with) and their activity and time
// request events still waiting in the outbox; a removal that keeps the
// data changes nothing.
//
// The waiting activity.recorded and activity.corrected rows go in this
// transaction because relayed after the erasure they would make report
// summarize the erased member's days again; the time request events
// (time.requested, .approved, .rejected) because their webhooks would
// tell endpoints of requests that no longer exist. session.started and
// session.stopped stay: they carry only ids and totals, and the board and
// report need the stop session enqueues on removal to drop the member's
// live state and close their idle alerts.
func EraseActivity(ctx context.Context, tx pgx.Tx, u events.UserRemoved) error {
	if !u.EraseData {
		return nil
	}
	for _, stmt := range []string{
		"DELETE FROM tracking.idle_decision_activity WHERE decision_id IN (SELECT id FROM tracking.idle_decisions WHERE user_id = $1)",
		"DELETE FROM tracking.activity_logs WHERE organization_id = public.current_org() AND user_id = $1",
		"DELETE FROM tracking.activity_dedup WHERE user_id = $1",
		"DELETE FROM tracking.time_requests WHERE user_id = $1",
		// The outbox has no row-level security: the organization is matched
		// on the envelope.
		"DELETE FROM tracking.outbox WHERE payload->>'organization_id' = public.current_org()::text" +
			" AND payload->'data'->>'user_id' = $1 AND payload->>'type' IN ('" + strings.Join([]string{events.TypeActivityRecorded,
			events.TypeActivityCorrected, events.TypeTimeRequested, events.TypeTimeApproved, events.TypeTimeRejected}, "', '") + "')",
	} {
		if _, err := tx.Exec(ctx, stmt, u.UserID); err != nil {
			return err
		}
	}
	return nil
}

// timesheetLockKeySQL takes the transaction's organization's timesheet
// lock key until commit, shared (%s = "_shared") or exclusively (%s = "").
const timesheetLockKeySQL = "SELECT pg_advisory_xact_lock%s(hashtextextended('tracking.timesheet_lock:' || public.current_org()::text, 0))"

// timesheetLockSQL reads the organization's lock; no row is no lock.
const timesheetLockSQL = "SELECT locked_through::text, locked_until, time_zone, locked_by::text, locked_at FROM tracking.timesheet_locks" +
	" WHERE organization_id = public.current_org()"

func scanLock(row pgx.Row) (TimesheetLock, error) {
	var l TimesheetLock
	err := row.Scan(&l.LockedThrough, &l.LockedUntil, &l.TimeZone, &l.LockedBy, &l.LockedAt)
	if errors.Is(err, pgx.ErrNoRows) {
		return TimesheetLock{}, nil
	}
	if l.LockedUntil != nil {
		*l.LockedUntil, *l.LockedAt = l.LockedUntil.UTC(), l.LockedAt.UTC()
	}
	return l, err
}

// readLockOf reads orgID's lock outside any transaction of the caller.
func readLockOf(ctx context.Context, db *pgxpool.Pool, orgID string) (TimesheetLock, error) {
	var l TimesheetLock
	err := pg.QueryRowInOrg(ctx, db, orgID, timesheetLockSQL, func(row pgx.Row) error {
		var err error
		l, err = scanLock(row)
		return err
	})
	return l, err
}

// ReadLock reads the lock of tx's organization and holds its key shared
// until tx ends, so that no lock is set before tx commits.
func ReadLock(ctx context.Context, tx pgx.Tx) (TimesheetLock, error) {
	if _, err := tx.Exec(ctx, fmt.Sprintf(timesheetLockKeySQL, "_shared")); err != nil {
		return TimesheetLock{}, err
	}
	return scanLock(tx.QueryRow(ctx, timesheetLockSQL))
}

// CheckUnlocked refuses, with a LockedError, a change in tx of time from
// from on when from falls in a locked day. A change of a stretch passes
// its earliest instant: an edit of a session passes the earlier of its
// old and its new start.
func CheckUnlocked(ctx context.Context, tx pgx.Tx, from time.Time) error {
	l, err := ReadLock(ctx, tx)
	if err != nil {
		return err
	}
	return l.Refuse(from)
}

// HoldLockKey takes the lock key of tx's organization exclusively, for
// setting or removing its lock: it waits for the changes of time in
// flight, and those after it wait for tx.
func HoldLockKey(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, fmt.Sprintf(timesheetLockKeySQL, ""))
	return err
}
