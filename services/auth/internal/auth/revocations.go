package auth

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// A signed-out session's revocation refuses its access tokens until the
// last of them has expired (its expires_at, which already allows for the
// verifiers' clock skew); its refresh tokens are refused by the session
// row itself. Past expires_at every service already ignores the row, so
// it only makes the list longer for every service that starts. User and
// organization revocations have no expiry: they stay while they refuse.

// RevocationSweepInterval is how often the auth service deletes the
// revocations that expired.
const RevocationSweepInterval = 10 * time.Minute

// revocationGrace keeps an expired revocation a while longer, for a
// service whose clock runs behind the auth service's.
const revocationGrace = time.Hour

// revocationSweepBatch bounds the rows one statement deletes, so that a
// list grown large before the sweep existed is trimmed in short
// transactions rather than one long one.
const revocationSweepBatch = 1000

// RevocationSweeper deletes the revocations that can no longer refuse a
// token.
type RevocationSweeper struct {
	store *Store
	log   *slog.Logger
}

// NewRevocationSweeper returns a sweeper of db's revocation list; clk
// decides what has expired.
func NewRevocationSweeper(db *pgxpool.Pool, log *slog.Logger, clk clock.Clock) *RevocationSweeper {
	return &RevocationSweeper{store: &Store{db: db, clock: clk}, log: log}
}

// Sweep deletes, batch by batch, every revocation that expired more than
// revocationGrace ago, and returns how many it deleted.
func (s *RevocationSweeper) Sweep(ctx context.Context) (int64, error) {
	before := s.store.clock.Now().Add(-revocationGrace)
	var total int64
	for {
		n, err := s.store.deleteExpiredRevocations(ctx, before, revocationSweepBatch)
		total += n
		if err != nil {
			return total, fmt.Errorf("auth: delete expired revocations: %w", err)
		}
		if n < revocationSweepBatch {
			return total, nil
		}
	}
}

// Run sweeps every interval until ctx is done, for app.Service.Workers.
func (s *RevocationSweeper) Run(ctx context.Context, interval time.Duration) error {
	clock.Every(ctx, interval, func(ctx context.Context) {
		// A failed sweep deletes nothing that matters; the next one retries.
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("revocation sweep failed", "err", err)
		}
	})
	return nil
}
