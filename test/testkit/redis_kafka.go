package testkit

import (
	"context"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/broker"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// RedisURL is the Redis tests use.
func RedisURL() string {
	if u := os.Getenv("WORKPULSE_REDIS_URL"); u != "" {
		return u
	}
	return "redis://127.0.0.1:6379/0"
}

// Redis returns a client and a key prefix private to this test; keys under
// the prefix are deleted when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	opt, err := redis.ParseURL(RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("testkit: Redis is not reachable at %s (run tests through make test): %v", RedisURL(), err)
	}
	prefix := "wptest:" + randomHex(6)
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}

// Kafka starts an in-process broker with every WorkPulse topic and returns
// its address; it stops when the test ends.
func Kafka(t testing.TB, opts ...kfake.Opt) []string {
	t.Helper()
	return KafkaCluster(t, opts...).ListenAddrs()
}

// KafkaCluster is Kafka for a test that steers the broker.
func KafkaCluster(t testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	t.Helper()
	c, err := broker.Start("127.0.0.1:0", 3, opts...)
	if err != nil {
		t.Fatalf("testkit: kafka broker: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// DelayFirstJoins makes c answer the first JoinGroup of every group only
// after d, as a Kafka broker does with a group that has no members
// (group.initial.rebalance.delay.ms, 3 s by default), so that members
// starting together join one generation; kfake answers at once, which hides
// what a consumer does before its group has joined.
func DelayFirstJoins(c *kfake.Cluster, d time.Duration) {
	var mu sync.Mutex
	seen := map[string]bool{}
	c.ControlKey(int16(kmsg.JoinGroup), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		group := req.(*kmsg.JoinGroupRequest).Group
		mu.Lock()
		first := !seen[group]
		seen[group] = true
		mu.Unlock()
		if first {
			// SleepControl lets the broker serve other requests meanwhile.
			c.SleepControl(func() { <-time.After(d) })
		}
		return nil, nil, false
	})
}
