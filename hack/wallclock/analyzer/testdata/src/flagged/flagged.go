// Package flagged reads the wall clock in every way the analyzer reports.
package flagged

import (
	"time"
	wall "time"
)

type deps struct{ now func() time.Time }

func calls(deadline time.Time) (time.Time, time.Duration, time.Duration) {
	return time.Now(), time.Since(deadline), time.Until(deadline) // want `time.Now reads the wall clock: use c.Now\(\) of the injected clock.Clock` `time.Since reads the wall clock: use clock.Since\(c, t\)` `time.Until reads the wall clock: use clock.Until\(c, t\)`
}

func references() deps {
	return deps{now: time.Now} // want `time.Now reads the wall clock`
}

var since = time.Since // want `time.Since reads the wall clock`

func renamed() time.Time {
	return wall.Now() // want `time.Now reads the wall clock`
}

func methodOfTheResult() int {
	return time.Now().Year() // want `time.Now reads the wall clock`
}
