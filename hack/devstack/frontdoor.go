package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/health"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// FrontDoor routes /api paths to the owning services with the same table
// the chart's Ingress uses, and answers /api/health for the whole stack.
type FrontDoor struct {
	proxies map[string]*httputil.ReverseProxy
	// health answers /api/health, in the services' envelope.
	health http.Handler
}

// NewFrontDoor proxies to backends (service name to base URL); /api/health
// reports deps and every service of the routing table, in envelope (the
// services' API_ENVELOPE), as auth answers it in a cluster.
func NewFrontDoor(backends map[string]string, deps map[string]health.Check, envelope string) (*FrontDoor, error) {
	checks := health.NewChecker()
	fd := &FrontDoor{proxies: map[string]*httputil.ReverseProxy{}, health: httpx.Envelope(envelope)(http.HandlerFunc(checks.Ready))}
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
		u, err := url.Parse(base)
		if err != nil {
			return nil, err
		}
		p := httputil.NewSingleHostReverseProxy(u)
		p.Transport = transport
		p.ModifyResponse = dropEdgeHeaders
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			httpx.Error(w, r, apierr.ErrUnavailable.WithMessage(svc.Name+" service is unavailable, retry later"))
		}
		fd.proxies[svc.Name] = p
		checks.Add(svc.Name, health.Peer(client, base+"/readyz"))
	}
	return fd, nil
}

// dropEdgeHeaders removes the headers the front door sets itself from a
// service's response: its CORS headers (the front door answers for the
// stack with the same policy, and a browser refuses a response that allows
// an origin twice) and its X-Request-Id (the front door's, which it
// forwarded).
func dropEdgeHeaders(resp *http.Response) error {
	resp.Header.Del("X-Request-Id")
	for _, h := range httpx.CORSHeaders {
		resp.Header.Del(h)
	}
	vary := resp.Header.Values("Vary")
	resp.Header.Del("Vary")
	for _, v := range vary {
		if v != "Origin" {
			resp.Header.Add("Vary", v)
		}
	}
	return nil
}

// transport keeps enough idle connections per backend for a loaded
// front door: Go's default of two makes every request beyond the second
// concurrent one open and close a connection.
var transport = &http.Transport{
	MaxIdleConns:        2048,
	MaxIdleConnsPerHost: 512,
	IdleConnTimeout:     90 * time.Second,
}

func (fd *FrontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/health" {
		fd.health.ServeHTTP(w, r)
		return
	}
	route, ok := routes.Lookup(r.URL.Path)
	if !ok {
		httpx.Error(w, r, apierr.ErrNotFound)
		return
	}
	p, ok := fd.proxies[route.Service]
	if !ok {
		httpx.Error(w, r, apierr.ErrUnavailable.WithMessage(route.Service+" service is not running"))
		return
	}
	p.ServeHTTP(w, r)
}
