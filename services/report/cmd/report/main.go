// Command report runs the WorkPulse report service (`report` or `report
// serve`) and its scheduled jobs (`report daily-summary`, `report
// idle-detection`, `report overtime-check`), which the operator's
// CronJobs run. A job exits 0 on success and 1 after logging why it
// failed; a usage error exits 2.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/logging"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/process"
	"github.com/workpulse/workpulse/services/report/internal/report"
)

func main() {
	process.Main("report", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, nil, clock.Real)
	})
}

const usage = `usage:
  report [serve]                                   run the HTTP service and its event consumers
  report daily-summary (--org ID | --all) [--date YYYY-MM-DD]
                                                   summarize one tenant-local date, or without --date
                                                   every day since the last completed one through yesterday
  report daily-summary --due                       for every organization, each local day that has ended
                                                   and is not summarized yet, organizations taking turns
  report idle-detection [--org ID | --all]         raise idle alerts (default: every tenant)
  report overtime-check [--org ID | --all]         raise overtime alerts (default: every tenant)`

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg + "\n" + usage }

// ExitCode tells process.Main that a usage error exits 2, as for flags.
func (usageError) ExitCode() int { return 2 }

// run runs one command; every decision it makes by the time reads clk.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, "report", ":3004")
	cfg := report.LoadConfig(env, common)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	switch cmd {
	case "serve":
		if len(args) > 0 {
			return usageError{"serve takes no arguments"}
		}
		return serve(ctx, clk, common, cfg, out, listening)
	case report.JobDailySummary, report.JobIdleDetection, report.JobOvertimeCheck:
		j, err := parseJob(cmd, args)
		if err != nil {
			return err
		}
		return runJob(ctx, clk, j, common, cfg, out)
	case "help", "-h", "--help":
		fmt.Fprintln(out, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

func serve(ctx context.Context, clk clock.Clock, common config.Common, cfg report.Config, out io.Writer, listening func(net.Addr)) error {
	return app.Run(ctx, app.Options{
		Clock:  clk,
		Config: common, Log: out, Listening: listening,
		Needs: app.Needs{Postgres: true, Kafka: true, JWKS: true},
		Build: func(ctx context.Context, d *app.Deps) (*app.Service, error) {
			jobs := report.NewJobs(d.DB, cfg, d.Logger, clk)
			runner := report.NewRunner(d.DB, jobs, d.Logger, clk)
			consumers := report.NewConsumers(d.DB, d.Logger, clk)
			n, err := report.ResealWebhookSecrets(ctx, d.DB, cfg.SecretCipher)
			if err != nil {
				return nil, err
			}
			if n > 0 {
				d.Logger.Info("webhook secrets sealed with the current key", "count", n)
			}
			deliverer := report.NewDeliverer(d.DB, nil, cfg, d.Logger, clk)
			d.Registry.MustRegister(deliverer.Collectors()...)
			d.Registry.MustRegister(report.ReconciliationMetric(d.DB, d.Logger))
			return &app.Service{
				API: report.NewServer(report.Deps{Config: cfg, DB: d.DB, Verifier: d.Verifier, Jobs: jobs, Runner: runner,
					HTTP: d.HTTP, Clock: clk}),
				OutboxTables: []string{report.OutboxTable},
				Workers:      append(consumers.Workers(common.KafkaBrokers, d.KafkaSecurity, common.KafkaMaxAttempts, d.Consumer), runner.Run, jobs.RunCorrections, deliverer.Run),
			}, nil
		},
	})
}

// jobArgs is a parsed job command line.
type jobArgs struct {
	name string
	orgs []string // empty: every tenant
	date *time.Time
	// due: every organization's ended days not summarized yet, fairly.
	due bool
}

func parseJob(name string, args []string) (jobArgs, error) {
	j := jobArgs{name: name}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	org := fs.String("org", "", "organization id")
	all := fs.Bool("all", false, "every tenant")
	date := ""
	if name == report.JobDailySummary {
		fs.StringVar(&date, "date", "", "tenant-local date YYYY-MM-DD")
		fs.BoolVar(&j.due, "due", false, "every organization's ended days not summarized yet")
	}
	if err := fs.Parse(args); err != nil {
		return j, usageError{name + ": " + err.Error()}
	}
	if fs.NArg() > 0 {
		return j, usageError{fmt.Sprintf("%s: unexpected argument %q", name, strings.Join(fs.Args(), " "))}
	}
	switch {
	case j.due && (*org != "" || *all || date != ""):
		return j, usageError{name + ": --due takes no --org, --all or --date"}
	case j.due:
		return j, nil
	case *org != "" && *all:
		return j, usageError{name + ": give --org or --all, not both"}
	case *org != "":
		if _, err := uuid.Parse(*org); err != nil {
			return j, usageError{fmt.Sprintf("%s: --org %q is not an organization id (UUID)", name, *org)}
		}
		j.orgs = []string{*org}
	case !*all && name == report.JobDailySummary:
		return j, usageError{name + ": give --org ID, --all or --due"}
	}
	if date != "" {
		d, err := time.Parse(time.DateOnly, date)
		if err != nil {
			return j, usageError{fmt.Sprintf("%s: --date %q is not a date YYYY-MM-DD", name, date)}
		}
		j.date = &d
	}
	return j, nil
}

// runJob runs one job over its tenants and logs one line per tenant and
// one for the outcome.
func runJob(ctx context.Context, clk clock.Clock, j jobArgs, common config.Common, cfg report.Config, out io.Writer) error {
	log := logging.New(out, "report", common.LogLevel).With("job", j.name)
	start := clk.Now()
	err := func() error {
		db, err := pg.Connect(ctx, common.DatabaseURL, pg.Login{User: common.DatabaseUser, Password: common.DatabasePassword}, min(common.DatabaseMaxConn, cfg.JobWorkers))
		if err != nil {
			return err
		}
		defer db.Close()
		if err := db.Ping(ctx); err != nil {
			return fmt.Errorf("database: %w", err)
		}
		jobs := report.NewJobs(db, cfg, log, clk)
		if j.name == report.JobIdleDetection {
			// The most frequent job also forgets old consumed event ids.
			n, err := jobs.PruneProcessedEvents(ctx)
			if err != nil {
				return fmt.Errorf("prune processed events: %w", err)
			}
			log.Info("pruned processed events", "deleted", n)
		}
		if j.due {
			return summarizeDue(ctx, jobs, log)
		}
		return jobs.ForTenants(ctx, j.name, j.orgs, func(ctx context.Context, org string) error {
			var res any
			var err error
			switch {
			case j.name == report.JobDailySummary && j.date != nil:
				res, err = jobs.SummarizeDate(ctx, org, *j.date)
			case j.name == report.JobDailySummary:
				res, err = jobs.CatchUp(ctx, org)
			case j.name == report.JobIdleDetection:
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
		return fmt.Errorf("%s failed: %w", j.name, err)
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
