package auth

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// Throttle counts login and registration attempts in Redis, so that every
// replica sees the same counts. When Redis is down attempts go on
// unthrottled rather than failing: availability of login outweighs a
// short gap in brute-force protection, and the Hasher still bounds what a
// flood costs.
//
// An attempt is counted before its password is hashed, atomically with
// the check, so that concurrent attempts cannot all pass a check no
// failure has been counted for yet; an attempt that turns out right (or
// was never verified) is refunded.
//
// Per account, failures slow attempts down instead of locking the account:
// after freeByEmail attempts each next one waits baseDelay, doubled per
// further failure up to maxDelay, so a guesser gets a few attempts a
// minute while the owner, typing the right password, waits at most
// maxDelay. Per address, attempts are capped at maxByIP a window.
//
// A window opens at the first attempt and lasts window on the service's
// clock: each key is a hash of the window's first attempt (Unix
// milliseconds), its count and (per account) its last attempt. Redis
// expires a key after the window only to drop it; whether a window is
// open is decided by the clock.
type Throttle struct {
	rdb         *redis.Client
	prefix      string
	window      time.Duration
	freeByEmail int64
	maxByIP     int64
	baseDelay   time.Duration
	maxDelay    time.Duration
	regWindow   time.Duration
	maxRegByIP  int64
	clock       clock.Clock
}

// ThrottleLimits are the throttle's settings.
type ThrottleLimits struct {
	Window      time.Duration // the login window
	FreeByEmail int           // attempts per account before delays begin
	MaxByIP     int           // login attempts per address per window
	BaseDelay   time.Duration // the first delay, doubled per further failure
	MaxDelay    time.Duration // the longest delay
	RegWindow   time.Duration // the registration window
	MaxRegByIP  int           // registrations per address per window
}

// NewThrottle returns a throttle with limits l keeping its counts in rdb
// under prefix; clk decides the windows and delays.
func NewThrottle(rdb *redis.Client, prefix string, l ThrottleLimits, clk clock.Clock) *Throttle {
	return &Throttle{rdb: rdb, prefix: prefix, window: l.Window, freeByEmail: int64(l.FreeByEmail),
		maxByIP: int64(l.MaxByIP), baseDelay: l.BaseDelay, maxDelay: l.MaxDelay, regWindow: l.RegWindow,
		maxRegByIP: int64(l.MaxRegByIP), clock: clk}
}

func (t *Throttle) loginKeys(email, ip string) []string {
	return []string{t.prefix + ":login-attempts:email:" + strings.ToLower(email), t.prefix + ":login-attempts:ip:" + ip}
}

func (t *Throttle) registerKey(ip string) []string {
	return []string{t.prefix + ":register-attempts:ip:" + ip}
}

// windowLua opens a new window in key when it has none or its window has
// closed at now.
const windowLua = `
local function open(key, now, window)
  local first = tonumber(redis.call('HGET', key, 'first'))
  if first == nil or now - first >= window then
    redis.call('DEL', key)
    redis.call('HSET', key, 'first', now, 'count', 0, 'last', 0)
    redis.call('PEXPIRE', key, window)
    return now, 0, 0
  end
  return first, tonumber(redis.call('HGET', key, 'count')), tonumber(redis.call('HGET', key, 'last'))
end
`

// loginScript checks and counts a login attempt: KEYS are the account's
// and the address's keys; ARGV now, window, free attempts per account,
// base and maximum delay (milliseconds) and attempts per address. It
// returns how many milliseconds the caller must wait, counting the
// attempt only when that is 0.
var loginScript = redis.NewScript(windowLua + `
local now, window, free, base, maxd, maxip = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local _, ecount, elast = open(KEYS[1], now, window)
local ifirst, icount = open(KEYS[2], now, window)
local wait = 0
if ecount >= free then
  local delay = math.min(maxd, base * 2 ^ math.min(ecount - free, 30))
  wait = math.max(wait, elast + delay - now)
end
if icount >= maxip then
  wait = math.max(wait, ifirst + window - now)
end
if wait > 0 then
  return math.ceil(wait)
end
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSET', KEYS[1], 'last', now)
redis.call('HINCRBY', KEYS[2], 'count', 1)
return 0`)

// countScript checks and counts an attempt against a cap per window: KEYS
// is the key; ARGV now, window and cap. It returns the wait in
// milliseconds, counting the attempt only when that is 0.
var countScript = redis.NewScript(windowLua + `
local now, window, cap = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local first, count = open(KEYS[1], now, window)
if count >= cap then
  return first + window - now
end
redis.call('HINCRBY', KEYS[1], 'count', 1)
return 0`)

// refundScript takes an attempt back from every key that still counts it.
var refundScript = redis.NewScript(`
for _, key in ipairs(KEYS) do
  if (tonumber(redis.call('HGET', key, 'count')) or 0) > 0 then
    redis.call('HINCRBY', key, 'count', -1)
  end
end
return 0`)

// run runs a checking script and returns its wait.
func (t *Throttle) run(ctx context.Context, s *redis.Script, keys []string, args ...any) time.Duration {
	ms, err := s.Run(ctx, t.rdb, keys, append([]any{t.clock.Now().UnixMilli()}, args...)...).Int64()
	if err != nil {
		slog.WarnContext(ctx, "throttle unavailable", "err", err)
		return 0
	}
	return time.Duration(ms) * time.Millisecond
}

// LoginAttempt counts a login attempt, or returns how long the caller
// must wait before one is allowed (and does not count it).
func (t *Throttle) LoginAttempt(ctx context.Context, email, ip string) time.Duration {
	return t.run(ctx, loginScript, t.loginKeys(email, ip), t.window.Milliseconds(), t.freeByEmail,
		t.baseDelay.Milliseconds(), t.maxDelay.Milliseconds(), t.maxByIP)
}

// LoginRefund takes back an attempt that was not a wrong password (it was
// never verified, or it opened an account that cannot log in).
func (t *Throttle) LoginRefund(ctx context.Context, email, ip string) {
	t.refund(ctx, t.loginKeys(email, ip))
}

// LoginSucceeded clears the account's attempts and takes the address's
// back, so that an office behind one address is capped on failures only.
func (t *Throttle) LoginSucceeded(ctx context.Context, email, ip string) {
	keys := t.loginKeys(email, ip)
	_ = t.rdb.Del(ctx, keys[0]).Err()
	t.refund(ctx, keys[1:])
}

// RegisterAttempt counts a registration from ip, or returns the wait.
func (t *Throttle) RegisterAttempt(ctx context.Context, ip string) time.Duration {
	return t.run(ctx, countScript, t.registerKey(ip), t.regWindow.Milliseconds(), t.maxRegByIP)
}

// RegisterRefund takes back a registration that joined through an
// invitation (the invitation is the proof; a team onboarding from one
// office is not a flood) or was never hashed.
func (t *Throttle) RegisterRefund(ctx context.Context, ip string) {
	t.refund(ctx, t.registerKey(ip))
}

func (t *Throttle) refund(ctx context.Context, keys []string) {
	if err := refundScript.Run(ctx, t.rdb, keys).Err(); err != nil {
		slog.WarnContext(ctx, "throttle unavailable", "err", err)
	}
}
