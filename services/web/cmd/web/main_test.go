package main

import (
	"context"
	"io"
	"net"
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
	vars := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "LOG_LEVEL": "warn"}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }

	t.Run("Invalid configuration is refused at start-up.", func(t *testing.T) {
		bad := func(k string) (string, bool) {
			if k == "SHUTDOWN_TIMEOUT" {
				return "forever", true
			}
			return lookup(k)
		}
		if err := run(t.Context(), bad, io.Discard, nil, clk); err == nil || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
			t.Fatalf("got %v", err)
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, lookup, io.Discard, func(a net.Addr) { addrc <- a }, clk) }()
	var base string
	select {
	case a := <-addrc:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	}

	for _, c := range []struct{ name, path, want string }{
		{"It is ready without any dependency.", "/readyz", ""},
		{"It serves the app, or the notice of how to build it, at the root.", "/", "WorkPulse"},
		{"Client routes get the same page.", "/board", "WorkPulse"},
		{"It serves the API's OpenAPI document.", "/api/openapi.yaml", "openapi: 3.1.0"},
		{"It serves the same document as JSON.", "/api/docs-json", `"openapi":"3.1.0"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(base + c.path)
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

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return after cancel")
	}
}
