// Command session runs the WorkPulse session service.
package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/session/internal/session"
	"github.com/workpulse/workpulse/services/tracking"
)

func main() { app.Main("session", clock.Real, run) }

func run(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, "session", ":3002")
	window := tracking.LoadWindow(env)
	maxProjects := env.Int("MAX_PROJECTS_PER_ORGANIZATION", session.DefaultMaxProjects, 1, 1_000_000)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return app.Run(ctx, app.Options{
		Clock:  clk,
		Config: common, Log: out, Listening: listening,
		Needs: app.Needs{Postgres: true, Kafka: true, JWKS: true},
		Build: func(ctx context.Context, d *app.Deps) (*app.Service, error) {
			tenants := tracking.TenantConsumer(d.DB, common.KafkaBrokers, d.KafkaSecurity, common.KafkaMaxAttempts, "session-tenants", d.Consumer, d.Logger)
			d.Registry.MustRegister(session.ActiveSessionsGauge(d.DB))
			return &app.Service{
				API: session.NewServer(session.Deps{DB: d.DB, Verifier: d.Verifier, Metrics: d.HTTP, Clock: d.Clock, Window: window,
					MaxProjects: maxProjects}),
				OutboxTables: []string{tracking.OutboxTable},
				Workers:      []func(context.Context) error{tenants.Run},
			}, nil
		},
	})
}
