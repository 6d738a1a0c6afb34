// Package session is the session service: projects and the lifecycle of
// work sessions (start, stop, the active one, history). Activity and the
// session totals belong to the ingest service.
package session

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// Deps are what the session API is built from.
type Deps struct {
	DB       *pgxpool.Pool
	Verifier *authn.Verifier
	Metrics  *metrics.HTTP
	// Clock decides what "now" is: a session's default start and stop
	// time, and which times lie in the future.
	Clock clock.Clock
}

type server struct {
	store    *Store
	verifier *authn.Verifier
	clock    clock.Clock
}

// NewServer returns the session service's API handler.
func NewServer(d Deps) http.Handler {
	s := &server{store: &Store{db: d.DB, clock: d.Clock}, verifier: d.Verifier, clock: d.Clock}
	return s.routes(d.Metrics)
}
