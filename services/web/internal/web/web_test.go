package web

import (
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/test/testkit"
)

const (
	indexHTML = `<!doctype html><html><head><script type="module" src="/assets/index-abc123.js"></script></head><body><div id="root"></div></body></html>`
	script    = `console.log("the app, long enough to be worth compressing: ` + `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");`
)

func newServer(t *testing.T, app *fstest.MapFS) http.Handler {
	t.Helper()
	d := Deps{HTTP: metrics.NewHTTP(prometheus.NewRegistry(), "web")}
	if app != nil {
		d.App = app
	}
	h, err := NewServer(d)
	if err != nil {
		t.Fatal(err)
	}
	return httpx.Stack(testkit.NewClock(time.Date(2027, 3, 14, 9, 30, 0, 0, time.UTC)), h, 1<<20)
}

func get(h http.Handler, path string, header ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func TestTheServerServesTheBuiltApp(t *testing.T) {
	app := fstest.MapFS{
		"index.html":             {Data: []byte(indexHTML)},
		"assets/index-abc123.js": {Data: []byte(script)},
		"robots.txt":             {Data: []byte("User-agent: *\nDisallow: /\n")},
	}
	h := newServer(t, &app)

	cases := []struct {
		name, path        string
		status            int
		body, cache, kind string
	}{
		{"The root is index.html, revalidated on every load.", "/", 200, indexHTML, "no-cache", "text/html"},
		{"A client route falls back to index.html.", "/reports/team", 200, indexHTML, "no-cache", "text/html"},
		{"index.html by name is the same page.", "/index.html", 200, indexHTML, "no-cache", "text/html"},
		{"A hashed asset is cached for a year.", "/assets/index-abc123.js", 200, script, "public, max-age=31536000, immutable", "text/javascript"},
		{"A file at the root is served as itself.", "/robots.txt", 200, "User-agent: *\nDisallow: /\n", "no-cache", "text/plain"},
		{"A missing asset is a 404, not the page.", "/assets/index-old999.js", 404, "", "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := get(h, c.path)
			if rec.Code != c.status {
				t.Fatalf("status %d; want %d", rec.Code, c.status)
			}
			if c.status != 200 {
				if strings.Contains(rec.Body.String(), "<html") {
					t.Fatalf("a missing asset answered HTML: %s", rec.Body)
				}
				return
			}
			if got := rec.Body.String(); got != c.body {
				t.Errorf("body %q; want %q", got, c.body)
			}
			if got := rec.Header().Get("Cache-Control"); got != c.cache {
				t.Errorf("Cache-Control %q; want %q", got, c.cache)
			}
			if got := rec.Header().Get("Content-Type"); !strings.HasPrefix(got, c.kind) {
				t.Errorf("Content-Type %q; want %s", got, c.kind)
			}
		})
	}

	t.Run("Pages forbid framing and foreign scripts.", func(t *testing.T) {
		rec := get(h, "/board")
		csp := rec.Header().Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("Content-Security-Policy %q", csp)
		}
	})

	t.Run("A client that accepts gzip gets the asset gzipped.", func(t *testing.T) {
		rec := get(h, "/assets/index-abc123.js", "Accept-Encoding", "br, gzip")
		if rec.Header().Get("Content-Encoding") != "gzip" || !strings.Contains(rec.Header().Get("Vary"), "Accept-Encoding") {
			t.Fatalf("headers %v", rec.Header())
		}
		zr, err := gzip.NewReader(rec.Body)
		if err != nil {
			t.Fatal(err)
		}
		if b, _ := io.ReadAll(zr); string(b) != script {
			t.Errorf("decompressed %q", b)
		}
	})

	t.Run("A client that refuses gzip gets it plain.", func(t *testing.T) {
		rec := get(h, "/assets/index-abc123.js", "Accept-Encoding", "gzip;q=0")
		if rec.Header().Get("Content-Encoding") != "" || rec.Body.String() != script {
			t.Fatalf("got %v %q", rec.Header(), rec.Body)
		}
	})

	t.Run("A revalidation with the current ETag is 304.", func(t *testing.T) {
		etag := get(h, "/").Header().Get("ETag")
		if etag == "" {
			t.Fatal("no ETag")
		}
		if rec := get(h, "/", "If-None-Match", etag); rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
			t.Fatalf("status %d, %d bytes", rec.Code, rec.Body.Len())
		}
	})

	t.Run("An API path no service owns is 404 in the envelope.", func(t *testing.T) {
		for _, path := range []string{"/api", "/api/", "/api/nothing-here"} {
			rec := get(h, path)
			var env struct {
				Success bool
				Error   struct{ Code string }
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || rec.Code != 404 || env.Error.Code != "NOT_FOUND" {
				t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
			}
		}
	})

	t.Run("Writes to a page are refused in the envelope.", func(t *testing.T) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/board", nil))
		if rec.Code != http.StatusMethodNotAllowed || !strings.Contains(rec.Body.String(), "METHOD_NOT_ALLOWED") {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
}

func TestWithoutABuildEveryPageSaysHowToBuildIt(t *testing.T) {
	h := newServer(t, nil)
	for _, path := range []string{"/", "/board"} {
		rec := get(h, path)
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "make build") {
			t.Errorf("%s: %d %s", path, rec.Code, rec.Body)
		}
	}
}
