// Command web serves the WorkPulse web app.
package main

import (
	"context"

	"github.com/workpulse/workpulse/services/platform/apidocs"
	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/web/internal/web"
)

func main() { app.Main("web", clock.Real, run) }

// run runs web as it is deployed. It needs no database, Redis or Kafka:
// the app talks to the API from the browser.
var run = app.Spec[struct{}]{
	Name: "web", Addr: ":3006",
	Build: func(_ context.Context, d *app.Deps, _ struct{}) (*app.Service, error) {
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
}.Run
