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
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/tracking"
)

// Deps are what the ingest API is built from.
type Deps struct {
	Config   Config
	DB       *pgxpool.Pool
	Verifier *authn.Verifier
	Metrics  *metrics.HTTP
	// Registerer takes the group commit's metrics.
	Registerer prometheus.Registerer
	// Clock decides which activity timestamps lie too far in the future or
	// the past and how long a verified token stays cached.
	Clock clock.Clock
	// Redactions are the organizations' redaction rules, polled by the
	// caller (see Redactions.Run) and applied to every activity.
	Redactions *Redactions
}

type server struct {
	cfg     Config
	store   *Store
	tokens  *tokenCache
	clock   clock.Clock
	windows *tracking.Windows
	locks   *tracking.Locks
	// verifier authenticates the admin routes, which take no device token.
	verifier   *authn.Verifier
	redactions *Redactions
}

// NewServer returns ingest's API handler.
func NewServer(d Deps) http.Handler {
	s := &server{cfg: d.Config, clock: d.Clock, windows: tracking.NewWindows(d.DB, d.Clock, d.Config.Window),
		locks:    tracking.NewLocks(d.DB, d.Clock),
		verifier: d.Verifier, redactions: d.Redactions,
		store:  &Store{db: d.DB, clock: d.Clock, writes: newCombiner(d.DB, d.Config.Writers, d.Config.WriteBatch, d.Registerer)},
		tokens: newTokenCache(d.Verifier, time.Minute, 100000, d.Clock)}
	return s.routes(d.Metrics)
}
