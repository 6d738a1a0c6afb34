package health

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// Public serves /api/health. Anyone may ask it, so an anonymous caller
// must not be able to make it probe every dependency and peer per
// request: outside callers get the status of the last probe round, run at
// most once per TTL of the injected clock, without the checks' names.
// Internal callers (see Internal) get a fresh round with every check, as
// before: the kubelet, helm test and operators diagnosing a pod.
type Public struct {
	checker *Checker
	clock   clock.Clock
	ttl     time.Duration

	// mu is held for a whole round, so callers arriving during one wait
	// for its result instead of starting their own.
	mu   sync.Mutex
	at   time.Time
	last *Report
}

// PublicTTL is how long an outside caller's answer may be reused.
const PublicTTL = time.Second

// NewPublic serves c's checks to outside callers from a cache of PublicTTL.
func NewPublic(c *Checker, clk clock.Clock) *Public {
	return &Public{checker: c, clock: clk, ttl: PublicTTL}
}

func (p *Public) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if Internal(r) {
		p.checker.Health(w, r)
		return
	}
	rep := p.cached(r.Context())
	status := http.StatusOK
	if rep.Status != "ok" {
		status = http.StatusServiceUnavailable
	}
	httpx.JSON(w, status, struct {
		Status string `json:"status"`
	}{rep.Status})
}

// cached returns the last round's report, running a new round when it is
// older than the TTL. The round does not end with the caller that started
// it: the others waiting on it would get a cancelled result.
func (p *Public) cached(ctx context.Context) Report {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.last == nil || clock.Since(p.clock, p.at) >= p.ttl {
		rep := p.checker.Run(context.WithoutCancel(ctx))
		p.last, p.at = &rep, p.clock.Now()
	}
	return *p.last
}

// Internal reports whether r came straight from inside the installation:
// from a loopback or private address, and not through a proxy (the
// Ingress and the front door add X-Forwarded-For, which a direct caller
// has no reason to send).
func Internal(r *http.Request) bool {
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	return ip.IsLoopback() || ip.IsPrivate()
}
