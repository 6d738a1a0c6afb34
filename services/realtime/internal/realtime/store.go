package realtime

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// Session is the contract's session object, sent in session:state.
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

// activeSession returns the caller's active session, or nil. It reads as
// the caller's organization, so row-level security keeps it in the tenant.
func activeSession(ctx context.Context, db *pgxpool.Pool, p authn.Principal) (*Session, error) {
	var s Session
	err := pg.InOrg(ctx, db, p.OrganizationID, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, `
			SELECT id::text, organization_id::text, user_id::text, project_id::text, start_time, end_time, status,
			       total_active_seconds, total_idle_seconds, last_activity_at, version, created_at, updated_at
			FROM tracking.work_sessions
			WHERE user_id = $1 AND status = 'active'`, p.UserID).
			Scan(&s.ID, &s.OrganizationID, &s.UserID, &s.ProjectID, &s.StartTime, &s.EndTime, &s.Status,
				&s.TotalActiveSeconds, &s.TotalIdleSeconds, &s.LastActivityAt, &s.Version, &s.CreatedAt, &s.UpdatedAt)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s.StartTime, s.CreatedAt, s.UpdatedAt = s.StartTime.UTC(), s.CreatedAt.UTC(), s.UpdatedAt.UTC()
	s.EndTime, s.LastActivityAt = utc(s.EndTime), utc(s.LastActivityAt)
	return &s, nil
}
