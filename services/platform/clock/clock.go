// Package clock is the one source of the current time for every decision
// WorkPulse makes: partition planning, retention, summaries and their
// catch-up, idle and overtime detection, token expiry, key rotation,
// invitation expiry and throttling windows. Production passes Real; tests
// pass a clock standing on the instant they need, so a suite's verdict never
// depends on the day it runs.
package clock

import (
	"context"
	"time"
)

// Clock tells the current time.
type Clock interface {
	Now() time.Time
}

// Func adapts a function to Clock.
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// Real is the wall clock. Main packages pass it on; a test uses it only
// where real time must pass (real binaries, sockets, certificates).
var Real Clock = Func(time.Now)

// Since is the time elapsed on c since t.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

// Until is the time left on c until t.
func Until(c Clock, t time.Time) time.Duration { return t.Sub(c.Now()) }

// Stopwatch measures how long something takes, for metrics and logs only.
// It reads the monotonic clock and decides nothing by the date, so it needs
// no injected clock.
type Stopwatch struct{ start time.Time }

// Start starts a stopwatch.
func Start() Stopwatch { return Stopwatch{start: time.Now()} }

// Elapsed is the time since the stopwatch started.
func (s Stopwatch) Elapsed() time.Duration { return time.Since(s.start) }

// Every calls f each time d passes until ctx is done. Periodic work
// (refreshing keys, heartbeats, maintenance passes) runs on real intervals:
// it is scheduled by elapsed time, not decided by the date.
func Every(ctx context.Context, d time.Duration, f func(context.Context)) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A tick may be ready together with the end of ctx; ending wins.
			if ctx.Err() != nil {
				return
			}
			f(ctx)
		}
	}
}
