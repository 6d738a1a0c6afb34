package auth

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// Throttle counts failed logins per email and per client address in
// Redis, so that every replica sees the same counts. When Redis is down
// logins go on unthrottled rather than failing: availability of login
// outweighs a short gap in brute-force protection.
//
// A window opens at the first failure and lasts window on the service's
// clock: each key is a hash of the window's first failure (Unix
// milliseconds) and its count. Redis expires a key after the window only
// to drop it; whether a window is open is decided by the clock.
type Throttle struct {
	rdb        *redis.Client
	prefix     string
	window     time.Duration
	maxByEmail int64
	maxByIP    int64
	clock      clock.Clock
}

// NewThrottle allows maxByEmail failures per email and maxByIP per address
// within window.
func NewThrottle(rdb *redis.Client, prefix string, window time.Duration, maxByEmail, maxByIP int, clk clock.Clock) *Throttle {
	return &Throttle{rdb: rdb, prefix: prefix, window: window, maxByEmail: int64(maxByEmail), maxByIP: int64(maxByIP), clock: clk}
}

func (t *Throttle) keys(email, ip string) (string, string) {
	return t.prefix + ":login-failures:email:" + strings.ToLower(email), t.prefix + ":login-failures:ip:" + ip
}

// Blocked returns how long the caller must wait, or 0.
func (t *Throttle) Blocked(ctx context.Context, email, ip string) time.Duration {
	ek, ik := t.keys(email, ip)
	pipe := t.rdb.Pipeline()
	e, i := pipe.HMGet(ctx, ek, "first", "count"), pipe.HMGet(ctx, ik, "first", "count")
	if _, err := pipe.Exec(ctx); err != nil {
		slog.WarnContext(ctx, "login throttle unavailable", "err", err)
		return 0
	}
	now := t.clock.Now()
	return max(t.wait(e, t.maxByEmail, now), t.wait(i, t.maxByIP, now))
}

// wait is how long a window of at least limit failures stays open at now.
func (t *Throttle) wait(window *redis.SliceCmd, limit int64, now time.Time) time.Duration {
	var w struct {
		First int64 `redis:"first"`
		Count int64 `redis:"count"`
	}
	if err := window.Scan(&w); err != nil || w.Count < limit {
		return 0
	}
	return max(0, time.UnixMilli(w.First).Add(t.window).Sub(now))
}

// failScript counts a failure into each key, opening a new window when the
// key has none or its window has closed at ARGV[1].
var failScript = redis.NewScript(`
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
for _, key in ipairs(KEYS) do
  local first = tonumber(redis.call('HGET', key, 'first'))
  if first == nil or now - first >= window then
    redis.call('HSET', key, 'first', now, 'count', 0)
    redis.call('PEXPIRE', key, window)
  end
  redis.call('HINCRBY', key, 'count', 1)
end
return 0`)

// Failed records a failed attempt.
func (t *Throttle) Failed(ctx context.Context, email, ip string) {
	ek, ik := t.keys(email, ip)
	if err := failScript.Run(ctx, t.rdb, []string{ek, ik}, t.clock.Now().UnixMilli(), t.window.Milliseconds()).Err(); err != nil {
		slog.WarnContext(ctx, "login throttle unavailable", "err", err)
	}
}

// Succeeded clears the email's failures.
func (t *Throttle) Succeeded(ctx context.Context, email string) {
	ek, _ := t.keys(email, "")
	_ = t.rdb.Del(ctx, ek).Err()
}
