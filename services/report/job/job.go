// Package job runs the report service's scheduled jobs, the commands the
// operator's CronJobs give the report image (`daily-summary`,
// `idle-detection`, `overtime-check`), on the clock it is given. The
// report binary runs them on the wall clock; the operator's tests run a
// tenant's CronJobs through it on their own clock, as a cluster would run
// them over months.
package job

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/logging"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/report/internal/report"
)

// dbReachWithin bounds how long a job waits for PostgreSQL at start: well past
// a NetworkPolicy enforcer's sync of a new pod (about a second) and a server
// restart, well within a CronJob's schedule.
const dbReachWithin = 30 * time.Second

// Is tells whether cmd names a job.
func Is(cmd string) bool {
	return cmd == report.JobDailySummary || cmd == report.JobIdleDetection || cmd == report.JobOvertimeCheck
}

// UsageError is a command line that names no valid job.
type UsageError struct{ Msg string }

func (u UsageError) Error() string { return u.Msg }

// Run runs the job command line args (the job's name, then its flags),
// configured from lookup as the report service is, deciding by the time
// on clk, and logs to out.
func Run(ctx context.Context, clk clock.Clock, args []string, lookup func(string) (string, bool), out io.Writer) error {
	if len(args) == 0 || !Is(args[0]) {
		return UsageError{fmt.Sprintf("%q is not a job", strings.Join(args, " "))}
	}
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, "report", ":3004")
	cfg := report.LoadConfig(env, common)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	j, err := Parse(args[0], args[1:])
	if err != nil {
		return err
	}
	return run(ctx, clk, j, common, cfg, out)
}

// Args is a parsed job command line.
type Args struct {
	Name string
	// Orgs are the organizations to run for; empty: every tenant.
	Orgs []string
	Date *time.Time
	// Due: every organization's ended days not summarized yet, fairly.
	Due bool
}

// Parse parses the flags of job name.
func Parse(name string, args []string) (Args, error) {
	j := Args{Name: name}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	org := fs.String("org", "", "organization id")
	all := fs.Bool("all", false, "every tenant")
	date := ""
	if name == report.JobDailySummary {
		fs.StringVar(&date, "date", "", "tenant-local date YYYY-MM-DD")
		fs.BoolVar(&j.Due, "due", false, "every organization's ended days not summarized yet")
	}
	if err := fs.Parse(args); err != nil {
		return j, UsageError{name + ": " + err.Error()}
	}
	if fs.NArg() > 0 {
		return j, UsageError{fmt.Sprintf("%s: unexpected argument %q", name, strings.Join(fs.Args(), " "))}
	}
	switch {
	case j.Due && (*org != "" || *all || date != ""):
		return j, UsageError{name + ": --due takes no --org, --all or --date"}
	case j.Due:
		return j, nil
	case *org != "" && *all:
		return j, UsageError{name + ": give --org or --all, not both"}
	case *org != "":
		if _, err := uuid.Parse(*org); err != nil {
			return j, UsageError{fmt.Sprintf("%s: --org %q is not an organization id (UUID)", name, *org)}
		}
		j.Orgs = []string{*org}
	case !*all && name == report.JobDailySummary:
		return j, UsageError{name + ": give --org ID, --all or --due"}
	}
	if date != "" {
		d, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return j, UsageError{fmt.Sprintf("%s: --date %q is not a date YYYY-MM-DD", name, date)}
		}
		j.Date = &d
	}
	return j, nil
}

// run runs one job over its tenants and logs one line per tenant and one
// for the outcome.
func run(ctx context.Context, clk clock.Clock, j Args, common config.Common, cfg report.Config, out io.Writer) error {
	log := logging.New(out, "report", common.LogLevel).With("job", j.Name)
	start := clk.Now()
	err := func() error {
		db, err := pg.Connect(ctx, common.DatabaseURL, pg.Login{User: common.DatabaseUser, Password: common.DatabasePassword}, min(common.DatabaseMaxConn, cfg.JobWorkers))
		if err != nil {
			return err
		}
		defer db.Close()
		// A job's pod runs for moments: it waits for the database rather than fail at once.
		if err := pg.WaitReachable(ctx, db.Ping, dbReachWithin); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		jobs := report.NewJobs(db, cfg, log, clk)
		if j.Name == report.JobIdleDetection {
			// The most frequent job also forgets old consumed event ids.
			n, err := jobs.PruneProcessedEvents(ctx)
			if err != nil {
				return fmt.Errorf("prune processed events: %w", err)
			}
			log.Info("pruned processed events", "deleted", n)
		}
		if j.Due {
			return summarizeDue(ctx, jobs, log)
		}
		return jobs.ForTenants(ctx, j.Name, j.Orgs, func(ctx context.Context, org string) error {
			var res any
			var err error
			switch {
			case j.Name == report.JobDailySummary && j.Date != nil:
				res, err = jobs.SummarizeDate(ctx, org, *j.Date)
			case j.Name == report.JobDailySummary:
				res, err = jobs.CatchUp(ctx, org)
			case j.Name == report.JobIdleDetection:
				res, err = jobs.DetectIdle(ctx, org)
			default:
				res, err = jobs.CheckOvertime(ctx, org)
			}
			if err == nil {
				log.Info("tenant result", "organization_id", org, "result", res)
			}
			return err
		})
	}()
	if err != nil {
		log.Error("job failed", "duration_ms", clock.Since(clk, start).Milliseconds(), "err", err)
		return fmt.Errorf("%s failed: %w", j.Name, err)
	}
	log.Info("job succeeded", "duration_ms", clock.Since(clk, start).Milliseconds())
	return nil
}

// summarizeDue runs daily-summary --due over every organization and logs
// what it did in one line.
func summarizeDue(ctx context.Context, jobs *report.Jobs, log *slog.Logger) error {
	orgs, err := jobs.DueOrganizations(ctx)
	if err != nil {
		return fmt.Errorf("list tenants: %w", err)
	}
	res, err := jobs.SummarizeDue(ctx, orgs)
	log.Info("due summaries", "organizations", res.Organizations, "days", len(res.Days), "deferred", len(res.Deferred))
	return err
}
