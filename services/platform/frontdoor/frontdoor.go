// Package frontdoor is the one reverse proxy in front of the services: it
// routes each path with the API's routing table (api/routes) to the service
// that owns it. The web service runs it in a cluster, so that an Ingress or
// a Gateway needs a single prefix rule; the local devstack runs it too.
package frontdoor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// Options tune the proxy.
type Options struct {
	// AnswersCORS drops the services' CORS headers from their responses:
	// set it when a CORS middleware in front of the proxy answers for the
	// whole stack, since a browser refuses a response that allows an
	// origin twice.
	AnswersCORS bool
	// Affinity names, by service, an http(s) URL whose host name resolves
	// to each of the service's replicas (a headless Service's name) and
	// whose port they listen on. The service's sticky routes (Socket.IO)
	// then reach one replica per session, named by the cookie
	// CookieName(service), where the Service would spread a session's
	// long polls over replicas that do not hold it.
	Affinity map[string]string
	// Resolver resolves the Affinity names (nil: the system's resolver).
	Resolver *net.Resolver
	// Clock times the Affinity names' resolutions (nil: clock.Real).
	Clock clock.Clock
}

// Proxy sends each path to the service the routing table names. Paths of
// a service it has no backend for are answered 503 in the envelope.
type Proxy struct {
	proxies map[string]*httputil.ReverseProxy
	sticky  map[string]*replicas
}

// replicaKey carries, in a request's context, the host:port of the replica
// its session is pinned to.
type replicaKey struct{}

// New proxies to backends (service name to base URL). Each name must be a
// service of the routing table and each URL an absolute http(s) one.
func New(backends map[string]string, o Options) (*Proxy, error) {
	p := &Proxy{proxies: map[string]*httputil.ReverseProxy{}, sticky: map[string]*replicas{}}
	for name, base := range backends {
		if !slices.ContainsFunc(routes.Services, func(s struct {
			Name string
			Port int
		}) bool {
			return s.Name == name
		}) {
			return nil, fmt.Errorf("%q is not a service of the routing table", name)
		}
		u, err := url.Parse(base)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("%s: %q is not an http(s) URL", name, base)
		}
		rp := httputil.NewSingleHostReverseProxy(u)
		toService := rp.Director
		rp.Director = func(r *http.Request) {
			toService(r)
			if r.GetBody != nil {
				r.Body, _ = r.GetBody()
			}
			if addr, ok := r.Context().Value(replicaKey{}).(string); ok {
				r.URL.Host = addr
			}
		}
		rp.Transport = transport
		rp.BufferPool = copyBuffers
		rp.ModifyResponse = func(resp *http.Response) error {
			dropEdgeHeaders(resp, o.AnswersCORS)
			return nil
		}
		rp.ErrorHandler = func(w http.ResponseWriter, r *http.Request, err error) {
			if _, ok := r.Context().Value(replicaKey{}).(string); ok {
				p.sticky[name].failed()
			}
			httpx.Error(w, r, apierr.ErrUnavailable.WithMessage(name+" service is unavailable, retry later"))
		}
		p.proxies[name] = rp
	}
	for name, raw := range o.Affinity {
		if _, ok := p.proxies[name]; !ok {
			return nil, fmt.Errorf("%s affinity: the service has no backend", name)
		}
		res, err := newReplicas(name, raw, o)
		if err != nil {
			return nil, err
		}
		p.sticky[name] = res
	}
	return p, nil
}

// Has tells whether path belongs to a service the proxy has a backend for.
func (p *Proxy) Has(path string) bool {
	route, ok := routes.Lookup(path)
	if !ok {
		return false
	}
	_, ok = p.proxies[route.Service]
	return ok
}

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	route, ok := routes.Lookup(r.URL.Path)
	if !ok {
		httpx.Error(w, r, apierr.ErrNotFound)
		return
	}
	rp, ok := p.proxies[route.Service]
	if !ok {
		httpx.Error(w, r, apierr.ErrUnavailable.WithMessage(route.Service+" service is not running"))
		return
	}
	if res, ok := p.sticky[route.Service]; ok && route.Sticky {
		if addr, cookie := res.pick(r); addr != "" {
			if cookie != nil {
				http.SetCookie(w, cookie)
			}
			r = r.WithContext(context.WithValue(r.Context(), replicaKey{}, addr))
		}
	}
	if r.ContentLength > 0 && r.ContentLength <= inMemoryBody {
		body := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, body); err != nil {
			httpx.Error(w, r, apierr.ErrValidation.WithMessage("request body could not be read: "+err.Error()))
			return
		}
		// The Director hands the service a reader of these bytes:
		// httputil.ReverseProxy wraps the request's own body in one
		// http.Transport cannot see into.
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	}
	// httputil.ReverseProxy carries Upgrade requests (Socket.IO and the
	// WebSocket) through, hijacking the connection once the service
	// answers 101; the server's timeouts do not apply to it after that.
	rp.ServeHTTP(w, r)
}

// dropEdgeHeaders removes from a service's response the headers the front
// door sets itself: X-Request-Id (the front door's, which it forwarded to
// the service) and, when the front door answers CORS, the CORS headers.
func dropEdgeHeaders(resp *http.Response, cors bool) {
	resp.Header.Del("X-Request-Id")
	if !cors {
		return
	}
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
}

// inMemoryBody is the largest request body the front door reads whole
// before forwarding it. http.Transport sends a body it cannot tell is in
// memory in a write of its own after the headers': two writes, and two
// reads on the service's side, for every single post. A body read first
// goes out with its headers in one write, as long as both fit the
// transport's write buffer (transportBuffer). Larger bodies (bulk
// uploads) go out in writes of their own either way, and are streamed.
const inMemoryBody = 4 << 10

// transportBuffer holds a request's headers and an in-memory body.
const transportBuffer = 2 * inMemoryBody

// transport keeps enough idle connections per backend for a loaded
// front door: Go's default of two makes every request beyond the second
// concurrent one open and close a connection.
var transport = &http.Transport{
	MaxIdleConns:        2048,
	MaxIdleConnsPerHost: 512,
	IdleConnTimeout:     90 * time.Second,
	WriteBufferSize:     transportBuffer,
}

// copyBuffers are the buffers the proxies copy response bodies through.
// Without a pool httputil.ReverseProxy allocates (and zeroes) 32 KB for
// every response, however small: the largest single allocation of the
// front door under the single-post benchmark, each one a large-object
// allocation the garbage collector then has to reclaim.
var copyBuffers = &bufferPool{pool: sync.Pool{New: func() any { return new([32 << 10]byte) }}}

// bufferPool is an httputil.BufferPool over sync.Pool; it keeps arrays,
// not slices, so that putting one back allocates nothing.
type bufferPool struct{ pool sync.Pool }

func (b *bufferPool) Get() []byte { return b.pool.Get().(*[32 << 10]byte)[:] }

func (b *bufferPool) Put(buf []byte) {
	if len(buf) == 32<<10 {
		b.pool.Put((*[32 << 10]byte)(buf))
	}
}
