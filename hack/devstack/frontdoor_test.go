package main

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/health"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/test/testkit"
)

// backend answers with its own name, so the test sees where a path went.
func backend(t *testing.T, name string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/readyz" && name == routes.Report {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, name)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestFrontDoorRoutesEachPathToItsOwningService(t *testing.T) {
	backends := map[string]string{}
	for _, s := range routes.Services {
		backends[s.Name] = backend(t, s.Name)
	}
	fd, err := NewFrontDoor(backends, nil, httpx.EnvelopeNone)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, want string
	}{
		{"Registration goes to auth.", "POST", "/api/auth/register", routes.Auth},
		{"The JWKS goes to auth.", "GET", "/api/auth/.well-known/jwks.json", routes.Auth},
		{"The employee list goes to auth.", "GET", "/api/users/employees", routes.Auth},
		{"Starting a session goes to session.", "POST", "/api/sessions/start", routes.Session},
		{"Stopping a session goes to session.", "POST", "/api/sessions/3f1e/stop", routes.Session},
		{"Listing sessions goes to session.", "GET", "/api/sessions?from=2026-01-01", routes.Session},
		{"Projects go to session.", "GET", "/api/projects", routes.Session},
		{"A single activity goes to ingest.", "POST", "/api/sessions/3f1e/activity", routes.Ingest},
		{"A bulk upload goes to ingest.", "POST", "/api/sessions/3f1e/activity/bulk", routes.Ingest},
		{"Reports go to report.", "GET", "/api/reports/daily?date=2026-01-01", routes.Report},
		{"Alerts go to report.", "GET", "/api/alerts", routes.Report},
		{"Job triggers go to report.", "POST", "/api/jobs/trigger/daily-summary", routes.Report},
		{"The WebSocket goes to realtime.", "GET", "/api/ws", routes.Realtime},
		{"Presence goes to realtime.", "GET", "/api/presence", routes.Realtime},
		{"Socket.IO goes to realtime.", "GET", "/socket.io/?EIO=4&transport=polling", routes.Realtime},
		{"The API docs page goes to the web service.", "GET", "/api/docs", routes.Web},
		{"The OpenAPI document as JSON goes to the web service.", "GET", "/api/docs-json", routes.Web},
		{"The OpenAPI document as written goes to the web service.", "GET", "/api/openapi.yaml", routes.Web},
		{"The root goes to the web app.", "GET", "/", routes.Web},
		{"A page of the web app goes to it.", "GET", "/reports/team", routes.Web},
		{"The web app's assets go to it.", "GET", "/assets/index-abc123.js", routes.Web},
		{"An API path no service owns goes to the web service, which answers it 404 in the envelope.", "GET", "/api/nothing-here", routes.Web},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			fd.ServeHTTP(rec, httptest.NewRequest(c.method, c.path, nil))
			if got := rec.Body.String(); got != c.want {
				t.Fatalf("%s %s reached %q; want %q", c.method, c.path, got, c.want)
			}
		})
	}
	t.Run("A path when its service is not running is 503 in the envelope.", func(t *testing.T) {
		fd, err := NewFrontDoor(map[string]string{routes.Auth: backends[routes.Auth]}, nil, httpx.EnvelopeNone)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		fd.ServeHTTP(rec, httptest.NewRequest("GET", "/api/nothing-here", nil))
		if rec.Code != 503 || !strings.Contains(rec.Body.String(), "SYSTEM_SERVICE_UNAVAILABLE") {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
}

func TestHealthNamesWhatIsDown(t *testing.T) {
	backends := map[string]string{}
	for _, s := range routes.Services {
		backends[s.Name] = backend(t, s.Name)
	}
	deps := map[string]health.Check{
		"postgres": func(context.Context) error { return nil },
		"redis":    func(context.Context) error { return errors.New("connection refused") },
	}
	fd, _ := NewFrontDoor(backends, deps, httpx.EnvelopeNone)
	rec := httptest.NewRecorder()
	fd.ServeHTTP(rec, httptest.NewRequest("GET", "/api/health", nil))
	want := `{"status":"unavailable","checks":{"auth":"up","ingest":"up","postgres":"up","realtime":"up","redis":"down","report":"down","session":"up","web":"up"}}` + "\n"
	if rec.Code != 503 || rec.Body.String() != want {
		t.Fatalf("got %d %s; want 503 %s", rec.Code, rec.Body.String(), want)
	}
}

func TestFrontDoorAnswersCrossOriginCallsOnceForTheStack(t *testing.T) {
	origins := []string{"https://dash.example.com"}
	// The service behind sets its own CORS headers, as every service does.
	svc := httptest.NewServer(httpx.CORS(origins)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		io.WriteString(w, "[]")
	})))
	t.Cleanup(svc.Close)
	fd, err := NewFrontDoor(map[string]string{routes.Session: svc.URL}, nil, httpx.EnvelopeNone)
	if err != nil {
		t.Fatal(err)
	}
	door := httptest.NewServer(httpx.Stack(testkit.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), fd, 1<<20, httpx.CORS(origins)))
	t.Cleanup(door.Close)
	do := func(t *testing.T, method string, hdr map[string]string) *http.Response {
		header := map[string]string{"Origin": "https://dash.example.com"}
		maps.Copy(header, hdr)
		return testkit.Send(t, method, door.URL+"/api/projects", header)
	}
	t.Run("A preflight is answered by the front door.", func(t *testing.T) {
		resp := do(t, "OPTIONS", map[string]string{"Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "authorization"})
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Methods") == "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("A proxied response allows the origin exactly once.", func(t *testing.T) {
		resp := do(t, "GET", map[string]string{"Authorization": "Bearer x"})
		for _, h := range []string{"Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Expose-Headers"} {
			if n := len(resp.Header.Values(h)); n != 1 {
				t.Errorf("%s appears %d times: %v", h, n, resp.Header.Values(h))
			}
		}
		if n := len(resp.Header.Values("X-Request-Id")); n != 1 {
			t.Errorf("X-Request-Id appears %d times", n)
		}
		if got := resp.Header.Values("Vary"); !slices.Equal(got, []string{"Origin", "Accept-Encoding"}) {
			t.Errorf("Vary %q; want Origin once and the service's own", got)
		}
	})
}

func TestFrontDoorAnswersHealthInTheServicesEnvelope(t *testing.T) {
	ready := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(ready.Close)
	backends := map[string]string{}
	for _, s := range routes.Services {
		backends[s.Name] = ready.URL
	}
	fd, err := NewFrontDoor(backends, map[string]health.Check{"postgres": func(context.Context) error { return nil }}, httpx.EnvelopeLegacy)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	fd.ServeHTTP(rec, httptest.NewRequest("GET", "/api/health", nil))
	if rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), `{"success":true,"data":{"status":"ok"`) {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
}

func TestTheFrontDoorReadsTheServicesEnvelopeAndOrigins(t *testing.T) {
	cases := []struct {
		name              string
		args              []string
		env               map[string]string
		wantEnvelope      string
		wantOrigins       []string
		wantErrMentioning string
	}{
		{name: "By default bodies are unwrapped and any origin allowed.", wantEnvelope: "none", wantOrigins: []string{"*"}},
		{name: "The environment the services inherit sets both.",
			env:          map[string]string{"API_ENVELOPE": "legacy", "CORS_ALLOWED_ORIGINS": "https://dash.example.com"},
			wantEnvelope: "legacy", wantOrigins: []string{"https://dash.example.com"}},
		{name: "An -env for the services wins over the environment.", args: []string{"-env", "API_ENVELOPE=legacy"},
			env: map[string]string{"API_ENVELOPE": "none"}, wantEnvelope: "legacy", wantOrigins: []string{"*"}},
		{name: "An unknown envelope is refused.", args: []string{"-env", "API_ENVELOPE=nest"}, wantErrMentioning: "API_ENVELOPE"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := loadConfig(c.args, func(k string) (string, bool) { v, ok := c.env[k]; return v, ok })
			if c.wantErrMentioning != "" {
				if err == nil || !strings.Contains(err.Error(), c.wantErrMentioning) {
					t.Fatalf("got %v", err)
				}
				return
			}
			if err != nil || cfg.APIEnvelope != c.wantEnvelope || !slices.Equal(cfg.CORSOrigins, c.wantOrigins) {
				t.Fatalf("got %q %q %v", cfg.APIEnvelope, cfg.CORSOrigins, err)
			}
		})
	}
}
