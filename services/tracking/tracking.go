// Package tracking is what the session and ingest services must agree on
// about the tracking data they share: the session row and how it is shown,
// the statement that stops a session (whose interplay with ingest's row
// lock keeps totals exact), the domain errors both answer with, and the
// tenant settings both follow. It belongs to neither service and knows no
// transport: each service maps its errors to the API's envelope itself
// (see docs/tracking-data.md).
package tracking

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api/events"
)

// Tables both services write.
const (
	OutboxTable    = "tracking.outbox"
	ProcessedTable = "tracking.processed_events"
)

// Domain errors both services answer with.
var (
	ErrSessionNotFound       = errors.New("no such session")
	ErrSessionAlreadyStopped = errors.New("the session is already stopped")
	// ErrSessionStopped refuses activity for a session that is stopped.
	ErrSessionStopped   = errors.New("the session is stopped and takes no more activity")
	ErrTenantSuspended  = errors.New("this organization is suspended")
	ErrInvalidTimestamp = errors.New("invalid session timestamp")
)

// TimestampError refuses a session start or end time and says why; it
// matches ErrInvalidTimestamp.
type TimestampError struct{ Reason string }

func (e *TimestampError) Error() string { return e.Reason }

func (e *TimestampError) Is(target error) bool { return target == ErrInvalidTimestamp }

// InvalidTimestamp is a TimestampError for reason.
func InvalidTimestamp(reason string) error { return &TimestampError{Reason: reason} }

// Session is the contract's session object.
type Session struct {
	ID                 string     `json:"id"`
	OrganizationID     string     `json:"organization_id"`
	UserID             string     `json:"user_id"`
	ProjectID          *string    `json:"project_id"`
	StartTime          time.Time  `json:"start_time"`
	EndTime            *time.Time `json:"end_time"`
	Status             string     `json:"status"`
	TotalActiveSeconds int64      `json:"total_active_seconds"`
	TotalIdleSeconds   int64      `json:"total_idle_seconds"`
	LastActivityAt     *time.Time `json:"last_activity_at"`
	Version            int64      `json:"version"`
	CreatedAt          time.Time  `json:"created_at"`
	UpdatedAt          time.Time  `json:"updated_at"`
}

// Session statuses.
const (
	StatusActive  = "active"
	StatusStopped = "stopped"
)

// SessionColumns selects a session for ScanSession; prefix it with a table
// alias by building the query with SessionColumnsOf.
const SessionColumns = "id, organization_id, user_id, project_id, start_time, end_time, status, " +
	"total_active_seconds, total_idle_seconds, last_activity_at, version, created_at, updated_at"

// SessionColumnsOf is SessionColumns qualified by alias.
func SessionColumnsOf(alias string) string {
	a := alias + "."
	return a + "id, " + a + "organization_id, " + a + "user_id, " + a + "project_id, " + a + "start_time, " +
		a + "end_time, " + a + "status, " + a + "total_active_seconds, " + a + "total_idle_seconds, " +
		a + "last_activity_at, " + a + "version, " + a + "created_at, " + a + "updated_at"
}

// Dest returns the scan destinations of SessionColumns, so that callers
// can scan a session beside other columns.
func (s *Session) Dest() []any {
	return []any{&s.ID, &s.OrganizationID, &s.UserID, &s.ProjectID, &s.StartTime, &s.EndTime, &s.Status,
		&s.TotalActiveSeconds, &s.TotalIdleSeconds, &s.LastActivityAt, &s.Version, &s.CreatedAt, &s.UpdatedAt}
}

// Normalize shows every timestamp in UTC, as the contract requires.
func (s *Session) Normalize() {
	s.StartTime, s.CreatedAt, s.UpdatedAt = s.StartTime.UTC(), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	s.EndTime, s.LastActivityAt = utcPtr(s.EndTime), utcPtr(s.LastActivityAt)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// ScanSession scans one row of SessionColumns.
func ScanSession(row pgx.Row) (Session, error) {
	var s Session
	err := row.Scan(s.Dest()...)
	s.Normalize()
	return s, err
}

// Event is the session state carried by session and activity events.
func (s Session) Event() events.Session {
	return events.Session{SessionID: s.ID, OrganizationID: s.OrganizationID, UserID: s.UserID, ProjectID: s.ProjectID,
		Status: s.Status, StartTime: s.StartTime, EndTime: s.EndTime, TotalActiveSeconds: s.TotalActiveSeconds,
		TotalIdleSeconds: s.TotalIdleSeconds, LastActivityAt: s.LastActivityAt, Version: s.Version}
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

// ParseSessionID checks a session ID taken from a request; an ID that is
// not a UUID in its canonical form names no session.
func ParseSessionID(id string) (string, error) {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", ErrSessionNotFound
	}
	return id, nil
}
