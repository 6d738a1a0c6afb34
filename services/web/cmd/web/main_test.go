package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/testkit"
)

// TestRun runs the service as main does and stops it as SIGTERM would.
func TestRun(t *testing.T) {
	t.Parallel()
	clk := testkit.NewClock(time.Date(2027, 3, 14, 9, 30, 0, 0, time.UTC))
	vars := map[string]string{"LOG_LEVEL": "warn"}
	t.Run("Invalid configuration is refused at start-up.", func(t *testing.T) {
		testkit.RefusesSetting(t, run, vars, "SHUTDOWN_TIMEOUT", "forever")
	})

	svc := testkit.StartServiceOn(t, run, clk, vars)
	for _, c := range []struct{ name, path, want string }{
		{"It is ready without any dependency.", "/readyz", ""},
		{"It serves the app, or the notice of how to build it, at the root.", "/", "WorkPulse"},
		{"Client routes get the same page.", "/board", "WorkPulse"},
		{"It serves the API's OpenAPI document.", "/api/openapi.yaml", "openapi: 3.1.0"},
		{"It serves the same document as JSON.", "/api/docs-json", `"openapi":"3.1.0"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(svc.URL + c.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if c.path == "/readyz" && resp.StatusCode != http.StatusOK || !strings.Contains(string(b), c.want) {
				t.Fatalf("%d %s", resp.StatusCode, b)
			}
		})
	}

	if err := svc.Stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}

// TestRunAsTheFrontDoor runs web with backends, as the chart does when the
// Ingress or the Gateway sends every path to it.
func TestRunAsTheFrontDoor(t *testing.T) {
	t.Parallel()
	clk := testkit.NewClock(time.Date(2027, 3, 14, 9, 30, 0, 0, time.UTC))
	session := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "session "+r.URL.Path+" "+r.Header.Get("X-Request-Id"))
	}))
	t.Cleanup(session.Close)
	vars := map[string]string{"LOG_LEVEL": "warn", "FRONT_DOOR_BACKENDS": "session=" + session.URL}
	for _, c := range []struct{ name, key, value string }{
		{"A backend that is not a service is refused at start-up.", "FRONT_DOOR_BACKENDS", "billing=http://billing:80"},
		{"A backend for web itself is refused at start-up.", "FRONT_DOOR_BACKENDS", "web=http://web:3006"},
		{"A backend that is not name=url is refused at start-up.", "FRONT_DOOR_BACKENDS", "session"},
		{"Affinity for a service without a backend is refused at start-up.", "FRONT_DOOR_AFFINITY", "realtime=http://realtime-pods:3005"},
		{"Affinity to a URL without a port is refused at start-up.", "FRONT_DOOR_AFFINITY", "session=http://session-pods"},
	} {
		t.Run(c.name, func(t *testing.T) { testkit.RefusesSetting(t, run, vars, c.key, c.value) })
	}

	svc := testkit.StartServiceOn(t, run, clk, vars)
	for _, c := range []struct{ name, path, want string }{
		{"A session path goes to session with the request id.", "/api/sessions?from=2027-03-01", "session /api/sessions rq-1"},
		{"The app is still its own.", "/board", "WorkPulse"},
		{"The API docs are still its own.", "/api/openapi.yaml", "openapi: 3.1.0"},
		{"A service without a backend is not routed: web answers 404 in the envelope.", "/api/reports/daily", `"code":"NOT_FOUND"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", svc.URL+c.path, nil)
			req.Header.Set("X-Request-Id", "rq-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.Contains(string(b), c.want) {
				t.Fatalf("%d %s; want %q", resp.StatusCode, b, c.want)
			}
		})
	}
	if err := svc.Stop(); err != nil {
		t.Fatalf("run: %v", err)
	}
}
