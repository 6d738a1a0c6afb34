package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

func TestSinceAndUntilMeasureOnTheClockGiven(t *testing.T) {
	now := time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC)
	c := clock.Func(func() time.Time { return now })
	tests := []struct {
		name         string
		t            time.Time
		since, until time.Duration
	}{
		{"an instant a second back across the leap day", now.Add(-time.Second), time.Second, -time.Second},
		{"the instant itself", now, 0, 0},
		{"an instant in the new year", time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC), now.Sub(time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC)), time.Date(2029, 1, 1, 0, 0, 0, 0, time.UTC).Sub(now)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clock.Since(c, tt.t); got != tt.since {
				t.Errorf("Since = %v, want %v", got, tt.since)
			}
			if got := clock.Until(c, tt.t); got != tt.until {
				t.Errorf("Until = %v, want %v", got, tt.until)
			}
		})
	}
}

func TestEveryRunsItsWorkAtEachIntervalUntilTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		clock.Every(ctx, time.Millisecond, func(context.Context) {
			if calls++; calls == 3 {
				cancel()
			}
		})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Every did not return after its context ended")
	}
	if calls != 3 {
		t.Fatalf("f ran %d times, want 3 (it stops once the context ends)", calls)
	}
}
