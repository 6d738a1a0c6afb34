package ingest

import (
	"net/http"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// tokenCache remembers tokens it has verified, until the earlier of their
// expiry and ttl. An agent sends the same token with every heartbeat, and
// the Ed25519 check was the largest single cost of a single-activity post
// (about a third of ingest's CPU in the benchmark's profile). The key is
// the whole token, so only a byte-identical token, already verified, hits.
type tokenCache struct {
	verifier *authn.Verifier
	ttl      time.Duration
	max      int
	clock    clock.Clock

	mu      sync.Mutex
	entries map[string]cachedToken
}

type cachedToken struct {
	p     authn.Principal
	until time.Time
}

func newTokenCache(v *authn.Verifier, ttl time.Duration, max int, clk clock.Clock) *tokenCache {
	return &tokenCache{verifier: v, ttl: ttl, max: max, clock: clk, entries: make(map[string]cachedToken)}
}

// require is authn.RequireTracking with the cache in front of the
// verifier: every ingest route is a tracking route, which desktop agents'
// device tokens reach.
func (c *tokenCache) require(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := authn.BearerToken(r)
		now := c.clock.Now()
		c.mu.Lock()
		e, ok := c.entries[tok]
		c.mu.Unlock()
		if !ok || !now.Before(e.until) {
			p, err := c.verifier.VerifyTracking(r.Context(), tok)
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			e = cachedToken{p: p, until: now.Add(c.ttl)}
			if p.ExpiresAt.Before(e.until) {
				e.until = p.ExpiresAt
			}
			c.put(tok, e)
		} else if err := c.verifier.Current(e.p); err != nil {
			// Revoked since it was cached: the cache saves the signature
			// check only.
			httpx.Error(w, r, err)
			return
		}
		c.verifier.NoteUse(r.Context(), e.p)
		next.ServeHTTP(w, r.WithContext(authn.WithPrincipal(r.Context(), e.p)))
	})
}

func (c *tokenCache) put(tok string, e cachedToken) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		// Full: forget an arbitrary tenth; they are re-verified on next use.
		n := c.max / 10
		for k := range c.entries {
			delete(c.entries, k)
			if n--; n <= 0 {
				break
			}
		}
	}
	c.entries[tok] = e
}
