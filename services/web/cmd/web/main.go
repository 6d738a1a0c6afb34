// Command web serves the WorkPulse web app.
package main

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/workpulse/workpulse/services/platform/apidocs"
	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/web/internal/web"
)

func main() { app.Main("web", clock.Real, run) }

// run runs the service on clk. It needs no database, Redis or Kafka: the
// app talks to the API from the browser.
func run(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	env := config.NewEnv(lookup)
	common := config.LoadCommon(env, "web", ":3006")
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	return app.Run(ctx, app.Options{
		Clock:  clk,
		Config: common, Log: out, Listening: listening,
		Build: func(ctx context.Context, d *app.Deps) (*app.Service, error) {
			built := web.Built()
			if built == nil {
				d.Logger.Warn("the web app is not built into this binary: every page answers a notice; run make build")
			}
			docs := apidocs.Built()
			if docs == nil {
				d.Logger.Warn("the API docs page's assets are not built into this binary: /api/docs answers a notice; run make build")
			}
			h, err := web.NewServer(web.Deps{App: built, Docs: docs, HTTP: d.HTTP})
			if err != nil {
				return nil, err
			}
			return &app.Service{API: h}, nil
		},
	})
}
