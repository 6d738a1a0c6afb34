package testkit

import (
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// startUntilCleanup starts cmd and stops it when the test ends (SIGINT,
// then SIGKILL after 15 s), logging its output if the test failed; exited
// closes when it ends.
func startUntilCleanup(t testing.TB, cmd *exec.Cmd, name string) (*SyncBuffer, <-chan struct{}) {
	t.Helper()
	logs := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s output:\n%s", name, logs.String())
		}
	})
	return logs, exited
}

// StartBinary runs bin with env added to the test's environment until the
// test ends (SIGINT, then SIGKILL after 15 s), and waits up to a minute
// for ready to answer 200. Its output is returned, and logged if the test
// fails.
func StartBinary(t testing.TB, bin, ready string, env []string) *SyncBuffer {
	t.Helper()
	cmd := exec.Command(bin)
	// No load balancer sends a test's binary traffic: a service stops at
	// once on SIGTERM unless env asks for a drain.
	cmd.Env = append(append(os.Environ(), "DRAIN_DELAY=0s"), env...)
	name := filepath.Base(bin)
	logs, exited := startUntilCleanup(t, cmd, name)
	watch := clock.Start()
	for {
		if resp, err := http.Get(ready); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return logs
			}
		}
		select {
		case <-exited:
			t.Fatalf("%s exited:\n%s", name, logs.String())
		default:
		}
		if watch.Elapsed() > time.Minute {
			t.Fatalf("%s not ready after a minute:\n%s", name, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
