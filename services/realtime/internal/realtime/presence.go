package realtime

import (
	"context"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Presence is the cluster-wide record of who is connected, in Redis. Each
// connection is a member of its user's sorted set scored by its expiry;
// the replica holding it pushes the expiry forward every heartbeat, so a
// crashed replica's connections age out by themselves. Each organization
// has a sorted set of its online users scored the same way, and a hash of
// user names fed by user.created events.
//
// Keys carry the organization as a hash tag so that each script's keys
// live in one Redis Cluster slot. Times come from the Redis clock, so
// replicas with skewed clocks agree on expiry.
type Presence struct {
	rdb    *redis.Client
	prefix string
	ttl    time.Duration
}

// NewPresence keeps presence under prefix, connections expiring after ttl
// without a heartbeat.
func NewPresence(rdb *redis.Client, prefix string, ttl time.Duration) *Presence {
	return &Presence{rdb: rdb, prefix: prefix, ttl: ttl}
}

func (p *Presence) connsKey(org, user string) string {
	return p.prefix + ":rt:{" + org + "}:conns:" + user
}
func (p *Presence) onlineKey(org string) string { return p.prefix + ":rt:{" + org + "}:online" }
func (p *Presence) namesKey(org string) string  { return p.prefix + ":rt:{" + org + "}:names" }

// orgsKey lists the organizations that may have users online, for Sweep.
func (p *Presence) orgsKey() string { return p.prefix + ":rt:orgs" }

// Channel carries presence changes to every replica.
func (p *Presence) Channel() string { return p.prefix + ":rt:presence" }

const luaNow = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

// joinScript adds or refreshes a connection. KEYS: conns, online, names;
// ARGV: conn id, user id, ttl ms, fallback name. Returns the number of
// the user's other live connections and the user's name.
var joinScript = redis.NewScript(luaNow + `
local exp = now + tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local others = redis.call('ZCARD', KEYS[1]) - (redis.call('ZSCORE', KEYS[1], ARGV[1]) and 1 or 0)
redis.call('ZADD', KEYS[1], exp, ARGV[1])
redis.call('PEXPIREAT', KEYS[1], exp)
redis.call('ZADD', KEYS[2], exp, ARGV[2])
redis.call('PEXPIREAT', KEYS[2], exp)
if ARGV[4] ~= '' then redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[4]) end
return {others, redis.call('HGET', KEYS[3], ARGV[2]) or ''}
`)

// leaveScript removes a connection. KEYS: conns, online; ARGV: conn id,
// user id. Returns the user's remaining live connections.
var leaveScript = redis.NewScript(luaNow + `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local left = redis.call('ZCARD', KEYS[1])
if left == 0 then redis.call('ZREM', KEYS[2], ARGV[2]) end
return left
`)

// onlineScript lists the live users of an organization, or only ARGV[1]
// if it is given. KEYS: online.
var onlineScript = redis.NewScript(luaNow + `
if ARGV[1] ~= '' then
  local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if s and tonumber(s) > now then return {ARGV[1]} end
  return {}
end
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')
`)

// sweepScript removes the users of an organization whose every
// connection expired, and returns them (each to exactly one caller) and
// how many users are left. Expired users are left for it alone to remove,
// so that each is announced offline once. KEYS: online.
var sweepScript = redis.NewScript(luaNow + `
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #gone > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now) end
return {gone, redis.call('ZCARD', KEYS[1])}
`)

// Join records a connection. It returns whether the user was offline
// before (no other live connection anywhere) and the user's name, which
// is fallbackName when the directory does not know the user yet.
func (p *Presence) Join(ctx context.Context, org, user, connID, fallbackName string) (wasOffline bool, name string, err error) {
	res, err := joinScript.Run(ctx, p.rdb, []string{p.connsKey(org, user), p.onlineKey(org), p.namesKey(org)},
		connID, user, p.ttl.Milliseconds(), fallbackName).Slice()
	if err != nil {
		return false, "", err
	}
	others, _ := res[0].(int64)
	name, _ = res[1].(string)
	return others == 0, name, p.rdb.SAdd(ctx, p.orgsKey(), org).Err()
}

// Member identifies one connection for Refresh.
type Member struct{ Org, User, ConnID string }

// refreshScript pushes the expiry of many connections of one organization
// forward. KEYS: online, then one conns key per connection; ARGV: ttl ms,
// then the connection and user id of each conns key in turn. Only
// connections still present are refreshed (XX): one that closed since
// the caller listed it must not come back.
var refreshScript = redis.NewScript(luaNow + `
local exp = now + tonumber(ARGV[1])
for i = 2, #KEYS do
  if redis.call('ZADD', KEYS[i], 'XX', 'CH', exp, ARGV[2 * i - 2]) == 1 then
    redis.call('PEXPIREAT', KEYS[i], exp)
    redis.call('ZADD', KEYS[1], exp, ARGV[2 * i - 1])
  end
end
redis.call('PEXPIREAT', KEYS[1], exp)
return #KEYS - 1
`)

// Batching of Refresh: connections per script call, calls per round trip.
const (
	refreshBatch    = 100
	refreshPipeline = 10
)

// Refresh pushes the expiry of every given connection forward. It batches
// connections by organization and spreads the round trips over spread, so
// that thousands of connections are not one burst on Redis.
func (p *Presence) Refresh(ctx context.Context, members []Member, spread time.Duration) error {
	if len(members) == 0 {
		return nil
	}
	if err := refreshScript.Load(ctx, p.rdb).Err(); err != nil {
		return err
	}
	byOrg := map[string][]Member{}
	for _, m := range members {
		byOrg[m.Org] = append(byOrg[m.Org], m)
	}
	ttl := strconv.FormatInt(p.ttl.Milliseconds(), 10)
	type call struct {
		keys []string
		args []any
	}
	var calls []call
	for org, ms := range byOrg {
		for len(ms) > 0 {
			n := min(len(ms), refreshBatch)
			c := call{keys: []string{p.onlineKey(org)}, args: []any{ttl}}
			for _, m := range ms[:n] {
				c.keys = append(c.keys, p.connsKey(org, m.User))
				c.args = append(c.args, m.ConnID, m.User)
			}
			calls = append(calls, c)
			ms = ms[n:]
		}
	}
	orgs := make([]any, 0, len(byOrg))
	for org := range byOrg {
		orgs = append(orgs, org)
	}
	if err := p.rdb.SAdd(ctx, p.orgsKey(), orgs...).Err(); err != nil {
		return err
	}
	rounds := (len(calls) + refreshPipeline - 1) / refreshPipeline
	pause := spread / time.Duration(rounds)
	for len(calls) > 0 {
		n := min(len(calls), refreshPipeline)
		pipe := p.rdb.Pipeline()
		for _, c := range calls[:n] {
			refreshScript.EvalSha(ctx, pipe, c.keys, c.args...)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return err
		}
		if calls = calls[n:]; len(calls) > 0 {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(pause):
			}
		}
	}
	return nil
}

