package session

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/tracking"
)

// MemberRemover is what session does when a member is removed, for
// tracking.UserConsumer; clk stamps the end of their active session.
func MemberRemover(db *pgxpool.Pool, clk clock.Clock) tracking.MemberRemover {
	return (&Store{db: db, clock: clk}).removeMember
}
