package main

import (
	"context"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
)

// Schedules are how often make dev runs the report service's scheduled
// commands and the storage maintenance. The defaults are the schedules of
// the operator's install-wide CronJobs and of its storage pass, so that a
// stack left running keeps every organization's storage, alerts and
// summaries as a cluster does; tests shorten them.
type Schedules struct {
	IdleDetection time.Duration // DEV_IDLE_DETECTION_EVERY
	OvertimeCheck time.Duration // DEV_OVERTIME_CHECK_EVERY
	DailySummary  time.Duration // DEV_DAILY_SUMMARY_EVERY
	// StorageMaintenance is how often the shared tree's months and each
	// organization's retention are maintained (DEV_STORAGE_MAINTENANCE_EVERY).
	StorageMaintenance time.Duration
}

func loadSchedules(env *config.Env) Schedules {
	every := func(key string, def time.Duration) time.Duration {
		return env.Duration(key, def, time.Second, 24*time.Hour)
	}
	return Schedules{
		IdleDetection: every("DEV_IDLE_DETECTION_EVERY", 2*time.Minute),
		OvertimeCheck: every("DEV_OVERTIME_CHECK_EVERY", 30*time.Minute),
		DailySummary:  every("DEV_DAILY_SUMMARY_EVERY", 15*time.Minute),

		StorageMaintenance: every("DEV_STORAGE_MAINTENANCE_EVERY", time.Hour),
	}
}

// scheduledJob is one command of the report binary and how often it runs.
type scheduledJob struct {
	args  []string
	every time.Duration
}

// jobs are the commands the operator's install-wide CronJobs run.
func (s Schedules) jobs() []scheduledJob {
	return []scheduledJob{
		{[]string{"idle-detection"}, s.IdleDetection},
		{[]string{"overtime-check"}, s.OvertimeCheck},
		{[]string{"daily-summary", "--due"}, s.DailySummary},
	}
}

// nextRun is the first multiple of every since the epoch after now: a
// 15-minute job runs at :00, :15, :30 and :45 UTC, as "*/15 * * * *" does.
func nextRun(now time.Time, every time.Duration) time.Time {
	return now.Truncate(every).Add(every)
}

// runSchedules runs each scheduled job of the report binary with env on
// its schedule until ctx ends, one run of a job at a time (a CronJob's
// Forbid); wait returns once every run has ended.
func (s *Stack) runSchedules(ctx context.Context, clk clock.Clock, env []string) (wait func()) {
	var wg sync.WaitGroup
	bin := filepath.Join(s.cfg.BinDir, "report")
	for _, j := range s.cfg.Schedules.jobs() {
		name := strings.Join(j.args, " ")
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				t := time.NewTimer(clock.Until(clk, nextRun(clk.Now(), j.every)))
				select {
				case <-ctx.Done():
					t.Stop()
					return
				case <-t.C:
				}
				cmd := exec.CommandContext(ctx, bin, j.args...)
				w := &prefixWriter{s: s, name: "job"}
				cmd.Env, cmd.Stdout, cmd.Stderr = env, w, w
				if err := cmd.Run(); err != nil && ctx.Err() == nil {
					s.logf("job", "report %s failed (%v); it runs again in %s", name, err, j.every)
				}
			}
		}()
	}
	return wg.Wait
}
