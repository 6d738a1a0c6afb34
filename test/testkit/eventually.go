package testkit

import (
	"testing"
	"time"
)

// Eventually polls cond every 20 ms until it holds, failing the test with
// what after d. d is real time: it bounds how long the test waits for
// work running beside it, whatever the clock the service stands on says.
func Eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-timeout.C:
			t.Fatalf("timed out waiting for %s", what)
		case <-tick.C:
		}
	}
}
