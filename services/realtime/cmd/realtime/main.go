// Command realtime runs the WorkPulse realtime service.
package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/realtime/internal/realtime"
)

func main() { app.Main("realtime", clock.Real, run) }

// run runs the service on clk.
func run(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, "realtime", ":3005")
	cfg := realtime.LoadConfig(env, common)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	// WebSockets live for hours: the server must not cut them at a fixed
	// write deadline. Each connection sets its own deadline per write.
	common.WriteTimeout = 0
	return app.Run(ctx, app.Options{
		Clock:  clk,
		Config: common, Log: out, Listening: listening,
		Needs: app.Needs{Postgres: true, Redis: true, Kafka: true, JWKS: true},
		Build: func(ctx context.Context, d *app.Deps) (*app.Service, error) {
			s := realtime.NewServer(realtime.Deps{
				Config: cfg, DB: d.DB, Redis: d.Redis, Verifier: d.Verifier, Brokers: common.KafkaBrokers, KafkaSecurity: d.KafkaSecurity, KafkaMaxAttempts: common.KafkaMaxAttempts,
				Registry: d.Registry, HTTP: d.HTTP, Log: d.Logger, Service: common.Service, Consumer: d.Consumer, Clock: clk,
				// ctx ending is what starts the HTTP server's drain.
				Draining: ctx.Done(),
			})
			d.Health.Add("presence_feed", s.Ready)
			return &app.Service{API: s, Workers: s.Workers()}, nil
		},
	})
}
