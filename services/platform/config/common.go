package config

import (
	"time"
)

// Common is the configuration every service shares.
type Common struct {
	Service  string
	HTTPAddr string
	// InternalAddr, when set, is where /livez, /readyz and /metrics are
	// served instead of HTTPAddr, so that only the kubelet and the
	// monitoring reach them; empty serves them beside the API.
	InternalAddr string
	// TenantAPIAddr, when set, serves the /internal/ routes (auth's tenant
	// API, the operator's) on a listener of their own and answers them 404
	// on HTTPAddr, so a NetworkPolicy can open that port to the operator
	// alone. Empty serves them on HTTPAddr.
	TenantAPIAddr string
	LogLevel      string
	DatabaseURL   string
	// DatabaseUser is the service's own login role (the user of
	// DatabaseURL does not matter when it is set), subject to row-level
	// security; DatabasePassword is its password, a secret never logged.
	DatabaseUser     string
	DatabasePassword string
	DatabaseMaxConn  int
	RedisURL         string
	// RedisPrefix namespaces every key, so installations and tests can
	// share one Redis.
	RedisPrefix  string
	KafkaBrokers []string
	// KafkaTopicPrefix comes before every topic and consumer group name,
	// so that installations can share one Kafka cluster; empty keeps the
	// names every installation had before it existed.
	KafkaTopicPrefix     string
	KafkaTopicPartitions int
	// KafkaMaxAttempts is how many failed attempts a consumed event gets
	// before it is moved to its topic's dead-letter topic.
	KafkaMaxAttempts int
	// KafkaTLS and KafkaSASL* secure the connections to a managed or
	// Strimzi Kafka; the password is a secret and never logged.
	KafkaTLS           bool
	KafkaSASLMechanism string
	KafkaSASLUsername  string
	KafkaSASLPassword  string
	JWKSURL            string
	JWTIssuer          string
	// LegacyJWTSecret, when set, is the replaced system's JWT_SECRET: its
	// HS256 tokens are accepted until they expire. A secret, never logged.
	LegacyJWTSecret string
	// RevocationPoll is how often the revocation list and the team scopes
	// are read: the longest a revoked token keeps working, or a manager
	// keeps seeing a member who left their team.
	RevocationPoll time.Duration
	MaxBodyBytes   int64
	// DrainDelay is how long a service keeps serving after SIGTERM with its
	// readiness failing, before it stops accepting: the time a load
	// balancer (kube-proxy, an Ingress) takes to stop sending it new
	// connections, which would be refused otherwise.
	DrainDelay      time.Duration
	ShutdownTimeout time.Duration
	WriteTimeout    time.Duration
	// HealthPeers are other services' /readyz URLs by name: /api/health
	// reports them beside this service's own dependencies.
	HealthPeers map[string]string
	// CORSAllowedOrigins are the browser origins that may call the API;
	// ["*"] (the default) is any origin, without credentials: clients send
	// bearer tokens, not cookies.
	CORSAllowedOrigins []string
	// ExportMaxRows bounds each kind of record (activity, sign-ins, ...)
	// of one member's export; ExportTimeout is how long writing an export
	// may take, which the write timeout of other responses does not limit.
	ExportMaxRows int
	ExportTimeout time.Duration
	// APIEnvelope is "none" (success bodies as they are) or "legacy" (wrapped
	// as the replaced service did, for its clients).
	APIEnvelope string
}

