// Package clock is the one package that reads the wall clock.
package clock

import "time"

// Clock tells the current time.
type Clock interface{ Now() time.Time }

// Func adapts a function to Clock.
type Func func() time.Time

// Now calls f.
func (f Func) Now() time.Time { return f() }

// Real is the wall clock.
var Real Clock = Func(time.Now)

// Start reads the wall clock for a stopwatch.
func Start() time.Time { return time.Now() }

// Elapsed is the time since start.
func Elapsed(start time.Time) time.Duration { return time.Since(start) }
