package main

import (
	"context"
	"time"

	"github.com/alicebob/miniredis/v2"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// inProcessRedis is the WORKPULSE_REDIS_URL with which hack/with-deps.sh
// tells make dev that this machine has no Redis, running or installed.
const inProcessRedis = "inprocess"

// startRedis serves Redis's protocol from this process on addr, for
// machines without Redis (the README lists it as optional for make dev;
// the tests use a real one). It keeps the parts WorkPulse relies on
// working as a server would: Lua scripts, TIME, pub/sub, and keys that
// expire as the clock moves, which the library only does when told to.
func startRedis(ctx context.Context, addr string) (*miniredis.Miniredis, error) {
	m := miniredis.NewMiniRedis()
	if err := m.StartAddr(addr); err != nil {
		return nil, err
	}
	go func() {
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		watch, moved := clock.Start(), time.Duration(0)
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				elapsed := watch.Elapsed()
				m.FastForward(elapsed - moved)
				moved = elapsed
			}
		}
	}()
	return m, nil
}
