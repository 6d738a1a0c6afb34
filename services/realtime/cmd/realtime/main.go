// Command realtime runs the WorkPulse realtime service.
package main

import (
	"context"

	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/realtime/internal/realtime"
)

func main() { app.Main("realtime", clock.Real, run) }

// run runs realtime as it is deployed.
var run = app.Spec[realtime.Config]{
	Name: "realtime", Addr: ":3005",
	Needs: app.Needs{Postgres: true, Redis: true, Kafka: true, JWKS: true},
	Config: func(env *config.Env, common *config.Common) realtime.Config {
		cfg := realtime.LoadConfig(env, *common)
		// WebSockets live for hours: the server must not cut them at a fixed
		// write deadline. Each connection sets its own deadline per write.
		common.WriteTimeout = 0
		return cfg
	},
	Build: func(ctx context.Context, d *app.Deps, cfg realtime.Config) (*app.Service, error) {
		s := realtime.NewServer(realtime.Deps{
			Config: cfg, DB: d.DB, Redis: d.Redis, Verifier: d.Verifier, Kafka: d.KafkaConsumer,
			Registry: d.Registry, HTTP: d.HTTP, Log: d.Logger, Service: d.Config.Service, Consumer: d.Consumer, Clock: d.Clock,
			// ctx ending is what starts the HTTP server's drain.
			Draining: ctx.Done(),
		})
		d.Health.Add("feeds", s.Ready)
		return &app.Service{API: s, Workers: s.Workers()}, nil
	},
}.Run
