package tracking

import (
	"context"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// readingTTL is how long an organization's setting read from the database
// is kept; maxReadings bounds the organizations kept at once.
const (
	readingTTL  = time.Minute
	maxReadings = 100_000
)

// orgReadings keeps each organization's reading of a setting for
// readingTTL on the clock, so that the activity hot path reads no row and
// a changed setting applies within the TTL.
type orgReadings[T any] struct {
	clock clock.Clock
	load  func(ctx context.Context, orgID string) (T, error)

	mu   sync.Mutex
	seen map[string]reading[T]
}

type reading[T any] struct {
	value T
	at    time.Time
}

func newOrgReadings[T any](clk clock.Clock, load func(ctx context.Context, orgID string) (T, error)) *orgReadings[T] {
	return &orgReadings[T]{clock: clk, load: load, seen: map[string]reading[T]{}}
}

// of is orgID's setting, read again once the kept reading is older than
// readingTTL (or from the future: the clock was set back).
func (o *orgReadings[T]) of(ctx context.Context, orgID string) (T, error) {
	now := o.clock.Now()
	o.mu.Lock()
	r, ok := o.seen[orgID]
	o.mu.Unlock()
	if ok && now.Sub(r.at) < readingTTL && !now.Before(r.at) {
		return r.value, nil
	}
	v, err := o.load(ctx, orgID)
	if err != nil {
		return v, err
	}
	o.mu.Lock()
	if len(o.seen) >= maxReadings {
		clear(o.seen)
	}
	o.seen[orgID] = reading[T]{value: v, at: now}
	o.mu.Unlock()
	return v, nil
}

// forget drops orgID's reading, so that the next one reads the row: the
// replica that changed a setting applies it at once.
func (o *orgReadings[T]) forget(orgID string) {
	o.mu.Lock()
	delete(o.seen, orgID)
	o.mu.Unlock()
}
