package main

import (
	"context"
	"net/http"
	"net/http/httputil"
	"net/url"
	"sync"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// FrontDoor routes /api paths to the owning services with the same table
// the chart's Ingress uses, and answers /api/health for the whole stack.
type FrontDoor struct {
	proxies map[string]*httputil.ReverseProxy
	// readyURLs are each service's /readyz.
	readyURLs map[string]string
	// deps are checks of the shared dependencies.
	deps   map[string]func(context.Context) error
	client *http.Client
}

// NewFrontDoor proxies to backends (service name to base URL).
func NewFrontDoor(backends map[string]string, deps map[string]func(context.Context) error) (*FrontDoor, error) {
	fd := &FrontDoor{proxies: map[string]*httputil.ReverseProxy{}, readyURLs: map[string]string{}, deps: deps,
		client: &http.Client{Timeout: 3 * time.Second}}
	for name, base := range backends {
		u, err := url.Parse(base)
		if err != nil {
			return nil, err
		}
		p := httputil.NewSingleHostReverseProxy(u)
		p.Transport = transport
		p.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			httpx.Error(w, r, apierr.ErrUnavailable.WithMessage(name+" service is unavailable, retry later"))
		}
		fd.proxies[name] = p
		fd.readyURLs[name] = base + "/readyz"
	}
	return fd, nil
}

func (fd *FrontDoor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/api/health" {
		fd.health(w, r)
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

// transport keeps enough idle connections per backend for a loaded
// front door: Go's default of two makes every request beyond the second
// concurrent one open and close a connection.
var transport = &http.Transport{
	Proxy:               nil,
	MaxIdleConns:        2048,
	MaxIdleConnsPerHost: 512,
	IdleConnTimeout:     90 * time.Second,
}

// Health is the body of /api/health.
type Health struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

func (fd *FrontDoor) health(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	h := Health{Status: "ok", Checks: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	record := func(name string, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			h.Checks[name] = "down"
			h.Status = "unavailable"
			return
		}
		h.Checks[name] = "up"
	}
	for name, check := range fd.deps {
		wg.Add(1)
		go func() { defer wg.Done(); record(name, check(ctx)) }()
	}
	for _, svc := range routes.Services {
		wg.Add(1)
		go func() { defer wg.Done(); record(svc.Name, fd.ready(ctx, svc.Name)) }()
	}
	wg.Wait()
	status := http.StatusOK
	if h.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	httpx.JSON(w, status, h)
}

func (fd *FrontDoor) ready(ctx context.Context, name string) error {
	u, ok := fd.readyURLs[name]
	if !ok {
		return errNotRunning
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := fd.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errString("not ready")
	}
	return nil
}

type errString string

func (e errString) Error() string { return string(e) }

const errNotRunning = errString("not running")
