package auth

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Throttle counts failed logins per email and per client address in
// Redis, so that every replica sees the same counts. When Redis is down
// logins go on unthrottled rather than failing: availability of login
// outweighs a short gap in brute-force protection.
type Throttle struct {
	rdb        *redis.Client
	prefix     string
	window     time.Duration
	maxByEmail int64
	maxByIP    int64
}

// NewThrottle allows maxByEmail failures per email and maxByIP per address
// within window.
func NewThrottle(rdb *redis.Client, prefix string, window time.Duration, maxByEmail, maxByIP int) *Throttle {
	return &Throttle{rdb: rdb, prefix: prefix, window: window, maxByEmail: int64(maxByEmail), maxByIP: int64(maxByIP)}
}

func (t *Throttle) keys(email, ip string) (string, string) {
	return t.prefix + ":login-fail:email:" + strings.ToLower(email), t.prefix + ":login-fail:ip:" + ip
}

// Blocked returns how long the caller must wait, or 0.
func (t *Throttle) Blocked(ctx context.Context, email, ip string) time.Duration {
	ek, ik := t.keys(email, ip)
	pipe := t.rdb.Pipeline()
	ec, ic := pipe.Get(ctx, ek), pipe.Get(ctx, ik)
	et, it := pipe.PTTL(ctx, ek), pipe.PTTL(ctx, ik)
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		slog.WarnContext(ctx, "login throttle unavailable", "err", err)
		return 0
	}
	var wait time.Duration
	if n, _ := ec.Int64(); n >= t.maxByEmail {
		wait = max(wait, et.Val())
	}
	if n, _ := ic.Int64(); n >= t.maxByIP {
		wait = max(wait, it.Val())
	}
	return wait
}

// Failed records a failed attempt.
func (t *Throttle) Failed(ctx context.Context, email, ip string) {
	ek, ik := t.keys(email, ip)
	pipe := t.rdb.TxPipeline()
	for _, k := range []string{ek, ik} {
		pipe.Incr(ctx, k)
		pipe.ExpireNX(ctx, k, t.window)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		slog.WarnContext(ctx, "login throttle unavailable", "err", err)
	}
}

// Succeeded clears the email's failures.
func (t *Throttle) Succeeded(ctx context.Context, email string) {
	ek, _ := t.keys(email, "")
	_ = t.rdb.Del(ctx, ek).Err()
}
