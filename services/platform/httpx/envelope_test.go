package httpx_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

func TestTheLegacyEnvelopeWrapsSuccessfulJSONOnly(t *testing.T) {
	at := time.Date(2026, 12, 1, 15, 30, 0, 123456789, time.UTC)
	const stamp = `,"timestamp":"2026-12-01T15:30:00.123Z","requestId":"req-7"}` + "\n"
	cases := []struct {
		name, mode, method string
		handler            http.HandlerFunc
		want               string
	}{
		{"An object is wrapped with the request's ID and time.", httpx.EnvelopeLegacy, "GET",
			func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, map[string]int{"n": 1}) },
			`{"success":true,"data":{"n":1}` + stamp},
		{"A created resource is wrapped.", httpx.EnvelopeLegacy, "POST",
			func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 201, []string{"a"}) },
			`{"success":true,"data":["a"]` + stamp},
		{"A null result is wrapped as null data.", httpx.EnvelopeLegacy, "GET",
			func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, nil) },
			`{"success":true,"data":null` + stamp},
		{"A body streamed in pieces is wrapped whole, its inner newlines kept.", httpx.EnvelopeLegacy, "GET",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json; charset=utf-8")
				w.Header().Set("Content-Length", "99")
				io.WriteString(w, "[1,\n")
				io.WriteString(w, "2")
				io.WriteString(w, "]\n")
			},
			"{\"success\":true,\"data\":[1,\n2]" + stamp},
		{"A JSON response without a body is null data.", httpx.EnvelopeLegacy, "GET",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
			},
			`{"success":true,"data":null` + stamp},
		{"An error keeps its own envelope.", httpx.EnvelopeLegacy, "GET",
			httpx.Handler(func(http.ResponseWriter, *http.Request) error { return apierr.ErrNotFound }).ServeHTTP,
			`{"success":false,"error":{"code":"NOT_FOUND","message":"no such resource","timestamp":"2026-12-01T15:30:00.123456789Z","path":"/api/things","requestId":"req-7"}}` + "\n"},
		{"204 has no body to wrap.", httpx.EnvelopeLegacy, "DELETE",
			func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }, ""},
		{"A CSV download is not JSON and stays as it is.", httpx.EnvelopeLegacy, "GET",
			func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/csv")
				io.WriteString(w, "a,b\n")
			}, "a,b\n"},
		{"A document that skips the envelope stays as it is.", httpx.EnvelopeLegacy, "GET",
			func(w http.ResponseWriter, r *http.Request) {
				httpx.SkipEnvelope(w)
				httpx.JSON(w, 200, map[string]int{"n": 1})
			},
			`{"n":1}` + "\n"},
		{"Without the legacy mode the body is as it is.", httpx.EnvelopeNone, "GET",
			func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, map[string]int{"n": 1}) },
			`{"n":1}` + "\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := httpx.Stack(clock.Func(func() time.Time { return at }), httpx.Envelope(c.mode)(c.handler), 1<<20)
			r := httptest.NewRequest(c.method, "/api/things", nil)
			r.Header.Set("X-Request-Id", "req-7")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, r)
			if got := rec.Body.String(); got != c.want {
				t.Fatalf("body\n%s\nwant\n%s", got, c.want)
			}
			if c.mode == httpx.EnvelopeLegacy && rec.Header().Get("Content-Length") == "99" {
				t.Fatal("the body's own Content-Length was kept")
			}
		})
	}
	t.Run("A path outside /api, such as the internal tenant API, is no API result.", func(t *testing.T) {
		h := httpx.Envelope(httpx.EnvelopeLegacy)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, 1) }))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/internal/tenants/t1", nil))
		if rec.Body.String() != "1\n" {
			t.Fatalf("%q", rec.Body.String())
		}
	})
	t.Run("A HEAD request has no body to wrap.", func(t *testing.T) {
		h := httpx.Envelope(httpx.EnvelopeLegacy)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { httpx.JSON(w, 200, 1) }))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("HEAD", "/api/things", nil))
		if rec.Body.String() != "1\n" {
			t.Fatalf("%q", rec.Body.String())
		}
	})
}
