// Package health serves /livez, /readyz and /api/health. Liveness means
// the process serves HTTP; readiness means its dependencies answer; the
// API's health adds its peers' readiness, so that one URL reports the
// whole platform.
package health

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/httpx"
)

// Check probes one dependency.
type Check func(ctx context.Context) error

// Checker runs named checks.
type Checker struct {
	mu     sync.Mutex
	checks map[string]Check
}

// NewChecker returns an empty checker.
func NewChecker() *Checker { return &Checker{checks: map[string]Check{}} }

// Add registers a check under name.
func (c *Checker) Add(name string, check Check) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[name] = check
}

// Plus returns a checker with c's checks and extra ones.
func (c *Checker) Plus(extra map[string]Check) *Checker {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := NewChecker()
	for n, ch := range c.checks {
		out.checks[n] = ch
	}
	for n, ch := range extra {
		out.checks[n] = ch
	}
	return out
}

// Report is the body of /readyz and /api/health.
type Report struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// Run runs every check concurrently with a timeout each.
func (c *Checker) Run(ctx context.Context) Report {
	c.mu.Lock()
	names := make([]string, 0, len(c.checks))
	for n := range c.checks {
		names = append(names, n)
	}
	sort.Strings(names)
	checks := make([]Check, len(names))
	for i, n := range names {
		checks[i] = c.checks[n]
	}
	c.mu.Unlock()

	results := make([]string, len(names))
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			defer cancel()
			if err := checks[i](cctx); err != nil {
				// The reason goes to the log, not to whoever asks.
				slog.WarnContext(ctx, "health check failed", "check", names[i], "err", err)
				results[i] = "down"
			} else {
				results[i] = "up"
			}
		}()
	}
	wg.Wait()
	rep := Report{Status: "ok", Checks: make(map[string]string, len(names))}
	for i, n := range names {
		rep.Checks[n] = results[i]
		if results[i] != "up" {
			rep.Status = "unavailable"
		}
	}
	return rep
}

// Live answers 200 while the process serves HTTP.
func Live(w http.ResponseWriter, _ *http.Request) {
	httpx.JSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Ready answers 200 when every check passes and 503 otherwise.
func (c *Checker) Ready(w http.ResponseWriter, r *http.Request) {
	rep := c.Run(r.Context())
	status := http.StatusOK
	if rep.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	httpx.JSON(w, status, rep)
}

// Peer is a check that another service's /readyz answers 200.
func Peer(client *http.Client, readyURL string) Check {
	return func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, readyURL, nil)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("%s answered %d", readyURL, resp.StatusCode)
		}
		return nil
	}
}
