// Command ingest runs the WorkPulse ingest service.
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"

	"github.com/workpulse/workpulse/services/ingest/internal/ingest"
	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/tracking"
)

func main() { app.Main("ingest", clock.Real, run) }

func run(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, "ingest", ":3003")
	cfg := ingest.LoadConfig(env)
	if _, set := lookup("MAX_BODY_BYTES"); !set {
		// A full batch of items with the longest URLs is about 2.2 KiB an
		// item; the platform default (2 MiB) would refuse it.
		common.MaxBodyBytes = max(common.MaxBodyBytes, int64(cfg.MaxBulk)*2560)
	}
	pprofAddr := env.String("PPROF_ADDR", "")
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	if pprofAddr != "" {
		// Profiling of the hot path, on a separate, private address only
		// when asked for; never on the API port.
		go func() { fmt.Fprintln(os.Stderr, "ingest: pprof:", http.ListenAndServe(pprofAddr, nil)) }()
	}
	return app.Run(ctx, app.Options{
		Clock:  clk,
		Config: common, Log: out, Listening: listening,
		Needs: app.Needs{Postgres: true, Kafka: true, JWKS: true},
		Build: func(ctx context.Context, d *app.Deps) (*app.Service, error) {
			tenants := tracking.TenantConsumer(d.DB, common.KafkaBrokers, d.KafkaSecurity, common.KafkaMaxAttempts, "ingest-tenants", d.Consumer, d.Logger)
			return &app.Service{
				API:          ingest.NewServer(ingest.Deps{Config: cfg, DB: d.DB, Verifier: d.Verifier, Metrics: d.HTTP, Registerer: d.Registry, Clock: d.Clock}),
				OutboxTables: []string{tracking.OutboxTable},
				Workers:      []func(context.Context) error{tenants.Run},
			}, nil
		},
	})
}
