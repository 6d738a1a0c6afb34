package main

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/workpulse/workpulse/services/platform/clock"
)

// TestTheInProcessRedisDoesWhatTheServicesAskOfRedis runs the kinds of
// commands auth's login throttling and realtime's presence send.
func TestTheInProcessRedisDoesWhatTheServicesAskOfRedis(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := startRedis(ctx, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
	defer rdb.Close()

	t.Run("Throttling counters count within their window and are gone after it.", func(t *testing.T) {
		pipe := rdb.TxPipeline()
		incr := pipe.Incr(ctx, "failures")
		pipe.ExpireNX(ctx, "failures", time.Second)
		pipe.Incr(ctx, "failures")
		if _, err := pipe.Exec(ctx); err != nil || incr.Val() != 1 {
			t.Fatalf("incr %d, err %v", incr.Val(), err)
		}
		if n, _ := rdb.Get(ctx, "failures").Int(); n != 2 {
			t.Errorf("counted %d failures, want 2", n)
		}
		if ttl := rdb.PTTL(ctx, "failures").Val(); ttl <= 0 || ttl > time.Second {
			t.Errorf("ttl %s", ttl)
		}
		time.Sleep(1500 * time.Millisecond)
		if n, err := rdb.Exists(ctx, "failures").Result(); err != nil || n != 0 {
			t.Errorf("the counter outlived its window (%d, %v)", n, err)
		}
	})

	t.Run("Presence scripts run with the server's clock.", func(t *testing.T) {
		script := redis.NewScript(`local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + 60000, ARGV[1])
redis.call('PEXPIREAT', KEYS[1], now + 60000)
local refreshed = redis.call('ZADD', KEYS[1], 'XX', 'CH', now + 120000, ARGV[1])
redis.call('HSETNX', KEYS[2], ARGV[1], 'Ada')
return {refreshed, redis.call('HGET', KEYS[2], ARGV[1]), now}`)
		res, err := script.Run(ctx, rdb, []string{"conns", "names"}, "conn-1").Slice()
		if err != nil {
			t.Fatal(err)
		}
		now, _ := res[2].(int64)
		// The in-process server answers TIME from the wall clock, as a real one does.
		if res[0] != int64(1) || res[1] != "Ada" || clock.Since(clock.Real, time.UnixMilli(now)).Abs() > 5*time.Second {
			t.Errorf("script answered %v", res)
		}
		if online := rdb.ZRangeByScore(ctx, "conns", &redis.ZRangeBy{Min: "(" + strconv.FormatInt(now, 10), Max: "+inf"}).Val(); len(online) != 1 {
			t.Errorf("online %v", online)
		}
	})

	t.Run("Presence changes reach subscribers.", func(t *testing.T) {
		sub := rdb.Subscribe(ctx, "presence")
		defer sub.Close()
		if _, err := sub.Receive(ctx); err != nil {
			t.Fatal(err)
		}
		if err := rdb.Publish(ctx, "presence", "user:online").Err(); err != nil {
			t.Fatal(err)
		}
		select {
		case msg := <-sub.Channel():
			if msg.Payload != "user:online" {
				t.Errorf("received %q", msg.Payload)
			}
		case <-time.After(5 * time.Second):
			t.Error("nothing received")
		}
		if err := rdb.SAdd(ctx, "orgs", "o1").Err(); err != nil || rdb.SMembers(ctx, "orgs").Val()[0] != "o1" {
			t.Errorf("sets: %v", err)
		}
	})
}
