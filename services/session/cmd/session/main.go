// Command session runs the WorkPulse session service.
package main

import (
	"context"
	"time"

	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/session/internal/session"
	"github.com/workpulse/workpulse/services/tracking"
)

func main() { app.Main("session", clock.Real, run) }

// settings are session's own settings.
type settings struct {
	window      time.Duration
	maxProjects int
}

// run runs session as it is deployed.
var run = app.Spec[settings]{
	Name: "session", Addr: ":3002",
	Needs: app.Needs{Postgres: true, Kafka: true, JWKS: true},
	Config: func(env *config.Env, _ *config.Common) settings {
		return settings{window: tracking.LoadWindow(env),
			maxProjects: env.Int("MAX_PROJECTS_PER_ORGANIZATION", session.DefaultMaxProjects, 1, 1_000_000)}
	},
	Build: func(_ context.Context, d *app.Deps, s settings) (*app.Service, error) {
		tenants := tracking.TenantConsumer(d.DB, d.KafkaConsumer, "session-tenants", d.Consumer, d.Logger)
		users := tracking.UserConsumer(d.DB, d.KafkaConsumer, "session-users", session.MemberRemover(d.DB, d.Clock), d.Consumer, d.Logger)
		d.Registry.MustRegister(session.ActiveSessionsGauge(d.DB))
		d.Registry.MustRegister(session.BusinessMetrics(d.DB, d.Clock, metrics.ScrapeInterval))
		return &app.Service{
			API: session.NewServer(session.Deps{DB: d.DB, Verifier: d.Verifier, Metrics: d.HTTP, Clock: d.Clock, Window: s.window,
				MaxProjects: s.maxProjects}),
			OutboxTables: []string{tracking.OutboxTable},
			Workers:      []func(context.Context) error{tenants.Run, users.Run},
		}, nil
	},
}.Run