// Leave removes a connection and reports whether it was the user's last.
func (p *Presence) Leave(ctx context.Context, org, user, connID string) (wentOffline bool, err error) {
	left, err := leaveScript.Run(ctx, p.rdb, []string{p.connsKey(org, user), p.onlineKey(org)}, connID, user).Int64()
	return err == nil && left == 0, err
}

// Sweep removes the users whose every connection expired, because their
// replica died or shut down and they did not reconnect elsewhere within
// the TTL, and returns them. Every replica sweeps; each user is returned
// to one of them.
func (p *Presence) Sweep(ctx context.Context) ([]OnlineUser, error) {
	orgs, err := p.rdb.SMembers(ctx, p.orgsKey()).Result()
	if err != nil {
		return nil, err
	}
	var out []OnlineUser
	for _, org := range orgs {
		res, err := sweepScript.Run(ctx, p.rdb, []string{p.onlineKey(org)}).Slice()
		if err != nil {
			return out, err
		}
		gone, _ := res[0].([]any)
		if left, _ := res[1].(int64); left == 0 {
			// A user who joins meanwhile puts the organization back at the
			// next heartbeat.
			_ = p.rdb.SRem(ctx, p.orgsKey(), org).Err()
		}
		if len(gone) == 0 {
			continue
		}
		ids := make([]string, len(gone))
		for i, g := range gone {
			ids[i], _ = g.(string)
		}
		names, err := p.rdb.HMGet(ctx, p.namesKey(org), ids...).Result()
		if err != nil {
			names = make([]any, len(ids))
		}
		for i, id := range ids {
			name, _ := names[i].(string)
			out = append(out, OnlineUser{UserID: id, Name: name, OrganizationID: org})
		}
	}
	return out, nil
}

// SetName records a user's name in the directory.
func (p *Presence) SetName(ctx context.Context, org, user, name string) error {
	return p.rdb.HSet(ctx, p.namesKey(org), user, name).Err()
}

// ForgetName drops a user from the directory.
func (p *Presence) ForgetName(ctx context.Context, org, user string) error {
	return p.rdb.HDel(ctx, p.namesKey(org), user).Err()
}

// Name looks a user's name up in the directory; "" when unknown.
func (p *Presence) Name(ctx context.Context, org, user string) (string, error) {
	name, err := p.rdb.HGet(ctx, p.namesKey(org), user).Result()
	if err == redis.Nil {
		return "", nil
	}
	return name, err
}

// OnlineUser is one entry of GET /api/presence.
type OnlineUser struct {
	UserID         string `json:"user_id"`
	Name           string `json:"name"`
	OrganizationID string `json:"organization_id"`
}

// Online lists the organization's connected users, or only user when it
// is not "".
func (p *Presence) Online(ctx context.Context, org, user string) ([]OnlineUser, error) {
	ids, err := onlineScript.Run(ctx, p.rdb, []string{p.onlineKey(org)}, user).StringSlice()
	if err != nil {
		return nil, err
	}
	out := make([]OnlineUser, 0, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	names, err := p.rdb.HMGet(ctx, p.namesKey(org), ids...).Result()
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		name, _ := names[i].(string)
		out = append(out, OnlineUser{UserID: id, Name: name, OrganizationID: org})
	}
	return out, nil
}
