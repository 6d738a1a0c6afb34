package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// Job names, as the CLI subcommands and the jobs table spell them.
const (
	JobDailySummary  = "daily-summary"
	JobIdleDetection = "idle-detection"
	JobOvertimeCheck = "overtime-check"
)

// Jobs runs the scheduled work of one tenant at a time; every query of a
// tenant runs in pg.InOrg, so row-level security holds for jobs too.
type Jobs struct {
	db  *pgxpool.Pool
	cfg Config
	log *slog.Logger
	// clock tells "today", what is idle, what is overtime and what is old.
	clock clock.Clock
}

// NewJobs returns the jobs over db, deciding by the time on clk.
func NewJobs(db *pgxpool.Pool, cfg Config, log *slog.Logger, clk clock.Clock) *Jobs {
	return &Jobs{db: db, cfg: cfg, log: log, clock: clk}
}

// ForTenants runs fn for each of orgs (every known tenant when orgs is
// empty), continuing past failures so that one broken tenant does not
// starve the others, and returns every failure.
func (j *Jobs) ForTenants(ctx context.Context, job string, orgs []string, fn func(ctx context.Context, org string) error) error {
	if len(orgs) == 0 {
		var err error
		if orgs, err = TenantIDs(ctx, j.db); err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
	}
	var errs []error
	for _, org := range orgs {
		if ctx.Err() != nil {
			errs = append(errs, ctx.Err())
			break
		}
		start := j.clock.Now()
		if err := fn(ctx, org); err != nil {
			j.log.Error("job failed for tenant", "job", job, "organization_id", org, "err", err)
			errs = append(errs, fmt.Errorf("organization %s: %w", org, err))
			continue
		}
		j.log.Info("job done for tenant", "job", job, "organization_id", org, "duration_ms", clock.Since(j.clock, start).Milliseconds())
	}
	return errors.Join(errs...)
}
