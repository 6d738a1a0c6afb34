package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

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
// empty) on Config.JobWorkers workers at once, continuing past failures,
// and returns every failure. One slow or huge tenant (thousands of open
// sessions, a lock held by a triggered job) holds one worker while the
// others work through every other tenant: it delays nobody by its own
// duration.
func (j *Jobs) ForTenants(ctx context.Context, job string, orgs []string, fn func(ctx context.Context, org string) error) error {
	if len(orgs) == 0 {
		var err error
		if orgs, err = TenantIDs(ctx, j.db); err != nil {
			return fmt.Errorf("list tenants: %w", err)
		}
	}
	var mu sync.Mutex
	var errs []error
	onWorkers(j.cfg.JobWorkers, orgs, func(org string) bool {
		if ctx.Err() != nil {
			return false
		}
		start := j.clock.Now()
		if err := fn(ctx, org); err != nil {
			j.log.Error("job failed for tenant", "job", job, "organization_id", org, "err", err)
			mu.Lock()
			errs = append(errs, fmt.Errorf("organization %s: %w", org, err))
			mu.Unlock()
			return false
		}
		j.log.Info("job done for tenant", "job", job, "organization_id", org, "duration_ms", clock.Since(j.clock, start).Milliseconds())
		return false
	})
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// onWorkers calls do for every item on at most n goroutines at once and
// returns when every item is done. An item for which do returns true
// (its turn is over but work remains) goes back to the end of the queue,
// so that items take turns.
func onWorkers[T any](n int, items []T, do func(T) (again bool)) {
	if len(items) == 0 {
		return
	}
	// Every item is either queued or being done, so putting one back
	// never blocks.
	queue := make(chan T, len(items))
	for _, it := range items {
		queue <- it
	}
	left := atomic.Int64{}
	left.Store(int64(len(items)))
	var wg sync.WaitGroup
	for range max(1, min(n, len(items))) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range queue {
				if do(it) {
					queue <- it
					continue
				}
				if left.Add(-1) == 0 {
					close(queue)
				}
			}
		}()
	}
	wg.Wait()
}
