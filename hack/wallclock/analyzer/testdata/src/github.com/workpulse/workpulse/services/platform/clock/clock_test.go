package clock

import (
	"testing"
	"time"
)

func TestTheClockPackagesOwnTestsMayReadTheWallClock(t *testing.T) {
	if Real.Now().Before(time.Now().Add(-time.Hour)) {
		t.Fatal("Real is behind the wall clock")
	}
}
