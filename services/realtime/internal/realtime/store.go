package realtime

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
)

// activeSession returns the caller's active session, or nil. It reads as
// the caller's organization, so row-level security keeps it in the tenant.
func activeSession(ctx context.Context, db *pgxpool.Pool, p authn.Principal) (*tracking.Session, error) {
	var s tracking.Session
	err := pg.InOrg(ctx, db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		s, err = tracking.ScanSession(tx.QueryRow(ctx, "SELECT "+tracking.SessionColumns+
			" FROM tracking.work_sessions WHERE user_id = $1 AND status = 'active'", p.UserID))
		return err
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &s, nil
}
