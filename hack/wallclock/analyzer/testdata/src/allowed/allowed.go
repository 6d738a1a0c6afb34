// Package allowed uses package time without reading the wall clock.
package allowed

import "time"

// Clock is an injected clock.
type Clock interface{ Now() time.Time }

type fake struct{ at time.Time }

// Now is a method named like the wall clock's function, on a value the
// caller controls.
func (f fake) Now() time.Time { return f.at }

// Since is a function of this package named like time.Since.
func Since(c Clock, t time.Time) time.Duration { return c.Now().Sub(t) }

func instants(c Clock) (time.Time, time.Duration, time.Time) {
	at := time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)
	next := at.Add(time.Second).Truncate(time.Hour)
	return c.Now(), Since(c, at) + next.Sub(at), next
}

func shadowed() time.Time {
	time := fake{}
	return time.Now()
}

func timers(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	<-timer.C
	_ = time.Duration(0).Round(time.Millisecond)
}
