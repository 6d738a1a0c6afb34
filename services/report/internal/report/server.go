package report

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

type server struct {
	cfg      Config
	db       *pgxpool.Pool
	verifier *authn.Verifier
	jobs     *Jobs
	runner   *Runner
	cache    *reportCache
}

// NewServer returns report's API handler; triggered jobs run on runner.
func NewServer(cfg Config, db *pgxpool.Pool, verifier *authn.Verifier, jobs *Jobs, runner *Runner, m *metrics.HTTP) http.Handler {
	s := &server{cfg: cfg, db: db, verifier: verifier, jobs: jobs, runner: runner, cache: newReportCache(cfg.ReportCacheBytes)}
	return s.routes(m)
}
