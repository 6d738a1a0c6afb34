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

type server struct {
	store    *Store
	verifier *authn.Verifier
}

// NewServer returns the session service's API handler.
func NewServer(db *pgxpool.Pool, v *authn.Verifier, m *metrics.HTTP, clk clock.Clock) http.Handler {
	s := &server{store: &Store{db: db, clock: clk}, verifier: v}
	return s.routes(m)
}
