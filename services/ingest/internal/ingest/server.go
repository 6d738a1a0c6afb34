// Package ingest is the ingest service: it records the activity
// heartbeats of desktop agents, live one at a time and offline in
// batches, and keeps the session totals exact.
package ingest

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// Config is ingest's own configuration.
type Config struct {
	// MaxBulk caps the activities of one bulk upload.
	MaxBulk int
	// FutureLeeway is how far ahead of the server's clock an activity's
	// timestamp may be (agents' clocks drift).
	FutureLeeway time.Duration
	// Writers is how many combined single-activity writes may run at once,
	// and WriteBatch how many posts one of them takes (see combiner).
	Writers, WriteBatch int
}

// LoadConfig reads ingest's settings.
func LoadConfig(e *config.Env) Config {
	return Config{
		MaxBulk:      e.Int("MAX_BULK_ACTIVITIES", 1000, 1, 100000),
		FutureLeeway: 5 * time.Minute,
		Writers:      e.Int("ACTIVITY_WRITERS", 2, 1, 256),
		WriteBatch:   e.Int("ACTIVITY_WRITE_BATCH", 256, 1, 10000),
	}
}

type server struct {
	cfg    Config
	store  *Store
	tokens *tokenCache
	now    func() time.Time
}

// NewServer returns ingest's API handler.
func NewServer(cfg Config, db *pgxpool.Pool, v *authn.Verifier, m *metrics.HTTP, reg prometheus.Registerer, clk clock.Clock) http.Handler {
	s := &server{cfg: cfg, store: &Store{db: db, clock: clk, writes: newCombiner(db, cfg.Writers, cfg.WriteBatch, reg)},
		tokens: newTokenCache(v, time.Minute, 100000), now: time.Now}
	return s.routes(m)
}
