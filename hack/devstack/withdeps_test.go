package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestWithDepsOffersAnInProcessRedisOnlyToMakeDev runs hack/with-deps.sh
// on a PATH without any Redis program and no Redis answering.
func TestWithDepsOffersAnInProcessRedisOnlyToMakeDev(t *testing.T) {
	path := t.TempDir()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "redis-") {
				continue
			}
			_ = os.Symlink(filepath.Join(dir, e.Name()), filepath.Join(path, e.Name())) // the first of a name wins, as on PATH
		}
	}
	script, err := filepath.Abs("../with-deps.sh")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, optional string
		wantURL        string
		wantFail       bool
	}{
		{"make dev is told to run Redis in-process.", "1", "inprocess", false},
		{"Anything else, the tests included, is refused.", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(script, "sh", "-c", `printf %s "$WORKPULSE_REDIS_URL"`)
			cmd.Env = append(os.Environ(), "PATH="+path, "WORKPULSE_REDIS_URL=redis://127.0.0.1:1/0", "WITH_DEPS_REDIS_OPTIONAL="+tc.optional)
			out, err := cmd.Output()
			if (err != nil) != tc.wantFail || string(out) != tc.wantURL {
				t.Errorf("output %q, err %v", out, err)
			}
		})
	}
}
