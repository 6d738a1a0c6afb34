// Command ingest runs the WorkPulse ingest service.
package main

import (
	"context"
	"fmt"
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

// settings are ingest's own settings.
type settings struct {
	ingest.Config
	pprofAddr string
}

// run runs ingest as it is deployed.
var run = app.Spec[settings]{
	Name: "ingest", Addr: ":3003",
	Needs: app.Needs{Postgres: true, Kafka: true, JWKS: true},
	Config: func(env *config.Env, common *config.Common) settings {
		cfg := ingest.LoadConfig(env, *common)
		if !env.Has("MAX_BODY_BYTES") {
			// A full batch of items with the longest URLs is about 2.2 KiB an
			// item; the platform default (2 MiB) would refuse it.
			common.MaxBodyBytes = max(common.MaxBodyBytes, int64(cfg.MaxBulk)*2560)
		}
		return settings{Config: cfg, pprofAddr: env.String("PPROF_ADDR", "")}
	},
	Build: func(ctx context.Context, d *app.Deps, s settings) (*app.Service, error) {
		if s.pprofAddr != "" {
			// Profiling of the hot path, on a separate, private address only
			// when asked for; never on the API port.
			go func() { fmt.Fprintln(os.Stderr, "ingest: pprof:", http.ListenAndServe(s.pprofAddr, nil)) }()
		}
		tenants := tracking.TenantConsumer(d.DB, d.KafkaConsumer, "ingest-tenants", d.Consumer, d.Logger)
		users := tracking.UserConsumer(d.DB, d.KafkaConsumer, "ingest-users", tracking.EraseActivity, d.Consumer, d.Logger)
		redactions := ingest.NewRedactions(d.DB, d.Logger)
		// Until the rules are read, posts are refused (503) rather than
		// stored unredacted; a failure here is PostgreSQL being down,
		// which the poll outlives.
		if err := redactions.Poll(ctx); err != nil {
			d.Logger.Warn("redaction rules not read at start; refusing activity until a poll reads them", "err", err)
		}
		poll := func(ctx context.Context) error { return redactions.Run(ctx, d.Config.RevocationPoll) }
		return &app.Service{
			API: ingest.NewServer(ingest.Deps{Config: s.Config, DB: d.DB, Verifier: d.Verifier, Metrics: d.HTTP, Registerer: d.Registry,
				Clock: d.Clock, Redactions: redactions}),
			OutboxTables: []string{tracking.OutboxTable},
			Workers:      []func(context.Context) error{tenants.Run, users.Run, poll},
		}, nil
	},
}.Run
