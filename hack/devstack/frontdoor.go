package main

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/frontdoor"
	"github.com/workpulse/workpulse/services/platform/health"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// FrontDoor is the cluster's front door (services/platform/frontdoor, which
// the web service runs there) in front of every service, answering
// /api/health for the whole stack itself.
type FrontDoor struct {
	proxy *frontdoor.Proxy
	// health answers /api/health, in the services' envelope.
	health http.Handler
}

// NewFrontDoor proxies to backends (service name to base URL); /api/health
// reports deps and every service of the routing table, in envelope (the
// services' API_ENVELOPE), as auth answers it in a cluster. The devstack
// answers CORS for the stack.
func NewFrontDoor(backends map[string]string, deps map[string]health.Check, envelope string) (*FrontDoor, error) {
	proxy, err := frontdoor.New(backends, frontdoor.Options{AnswersCORS: true})
	if err != nil {
		return nil, err
	}
	checks := health.NewChecker()
	for name, check := range deps {
		checks.Add(name, check)
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for _, svc := range routes.Services {
		base, ok := backends[svc.Name]
		if !ok {
			checks.Add(svc.Name, func(context.Context) error { return errors.New("not running") })
			continue
		}
		checks.Add(svc.Name, health.Peer(client, base+"/readyz"))
	}
	return &FrontDoor{proxy: proxy, health: httpx.Envelope(envelope)(http.HandlerFunc(checks.Ready))}, nil
}

func (fd *FrontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/health" {
		fd.health.ServeHTTP(w, r)
		return
	}
	fd.proxy.ServeHTTP(w, r)
}
