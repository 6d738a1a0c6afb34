package testkit

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/broker"

	"github.com/redis/go-redis/v9"
	"github.com/twmb/franz-go/pkg/kfake"
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
	c, err := broker.Start("127.0.0.1:0", 3, opts...)
	if err != nil {
		t.Fatalf("testkit: kafka broker: %v", err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}
