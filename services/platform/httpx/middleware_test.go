package httpx_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/logging"
)

func TestRequestIDKeepsAWellFormedClientIDAndReplacesAnyOther(t *testing.T) {
	cases := []struct {
		name, sent string
		kept       bool
	}{
		{"Letters, digits and the four punctuation marks are kept.", "aZ09._:-", true},
		{"A UUID is kept.", "3f1e2a4b-0c6d-4e8f-9a0b-1c2d3e4f5a6b", true},
		{"One character is kept.", "x", true},
		{"128 characters are kept.", strings.Repeat("a", 128), true},
		{"129 characters are replaced.", strings.Repeat("a", 129), false},
		{"A space is replaced.", "req 1", false},
		{"A slash is replaced.", "req/1", false},
		{"A quote is replaced.", `req"1`, false},
		{"A non-ASCII letter is replaced.", "réq", false},
		{"A newline is replaced.", "req\n1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var inContext string
			h := httpx.RequestID(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inContext = logging.RequestID(r.Context())
			}))
			req := httptest.NewRequest("GET", "/", nil)
			req.Header["X-Request-Id"] = []string{c.sent}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-Id")
			if (got == c.sent) != c.kept || got == "" || inContext != got {
				t.Fatalf("sent %q: answered %q, in context %q; kept want %v", c.sent, got, inContext, c.kept)
			}
			if !c.kept && len(got) != 24 {
				t.Fatalf("a replaced ID is 12 random bytes in hex, got %q", got)
			}
		})
	}
	t.Run("A request without an ID gets one.", func(t *testing.T) {
		rec := httptest.NewRecorder()
		httpx.RequestID(http.NotFoundHandler()).ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
		if len(rec.Header().Get("X-Request-Id")) != 24 {
			t.Fatalf("%q", rec.Header().Get("X-Request-Id"))
		}
	})
}
