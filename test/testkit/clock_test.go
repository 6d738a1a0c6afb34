package testkit_test

import (
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/testkit"
)

func TestATestClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name string
		move func(*testkit.Clock)
		want time.Time
	}{
		{"standing still it keeps its instant", func(*testkit.Clock) {}, start},
		{"advancing crosses the leap day into March", func(c *testkit.Clock) { c.Advance(time.Second) }, time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"setting jumps to the instant given", func(c *testkit.Clock) { c.Set(time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)) }, time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testkit.NewClock(start)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Fatalf("Now() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestATestClockIsSafeToAdvanceFromManyGoroutines(t *testing.T) {
	c := testkit.NewClock(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() { defer wg.Done(); c.Advance(time.Second); _ = c.Now() }()
	}
	wg.Wait()
	if got := c.Now(); !got.Equal(time.Unix(50, 0)) {
		t.Fatalf("Now() = %v after 50 one-second advances, want %v", got, time.Unix(50, 0))
	}
}
