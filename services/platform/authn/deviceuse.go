package authn

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// DeviceUseSink stores when a device token was last used.
type DeviceUseSink interface {
	DeviceUsed(ctx context.Context, deviceID string, at time.Time) error
}

// DeviceUseInterval is how often a device's last use is written at most:
// an agent posts activity every few seconds, and the list of devices
// shows its last use to the minute.
const DeviceUseInterval = time.Minute

// DeviceUse records when device tokens were used, at most once a
// DeviceUseInterval per device and service replica, so that an agent's
// heartbeats cost no write each.
type DeviceUse struct {
	sink  DeviceUseSink
	clock clock.Clock

	mu      sync.Mutex
	written map[string]time.Time // by device id
	swept   time.Time
}

// NewDeviceUse writes to sink; clk stamps the uses.
func NewDeviceUse(sink DeviceUseSink, clk clock.Clock) *DeviceUse {
	return &DeviceUse{sink: sink, clock: clk, written: map[string]time.Time{}}
}

// Note records a use of the device's token unless one was written less
// than DeviceUseInterval ago. A failed write is logged and retried at the
// next use after the interval: the last-used time is informative, and
// the request goes on.
func (u *DeviceUse) Note(ctx context.Context, deviceID string) {
	now := u.clock.Now()
	u.mu.Lock()
	if last, ok := u.written[deviceID]; ok && now.Sub(last) < DeviceUseInterval {
		u.mu.Unlock()
		return
	}
	u.written[deviceID] = now
	u.sweep(now)
	u.mu.Unlock()
	if err := u.sink.DeviceUsed(ctx, deviceID, now); err != nil && ctx.Err() == nil {
		slog.WarnContext(ctx, "device last use not recorded", "device", deviceID, "err", err)
	}
}

// sweep forgets, once an interval, the devices written before it, which
// the next use writes anyway; u.mu must be held.
func (u *DeviceUse) sweep(now time.Time) {
	if now.Sub(u.swept) < DeviceUseInterval {
		return
	}
	u.swept = now
	for id, at := range u.written {
		if now.Sub(at) >= DeviceUseInterval {
			delete(u.written, id)
		}
	}
}
