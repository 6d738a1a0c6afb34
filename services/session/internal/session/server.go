// Package session is the session service: projects and the lifecycle of
// work sessions (start, stop, the active one, history). Activity and the
// session totals belong to the ingest service.
package session

import (
	"net/http"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/tracking"
)

// Deps are what the session API is built from.
type Deps struct {
	DB       *pgxpool.Pool
	Verifier *authn.Verifier
	Metrics  *metrics.HTTP
	// Clock decides what "now" is: a session's default start and stop
	// time, and which times lie in the future or before the window.
	Clock clock.Clock
	// Window is the installation's accepted window (tracking.LoadWindow):
	// a start_time may lie no further back, unless the organization set
	// its own.
	Window time.Duration
	// MaxProjects caps each organization's projects (0: DefaultMaxProjects).
	MaxProjects int
}

// DefaultMaxProjects is MAX_PROJECTS_PER_ORGANIZATION's default.
const DefaultMaxProjects = 1000

type server struct {
	store    *Store
	verifier *authn.Verifier
	clock    clock.Clock
	windows  *tracking.Windows
}

// NewServer returns the session service's API handler.
func NewServer(d Deps) http.Handler {
	if d.MaxProjects <= 0 {
		d.MaxProjects = DefaultMaxProjects
	}
	s := &server{store: &Store{db: d.DB, clock: d.Clock, maxProjects: d.MaxProjects}, verifier: d.Verifier, clock: d.Clock,
		windows: tracking.NewWindows(d.DB, d.Clock, d.Window)}
	return s.routes(d.Metrics)
}
