package main

import (
	"io"
	"net/http"
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
