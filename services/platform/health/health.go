// Package health serves /livez, /readyz and /api/health. Liveness means
// the process serves HTTP; readiness means the dependencies it cannot
// serve without answer; the API's health adds the dependencies it degrades
// without and its peers' readiness, so that one URL reports the whole
// platform.
package health

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/workpulse/workpulse/services/platform/httpx"
)

// Check probes one dependency.
type Check func(ctx context.Context) error

// Checker runs named checks.
type Checker struct {
	mu     sync.Mutex
	checks map[string]Check
	// degradable names the checks readiness leaves out.
	degradable map[string]bool
	// draining is set once the process is shutting down.
	draining atomic.Bool
}

// NewChecker returns an empty checker.
func NewChecker() *Checker {
	return &Checker{checks: map[string]Check{}, degradable: map[string]bool{}}
}

// Add registers a check under name that readiness depends on: a
// dependency the service cannot answer without.
func (c *Checker) Add(name string, check Check) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[name] = check
	delete(c.degradable, name)
}

// AddDegradable registers a check that Run reports but Ready leaves out:
// a dependency the service keeps serving without (Kafka behind the
// outbox, Redis behind the throttle). Failing readiness on it would take
// every replica out of its Service at once for an outage the service is
// built to ride out.
func (c *Checker) AddDegradable(name string, check Check) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.checks[name] = check
	c.degradable[name] = true
}

// Plus returns a checker with c's checks and extra ones.
func (c *Checker) Plus(extra map[string]Check) *Checker {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := NewChecker()
	for n, ch := range c.checks {
		out.checks[n] = ch
	}
	for n := range c.degradable {
		out.degradable[n] = true
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
func (c *Checker) Run(ctx context.Context) Report { return c.run(ctx, true) }

// run runs the checks, the degradable ones too when withDegradable.
func (c *Checker) run(ctx context.Context, withDegradable bool) Report {
	c.mu.Lock()
	names := make([]string, 0, len(c.checks))
	for n := range c.checks {
		if withDegradable || !c.degradable[n] {
			names = append(names, n)
		}
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

// Drain makes Ready answer 503 from now on: the process is shutting down
// and wants no new traffic while it finishes what it has.
func (c *Checker) Drain() { c.draining.Store(true) }

// Draining says whether Drain was called.
func (c *Checker) Draining() bool { return c.draining.Load() }

// Ready answers 200 when every check but the degradable ones passes and
// 503 otherwise (draining, whatever the checks say): /readyz.
func (c *Checker) Ready(w http.ResponseWriter, r *http.Request) {
	if c.Draining() {
		httpx.JSON(w, http.StatusServiceUnavailable, Report{Status: "draining", Checks: map[string]string{}})
		return
	}
	c.serve(w, r, false)
}

// Health answers like Ready with the degradable checks counted too.
func (c *Checker) Health(w http.ResponseWriter, r *http.Request) {
	c.serve(w, r, true)
}

func (c *Checker) serve(w http.ResponseWriter, r *http.Request, withDegradable bool) {
	rep := c.run(r.Context(), withDegradable)
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
