// Package tracking is what the session and ingest services must agree on
// about the tracking data they share: the session row and how it is shown,
// the statement that stops a session (whose interplay with ingest's row
// lock keeps totals exact), the domain errors both answer with, and the
// tenant settings both follow. It belongs to neither service and knows no
// transport: each service maps its errors to the API's envelope itself
// (see docs/tracking-data.md).
package tracking

import (
	"errors"
	"time"

	"github.com/google/uuid"

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
	// ErrProjectNotFound and ErrProjectArchived refuse a project a
	// correction names (ingest's idle decisions).
	ErrProjectNotFound = errors.New("no such project")
	ErrProjectArchived = errors.New("the project is archived")
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
	SessionState
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// SessionState is the session as its events carry it: the contract's
// session object without created_at and updated_at, as realtime pushes it.
type SessionState struct {
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
	// LastActivityType is the type of the activity at LastActivityAt
	// (active or idle), nil when the session has none on record.
	LastActivityType *string `json:"last_activity_type"`
	Version          int64   `json:"version"`
}

// Session statuses.
const (
	StatusActive  = "active"
	StatusStopped = "stopped"
)

// Dest returns the scan destinations of SessionColumns, so that callers
// can scan a session beside other columns.
func (s *Session) Dest() []any {
	return []any{&s.ID, &s.OrganizationID, &s.UserID, &s.ProjectID, &s.StartTime, &s.EndTime, &s.Status,
		&s.TotalActiveSeconds, &s.TotalIdleSeconds, &s.LastActivityAt, &s.LastActivityType, &s.Version, &s.CreatedAt, &s.UpdatedAt}
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

// Event is the session state carried by session and activity events.
func (s SessionState) Event() events.Session {
	return events.Session{SessionID: s.ID, OrganizationID: s.OrganizationID, UserID: s.UserID, ProjectID: s.ProjectID,
		Status: s.Status, StartTime: s.StartTime, EndTime: s.EndTime, TotalActiveSeconds: s.TotalActiveSeconds,
		TotalIdleSeconds: s.TotalIdleSeconds, LastActivityAt: s.LastActivityAt, LastActivityType: s.LastActivityType, Version: s.Version}
}

// StateOf is the session state an event carries, every timestamp in UTC.
func StateOf(e events.Session) SessionState {
	return SessionState{ID: e.SessionID, OrganizationID: e.OrganizationID, UserID: e.UserID, ProjectID: e.ProjectID,
		StartTime: e.StartTime.UTC(), EndTime: utcPtr(e.EndTime), Status: e.Status, TotalActiveSeconds: e.TotalActiveSeconds,
		TotalIdleSeconds: e.TotalIdleSeconds, LastActivityAt: utcPtr(e.LastActivityAt), LastActivityType: e.LastActivityType, Version: e.Version}
}

// ParseSessionID checks a session ID taken from a request; an ID that is
// not a UUID in its canonical form names no session.
func ParseSessionID(id string) (string, error) {
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", ErrSessionNotFound
	}
	return id, nil
}
