// Package service runs the report service (`report serve`): its HTTP API,
// its event consumers and its background loops, on the clock it is given.
// The report binary runs it on the wall clock; the operator's tests run it
// on their own clock beside the operator, so that a simulated year sees
// the consumers and the corrections of late uploads as a cluster runs
// them.
package service

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/report/internal/report"
)

// Run serves until ctx ends, configured from lookup, deciding by the time
// on clk and logging to out; listening, when set, is told the API's
// address.
func Run(ctx context.Context, clk clock.Clock, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr)) error {
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, "report", ":3004")
	cfg := report.LoadConfig(env, common)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
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
			d.Registry.MustRegister(report.OpenAlertsMetric(d.DB, clk, metrics.ScrapeInterval))
			return &app.Service{
				API: report.NewServer(report.Deps{Config: cfg, DB: d.DB, Verifier: d.Verifier, Jobs: jobs, Runner: runner,
					HTTP: d.HTTP, Clock: clk}),
				OutboxTables: []string{report.OutboxTable},
				Workers:      append(consumers.Workers(d.KafkaConsumer, d.Consumer), runner.Run, jobs.RunCorrections, deliverer.Run),
			}, nil
		},
	})
}