// LoadCommon reads the shared settings; defaultPort is the service's own.
func LoadCommon(e *Env, service, defaultAddr string) Common {
	return Common{
		Service:              service,
		HTTPAddr:             e.String("HTTP_ADDR", defaultAddr),
		InternalAddr:         e.String("INTERNAL_HTTP_ADDR", ""),
		TenantAPIAddr:        e.String("TENANT_API_ADDR", ""),
		LogLevel:             e.String("LOG_LEVEL", "info"),
		DatabaseURL:          e.URL("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/workpulse?sslmode=disable", "postgres", "postgresql"),
		DatabaseUser:         e.String("DATABASE_USER", "workpulse_"+service), // roles.DefaultPrefix
		DatabasePassword:     e.String("DATABASE_PASSWORD", ""),
		DatabaseMaxConn:      e.Int("DATABASE_MAX_CONNS", 16, 1, 1000),
		RedisURL:             e.URL("REDIS_URL", "redis://127.0.0.1:6379/0", "redis", "rediss"),
		RedisPrefix:          e.String("REDIS_PREFIX", "wp"),
		KafkaBrokers:         e.List("KAFKA_BROKERS", []string{"127.0.0.1:9092"}),
		KafkaTopicPrefix:     topicPrefix(e),
		KafkaTopicPartitions: e.Int("KAFKA_TOPIC_PARTITIONS", 6, 1, 1000),
		KafkaMaxAttempts:     e.Int("KAFKA_MAX_ATTEMPTS", 5, 1, 1000), // kafkax.DefaultMaxAttempts
		KafkaTLS:             e.Bool("KAFKA_TLS", false),
		KafkaSASLMechanism:   e.String("KAFKA_SASL_MECHANISM", ""),
		KafkaSASLUsername:    e.String("KAFKA_SASL_USERNAME", ""),
		KafkaSASLPassword:    e.String("KAFKA_SASL_PASSWORD", ""),
		JWKSURL:              e.URL("JWKS_URL", "http://127.0.0.1:3001/api/auth/.well-known/jwks.json", "http", "https"),
		JWTIssuer:            e.String("JWT_ISSUER", "workpulse"),
		LegacyJWTSecret:      legacySecret(e),
		RevocationPoll:       e.Duration("REVOCATION_POLL_INTERVAL", time.Second, 100*time.Millisecond, time.Minute),
		MaxBodyBytes:         int64(e.Int("MAX_BODY_BYTES", 2<<20, 1024, 64<<20)),
		DrainDelay:           e.Duration("DRAIN_DELAY", 5*time.Second, 0, 5*time.Minute), // the chart's common.drainSeconds
		ShutdownTimeout:      e.Duration("SHUTDOWN_TIMEOUT", 20*time.Second, time.Second, 5*time.Minute),
		WriteTimeout:         e.Duration("HTTP_WRITE_TIMEOUT", 30*time.Second, time.Second, 10*time.Minute),
		HealthPeers:          healthPeers(e),
		CORSAllowedOrigins:   e.Origins("CORS_ALLOWED_ORIGINS", []string{"*"}),
		ExportMaxRows:        e.Int("EXPORT_MAX_ROWS", 1000000, 1, 100000000),
		ExportTimeout:        e.Duration("EXPORT_TIMEOUT", 10*time.Minute, time.Second, 24*time.Hour),
		APIEnvelope:          e.OneOf("API_ENVELOPE", "none", "none", "legacy"),
	}
}

// legacySecret reads LEGACY_JWT_SECRET. HS256 with a short secret is
// guessable offline from one token, so a secret too short to trust is
// refused at start-up rather than accepted.
func legacySecret(e *Env) string {
	s := e.String("LEGACY_JWT_SECRET", "")
	if s != "" && len(s) < 16 {
		e.Fail("LEGACY_JWT_SECRET", "must be at least 16 characters (it has %d)", len(s))
	}
	return s
}

// maxTopicPrefix leaves room under Kafka's 249 characters for the longest
// topic name (workpulse.organizations.v1.dlq) and a consumer group.
const maxTopicPrefix = 200

// topicPrefix reads KAFKA_TOPIC_PREFIX. Kafka refuses topic names with
// other characters than letters, digits, '.', '_' and '-', which would
// leave a service unable to publish anything; refuse them at start-up.
func topicPrefix(e *Env) string {
	p := e.String("KAFKA_TOPIC_PREFIX", "")
	if len(p) > maxTopicPrefix {
		e.Fail("KAFKA_TOPIC_PREFIX", "must be at most %d characters (it has %d)", maxTopicPrefix, len(p))
	}
	for _, r := range p {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			e.Fail("KAFKA_TOPIC_PREFIX", "may hold only letters, digits, '.', '_' and '-' (it has %q)", r)
			break
		}
	}
	return p
}

// healthPeers reads HEALTH_PEERS, "name=url,name=url".
func healthPeers(e *Env) map[string]string { return e.Pairs("HEALTH_PEERS") }
