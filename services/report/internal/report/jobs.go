package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
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
	// Now is the clock; tests set it.
	Now func() time.Time
}

// NewJobs returns the jobs over db.
func NewJobs(db *pgxpool.Pool, cfg Config, log *slog.Logger) *Jobs {
	return &Jobs{db: db, cfg: cfg, log: log, Now: time.Now}
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
		start := time.Now()
		if err := fn(ctx, org); err != nil {
			j.log.Error("job failed for tenant", "job", job, "organization_id", org, "err", err)
			errs = append(errs, fmt.Errorf("organization %s: %w", org, err))
			continue
		}
		j.log.Info("job done for tenant", "job", job, "organization_id", org, "duration_ms", time.Since(start).Milliseconds())
	}
	return errors.Join(errs...)
}
