// Command web serves the WorkPulse web app.
package main

import (
	"context"
	"fmt"

	"github.com/workpulse/workpulse/services/platform/apidocs"
	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	appconfig "github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/frontdoor"
	"github.com/workpulse/workpulse/services/web/internal/web"
)

func main() { app.Main("web", clock.Real, run) }

// config is web's own settings.
type config struct {
	// backends (FRONT_DOOR_BACKENDS, "service=url,..."): set, web is the
	// front door and proxies every path of those services to them; empty,
	// it serves the app and the API docs only, behind an Ingress that
	// routes the API itself.
	backends map[string]string
	// affinity (FRONT_DOOR_AFFINITY, "service=url,..."): for each service
	// named, a URL whose host name resolves to every replica (a headless
	// Service) and whose port they listen on; the service's Socket.IO
	// sessions then stay on one replica each, by the cookie
	// workpulse-<service>. Empty: they go through the service's Service.
	affinity map[string]string
}

// run runs web as it is deployed. It needs no database, Redis or Kafka:
// the app talks to the API from the browser.
var run = app.Spec[config]{
	Name: "web", Addr: ":3006",
	Config: func(e *appconfig.Env, _ *appconfig.Common) config {
		backends := e.Pairs("FRONT_DOOR_BACKENDS")
		if _, ok := backends["web"]; ok {
			// web serves its own paths; a backend for them would loop.
			e.Fail("FRONT_DOOR_BACKENDS", "names web itself")
		}
		return config{backends: backends, affinity: e.Pairs("FRONT_DOOR_AFFINITY")}
	},
	Build: func(_ context.Context, d *app.Deps, cfg config) (*app.Service, error) {
		built := web.Built()
		if built == nil {
			d.Logger.Warn("the web app is not built into this binary: every page answers a notice; run make build")
		}
		docs := apidocs.Built()
		if docs == nil {
			d.Logger.Warn("the API docs page's assets are not built into this binary: /api/docs answers a notice; run make build")
		}
		front, err := frontdoor.New(cfg.backends, frontdoor.Options{Affinity: cfg.affinity, Clock: d.Clock})
		if err != nil {
			return nil, fmt.Errorf("FRONT_DOOR_BACKENDS or FRONT_DOOR_AFFINITY: %w", err)
		}
		h, err := web.NewServer(web.Deps{App: built, Docs: docs, HTTP: d.HTTP, FrontDoor: front})
		if err != nil {
			return nil, err
		}
		return &app.Service{API: h}, nil
	},
}.Run
