package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestTheTokenCacheServesOnlyVerifiedTokensAndNeverPastTheirExpiry(t *testing.T) {
	t.Parallel()
	clk := testkit.NewClock(time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC))
	iss := testkit.NewIssuerOn(t, clk)
	p := testkit.Member("", authn.RoleEmployee)
	tok := iss.Token(t, p)
	c := newTokenCache(iss.Verifier, 24*time.Hour, 4, clk)
	var seen authn.Principal
	h := c.require(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = authn.MustFromContext(r.Context()) }))
	call := func(token string) int {
		req := httptest.NewRequest(http.MethodPost, "/", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec.Code
	}
	if code := call(tok); code != http.StatusOK || seen.UserID != p.UserID {
		t.Fatalf("valid token: %d, principal %+v", code, seen)
	}
	e, ok := c.entries[tok]
	if exp := clk.Now().Add(time.Hour); !ok || !e.until.Equal(exp) {
		t.Errorf("cached until %v, not until the token's expiry %v", e.until, exp)
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
	c.entries[tok] = cachedToken{p: authn.Principal{UserID: "stale"}, until: clk.Now()}
	if code := call(tok); code != http.StatusOK || seen.UserID != p.UserID {
		t.Errorf("after expiry of the entry: %d, principal %+v", code, seen)
	}
	// Past the token's expiry the cache does not answer for it.
	clk.Set(e.until.Add(time.Minute))
	if code := call(tok); code != http.StatusUnauthorized {
		t.Errorf("an expired token that was cached: %d", code)
	}
	// A revocation refuses a cached token at the list's next poll.
	clk.Set(e.until.Add(-30 * time.Minute))
	db := testkit.NewDB(t)
	list := authn.NewRevocations(authn.PGRevocations{DB: db.Pool(t, "workpulse_ingest")}, clk)
	iss.Verifier.WithRevocations(list)
	if code := call(tok); code != http.StatusOK {
		t.Fatalf("before the revocation: %d", code)
	}
	if _, err := db.Owner.Exec(context.Background(), "INSERT INTO auth.revocations (kind, subject, blocked) VALUES ('user', $1, true)", p.UserID); err != nil {
		t.Fatal(err)
	}
	if err := list.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code := call(tok); code != http.StatusForbidden {
		t.Errorf("a cached token of a deactivated user: %d, want 403", code)
	}
	// The cache stays within its bound.
	for range 10 {
		call(iss.Token(t, testkit.Member("", authn.RoleEmployee)))
	}
	if len(c.entries) > 4 {
		t.Errorf("%d entries, bound 4", len(c.entries))
	}
}
