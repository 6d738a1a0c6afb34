package frontdoor

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// AffinityRefresh is how long the front door uses one resolution of a
// service's replicas: a replica that came or went is seen within it, as
// soon as the cluster's DNS has it.
const AffinityRefresh = 5 * time.Second

// resolveTimeout bounds one resolution, so a slow DNS server holds up the
// first request of a session for at most this long.
const resolveTimeout = 2 * time.Second

// CookieName is the affinity cookie of a service's sticky routes, the same
// name the ingress-nginx routing gives its own.
func CookieName(service string) string { return "workpulse-" + service }

// replicas pins the sessions of a service's sticky routes to its
// replicas, which a DNS name lists (a headless Service's: one address per
// ready pod). The first request of a session gets the next replica in
// turn and a cookie naming it; a request whose cookie names a replica
// still listed goes to it. The cookie holds a digest of the address, not
// the address, so the cluster's addresses are not handed out.
type replicas struct {
	service, host, port string
	resolver            *net.Resolver
	clock               clock.Clock

	mu sync.Mutex
	// byCookie maps a cookie value to its replica's host:port; order
	// lists the cookie values sorted, for the turns.
	byCookie   map[string]string
	order      []string
	next       int
	resolvedAt time.Time
	// resolved is false until the first resolution ends; stale asks for a
	// resolution before AffinityRefresh is up (a replica did not answer).
	resolved, stale, resolving bool
}

func newReplicas(service, raw string, o Options) (*replicas, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || u.Port() == "" {
		return nil, fmt.Errorf("%s affinity: %q is not an http(s) URL with a port", service, raw)
	}
	res := &replicas{service: service, host: u.Hostname(), port: u.Port(), resolver: o.Resolver, clock: o.Clock}
	if res.resolver == nil {
		res.resolver = net.DefaultResolver
	}
	if res.clock == nil {
		res.clock = clock.Real
	}
	return res, nil
}

// pick returns the host:port of the replica r's session belongs to, and
// the cookie to set when the session is new. No replica known (the name
// does not resolve) returns "": the request goes through the Service.
func (p *replicas) pick(r *http.Request) (string, *http.Cookie) {
	p.refresh(r.Context())
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, err := r.Cookie(CookieName(p.service)); err == nil {
		if addr, ok := p.byCookie[c.Value]; ok {
			return addr, nil
		}
	}
	if len(p.order) == 0 {
		return "", nil
	}
	value := p.order[p.next%len(p.order)]
	p.next++
	return p.byCookie[value], &http.Cookie{Name: CookieName(p.service), Value: value, Path: r.URL.Path, HttpOnly: true}
}

// failed marks the replicas for a new resolution: one did not answer, so
// it may be gone before its name's records are due to be read again.
func (p *replicas) failed() {
	p.mu.Lock()
	p.stale = true
	p.mu.Unlock()
}

// refresh resolves the name when it never was, waiting for it, and in the
// background when the last resolution is old or stale.
func (p *replicas) refresh(ctx context.Context) {
	p.mu.Lock()
	due := !p.resolving && (p.stale || clock.Since(p.clock, p.resolvedAt) >= AffinityRefresh)
	first := !p.resolved
	if due {
		p.resolving = true
	}
	p.mu.Unlock()
	switch {
	case !due:
		// Fresh, or another request is resolving: during a first
		// resolution this request goes through the Service rather than
		// queueing behind the DNS.
	case first:
		p.resolve(ctx)
	default:
		go p.resolve(context.WithoutCancel(ctx))
	}
}

func (p *replicas) resolve(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, resolveTimeout)
	defer cancel()
	ips, err := p.resolver.LookupHost(ctx, p.host)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.resolving, p.resolved, p.stale, p.resolvedAt = false, true, false, p.clock.Now()
	var dnsErr *net.DNSError
	if err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound) {
		// A failed lookup keeps the replicas known: the sessions on them
		// outlive a DNS hiccup. The next request after AffinityRefresh
		// tries again. A name without addresses (no ready replica) is an
		// answer, and empties the list.
		return
	}
	p.byCookie = map[string]string{}
	p.order = p.order[:0]
	for _, ip := range ips {
		addr := net.JoinHostPort(ip, p.port)
		sum := sha256.Sum256([]byte(addr))
		value := hex.EncodeToString(sum[:8])
		p.byCookie[value] = addr
		p.order = append(p.order, value)
	}
	slices.Sort(p.order)
}
