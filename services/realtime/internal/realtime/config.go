package realtime

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"time"

	"github.com/workpulse/workpulse/services/platform/config"
)

// Config is realtime's own configuration.
type Config struct {
	// AllowedOrigins lists the browser origins (scheme://host[:port]) that
	// may open a WebSocket; "*" allows any. A request without an Origin
	// header (a non-browser client) and a same-origin request always pass.
	AllowedOrigins []string
	// SendQueue bounds the messages waiting for one connection's writer;
	// a client that lets it fill up is disconnected.
	SendQueue int
	// WriteWait bounds one write to a client.
	WriteWait time.Duration
	// PingInterval is how often the server pings; PongWait how long it
	// waits for any frame from the client before dropping it.
	PingInterval time.Duration
	PongWait     time.Duration
	// ReadLimit caps one client message.
	ReadLimit int64
	// CloseGrace is how long a closing connection waits for the client's
	// close frame.
	CloseGrace time.Duration
	// PresenceTTL is how long a connection stays in presence without a
	// heartbeat, so that the connections of a crashed replica age out;
	// every replica refreshes its own every PresenceHeartbeat.
	PresenceTTL       time.Duration
	PresenceHeartbeat time.Duration
	// ConsumerGroup is unique per process: every replica must read every
	// event, so replicas must never share a group.
	ConsumerGroup string
	// TokenCheck is how often every connection's token is checked for
	// expiry; a revocation is applied as soon as the list brings it.
	TokenCheck time.Duration
	// RedisPrefix namespaces every key and channel.
	RedisPrefix string
}

// LoadConfig reads realtime's settings.
func LoadConfig(e *config.Env, common config.Common) Config {
	c := Config{
		AllowedOrigins:    e.List("WS_ALLOWED_ORIGINS", nil),
		SendQueue:         e.Int("WS_SEND_QUEUE", 256, 1, 1<<16),
		WriteWait:         e.Duration("WS_WRITE_TIMEOUT", 10*time.Second, 100*time.Millisecond, time.Minute),
		PingInterval:      e.Duration("WS_PING_INTERVAL", 25*time.Second, 100*time.Millisecond, 10*time.Minute),
		PongWait:          e.Duration("WS_PONG_TIMEOUT", 60*time.Second, 200*time.Millisecond, 20*time.Minute),
		ReadLimit:         int64(e.Int("WS_READ_LIMIT", 4096, 128, 1<<20)),
		CloseGrace:        e.Duration("WS_CLOSE_GRACE", 3*time.Second, 10*time.Millisecond, time.Minute),
		PresenceTTL:       e.Duration("PRESENCE_TTL", 60*time.Second, time.Second, time.Hour),
		PresenceHeartbeat: e.Duration("PRESENCE_HEARTBEAT", 20*time.Second, 100*time.Millisecond, 20*time.Minute),
		TokenCheck:        e.Duration("WS_TOKEN_CHECK_INTERVAL", time.Second, 10*time.Millisecond, time.Minute),
		ConsumerGroup:     e.String("KAFKA_CONSUMER_GROUP_PREFIX", "realtime") + "-" + instanceID(),
		RedisPrefix:       common.RedisPrefix,
	}
	if c.PingInterval >= c.PongWait {
		e.Fail("WS_PING_INTERVAL", "must be shorter than WS_PONG_TIMEOUT")
	}
	if c.PresenceHeartbeat*2 > c.PresenceTTL {
		e.Fail("PRESENCE_HEARTBEAT", "must be at most half of PRESENCE_TTL")
	}
	for _, o := range c.AllowedOrigins {
		if o != "*" && !strings.Contains(o, "://") {
			e.Fail("WS_ALLOWED_ORIGINS", "%q is not an origin (scheme://host[:port]) or *", o)
		}
	}
	return c
}

// instanceID names this process: the host name (the pod name in a
// cluster) and a random suffix, since a restarted pod keeps its name.
func instanceID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	return host + "-" + hex.EncodeToString(b[:])
}
