package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

func TestAFixedClockMovesOnlyWhenTold(t *testing.T) {
	start := time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)
	tests := []struct {
		name string
		move func(*clock.Fixed)
		want time.Time
	}{
		{"standing still it keeps its instant", func(*clock.Fixed) {}, start},
		{"advancing crosses the leap day into March", func(c *clock.Fixed) { c.Advance(time.Second) }, time.Date(2028, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"setting jumps to the instant given", func(c *clock.Fixed) { c.Set(time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)) }, time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := clock.NewFixed(start)
			tt.move(c)
			if got := c.Now(); !got.Equal(tt.want) {
				t.Fatalf("Now() = %v, want %v", got, tt.want)
			}
			if got := clock.Since(c, start); got != tt.want.Sub(start) {
				t.Fatalf("Since(start) = %v, want %v", got, tt.want.Sub(start))
			}
			if got := clock.Until(c, start); got != start.Sub(tt.want) {
				t.Fatalf("Until(start) = %v, want %v", got, start.Sub(tt.want))
			}
		})
	}
}

func TestAFixedClockIsSafeToAdvanceFromManyGoroutines(t *testing.T) {
	c := clock.NewFixed(time.Unix(0, 0))
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
