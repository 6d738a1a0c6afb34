package report

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// Deps are what report's API runs on.
type Deps struct {
	Config   Config
	DB       *pgxpool.Pool
	Verifier *authn.Verifier
	Jobs     *Jobs
	// Runner runs the jobs the API triggers.
	Runner *Runner
	HTTP   *metrics.HTTP
	// Clock tells the tenants' "today" and when an alert is resolved.
	Clock clock.Clock
}

type server struct {
	cfg      Config
	db       *pgxpool.Pool
	verifier *authn.Verifier
	jobs     *Jobs
	runner   *Runner
	cache    *reportCache
	clock    clock.Clock
}

// NewServer returns report's API handler.
func NewServer(d Deps) http.Handler {
	s := &server{cfg: d.Config, db: d.DB, verifier: d.Verifier, jobs: d.Jobs, runner: d.Runner,
		cache: newReportCache(d.Config.ReportCacheBytes), clock: d.Clock}
	return s.routes(d.HTTP)
}
