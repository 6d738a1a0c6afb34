package ingest

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestTheTokenCacheServesOnlyVerifiedTokensAndNeverPastTheirExpiry(t *testing.T) {
	t.Parallel()
	iss := testkit.NewIssuer(t)
	p := testkit.Member("", authn.RoleEmployee)
	tok := iss.Token(t, p)
	c := newTokenCache(iss.Verifier, 24*time.Hour, 4)
	var seen authn.Principal
	h := c.require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = authn.MustFromContext(r.Context()) }))
	call := func(token string) int {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := call(tok); code != http.StatusOK || seen != p {
		t.Fatalf("valid token: %d, principal %+v", code, seen)
	}
	e, ok := c.entries[tok]
	if !ok || e.until.After(time.Now().Add(time.Hour+time.Second)) {
		t.Errorf("cached until %v, beyond the token's one-hour expiry", e.until)
	}
	tampered := tok[:len(tok)-2] + "AA"
	if tampered == tok {
		tampered = tok[:len(tok)-2] + "BB"
	}
	for _, bad := range []string{tampered, "", "a.b.c"} {
		if code := call(bad); code != http.StatusUnauthorized {
			t.Errorf("token %q: %d", bad, code)
		}
		if _, cached := c.entries[bad]; cached {
			t.Errorf("refused token %q was cached", bad)
		}
	}
	// Past its expiry the entry is not used: the token is verified again.
	c.now = func() time.Time { return e.until.Add(time.Second) }
	c.entries[tok] = cachedToken{p: authn.Principal{UserID: "stale"}, until: e.until}
	if code := call(tok); code != http.StatusOK || seen != p {
		t.Errorf("after expiry of the entry: %d, principal %+v", code, seen)
	}
	// The cache stays within its bound.
	for range 10 {
		call(iss.Token(t, testkit.Member("", authn.RoleEmployee)))
	}
	if len(c.entries) > 4 {
		t.Errorf("%d entries, bound 4", len(c.entries))
	}
}
