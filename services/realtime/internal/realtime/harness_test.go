package realtime

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/test/testkit"
)

// env is one test's dependencies, shared by the replicas it starts.
type env struct {
	db      *testkit.DB
	rdb     *redis.Client
	prefix  string
	brokers []string
	writer  *kafka.Writer
	keys    *testKeys
	// teams are the managers' team scopes the verifier hands out.
	teams *testkit.Teams
	// clock is the replicas' clock. It is the wall clock: the network
	// stack enforces the connections' deadlines against it, so a clock
	// standing still would keep pings, pongs and close handshakes from
	// ever timing out, or make them time out at once.
	clock clock.Clock
}

// testKeys signs tokens at any time, so that tests can make expired ones.
type testKeys struct {
	signer   authn.Signer
	verifier *authn.Verifier
	clock    clock.Clock
}

type staticKey struct {
	kid string
	pub ed25519.PublicKey
}

func (k staticKey) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if kid != k.kid {
		return nil, authn.ErrUnknownKey
	}
	return k.pub, nil
}

func newTestKeys(t testing.TB, clk clock.Clock) *testKeys {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid := uuid.NewString()
	return &testKeys{
		signer:   authn.Signer{Kid: kid, Key: priv, Issuer: "workpulse", TTL: time.Hour},
		verifier: authn.NewVerifier(staticKey{kid: kid, pub: pub}, "workpulse", clk),
		clock:    clk,
	}
}

func (k *testKeys) tokenAt(t testing.TB, p authn.Principal, issued time.Time) string {
	t.Helper()
	tok, err := k.signer.Sign(p, issued)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (k *testKeys) token(t testing.TB, p authn.Principal) string {
	return k.tokenAt(t, p, k.clock.Now())
}

// newEnv gives the test its own database, Redis prefix and clock, so
// that it runs beside the others.
func newEnv(t *testing.T) *env {
	t.Helper()
	t.Parallel()
	rdb, prefix := testkit.Redis(t)
	e := &env{db: testkit.NewDB(t), rdb: rdb, prefix: prefix, brokers: testkit.Kafka(t), clock: clock.Real}
	e.keys = newTestKeys(t, e.clock)
	e.teams = testkit.NewTeams(t, e.db, "workpulse_realtime", e.keys.verifier)
	e.writer = kafkax.NewWriter(e.brokers)
	t.Cleanup(func() { _ = e.writer.Close() })
	return e
}

// testConfig is the production configuration with the timings shortened.
func (e *env) testConfig(t testing.TB, overrides map[string]string) Config {
	t.Helper()
	vars := map[string]string{
		"WS_PING_INTERVAL": "500ms", "WS_PONG_TIMEOUT": "3s", "WS_CLOSE_GRACE": "500ms",
		"PRESENCE_TTL": "3s", "PRESENCE_HEARTBEAT": "500ms", "WS_SEND_QUEUE": "64",
		"KAFKA_CONSUMER_GROUP_PREFIX": "realtime-test",
	}
	for k, v := range overrides {
		vars[k] = v
	}
	envv := config.FromMap(vars)
	cfg := LoadConfig(envv, config.Common{RedisPrefix: e.prefix})
	if err := envv.Err(); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// replica is one running realtime process, minus app.Run's plumbing.
type replica struct {
	srv      *Server
	http     *httptest.Server
	reg      *prometheus.Registry
	stopOnce sync.Once
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	// draining is closed when stop starts draining HTTP, as app.Run's
	// context ends.
	draining chan struct{}
}

func (e *env) start(t *testing.T, overrides map[string]string) *replica {
	t.Helper()
	return e.startWith(t, e.rdb, overrides)
}

// startWith starts a replica on its own Redis client (same key space).
func (e *env) startWith(t *testing.T, rdb *redis.Client, overrides map[string]string) *replica {
	t.Helper()
	cfg := e.testConfig(t, overrides)
	reg := prometheus.NewRegistry()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	draining := make(chan struct{})
	srv := NewServer(Deps{
		Draining: draining,
		Config:   cfg, DB: e.db.Pool(t, "workpulse_realtime"), Redis: rdb, Verifier: e.keys.verifier, Kafka: kafkax.ConsumerConfig{Brokers: e.brokers},
		Registry: reg, HTTP: metrics.NewHTTP(reg, "realtime"), Consumer: kafkax.NewConsumerMetrics(reg, "realtime", e.clock),
		Log: log, Service: "realtime", Clock: e.clock,
	})
	r := &replica{srv: srv, reg: reg, http: httptest.NewServer(srv), draining: draining}
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	for _, w := range srv.Workers() {
		r.wg.Add(1)
		go func() { defer r.wg.Done(); _ = w(ctx) }()
	}
	t.Cleanup(r.stop)
	// Ready: from now on the replica delivers every event published.
	waitFor(t, 10*time.Second, "replica ready", func() bool { return srv.Ready(ctx) == nil })
	return r
}

// stop shuts the replica down as app.Run does: HTTP first, then workers.
func (r *replica) stop() {
	r.stopOnce.Do(func() {
		close(r.draining)
		r.http.Close()
		r.cancel()
		r.wg.Wait()
	})
}

func (r *replica) wsURL(query string) string {
	u := "ws" + strings.TrimPrefix(r.http.URL, "http") + "/api/ws"
	if query != "" {
		u += "?" + query
	}
	return u
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// waitFor waits for cond as testkit.Eventually does.
var waitFor = testkit.Eventually

// message is a received WebSocket message.
type message struct {
	Event     string          `json:"event"`
	Data      json.RawMessage `json:"data"`
	Timestamp time.Time       `json:"timestamp"`
}

func (m message) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(m.Data, v); err != nil {
		t.Fatalf("decode %s data %s: %v", m.Event, m.Data, err)
	}
}

// wsClient reads on its own goroutine into a channel.
type wsClient struct {
	t    testing.TB
	conn *websocket.Conn
	msgs chan message
	// err is the error that ended reading, once msgs is closed.
	err error
}

func dialRaw(t testing.TB, url string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	c, resp, err := d.Dial(url, header)
	if c != nil {
		t.Cleanup(func() { _ = c.Close() })
	}
	return c, resp, err
}

func (e *env) dial(t testing.TB, r *replica, p authn.Principal) *wsClient {
	t.Helper()
	c, _, err := dialRaw(t, r.wsURL("token="+e.keys.token(t, p)), nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	return readInBackground(t, c)
}

func readInBackground(t testing.TB, c *websocket.Conn) *wsClient {
	w := &wsClient{t: t, conn: c, msgs: make(chan message, 1024)}
	go func() {
		defer close(w.msgs)
		for {
			_, b, err := c.ReadMessage()
			if err != nil {
				w.err = err
				return
			}
			var m message
			if err := json.Unmarshal(b, &m); err != nil {
				w.err = err
				return
			}
			w.msgs <- m
		}
	}()
	return w
}

// expect returns the next message named event, skipping others.
func (w *wsClient) expect(event string, d time.Duration) message {
	w.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				w.t.Fatalf("connection ended waiting for %s: %v", event, w.err)
			}
			if m.Event == event {
				return m
			}
		case <-timeout:
			w.t.Fatalf("no %s within %s", event, d)
		}
	}
}

// collect returns every message received within d.
func (w *wsClient) collect(d time.Duration) []message {
	var out []message
	timeout := time.After(d)
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				return out
			}
			out = append(out, m)
		case <-timeout:
			return out
		}
	}
}

// drain discards the messages received so far.
func (w *wsClient) drain() {
	for {
		select {
		case _, ok := <-w.msgs:
			if !ok {
				return
			}
		default:
			return
		}
	}
}

// closed waits for the connection to end and returns its close error.
func (w *wsClient) closed(d time.Duration) error {
	w.t.Helper()
	timeout := time.After(d)
	for {
		select {
		case _, ok := <-w.msgs:
			if !ok {
				return w.err
			}
		case <-timeout:
			w.t.Fatalf("connection still open after %s", d)
		}
	}
}

func (e *env) publish(t testing.TB, typ, org, key string, data any) events.Envelope {
	t.Helper()
	return publishAll(t, e.writer, typ, org, key, data)[0]
}

// publishAll publishes one event per payload in a single batch.
func publishAll[T any](t testing.TB, w *kafka.Writer, typ, org, key string, data ...T) []events.Envelope {
	t.Helper()
	topic, _ := events.TopicFor(typ)
	envs := make([]events.Envelope, len(data))
	msgs := make([]kafka.Message, len(data))
	for i, d := range data {
		env, err := events.New(clock.Real.Now(), "test", typ, org, key, d)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(env)
		envs[i], msgs[i] = env, kafka.Message{Topic: topic, Key: []byte(env.Key), Value: b}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("publish %s: %v", typ, err)
	}
	return envs
}

func (e *env) session(p authn.Principal) events.Session {
	now := e.clock.Now().UTC()
	return events.Session{SessionID: uuid.NewString(), OrganizationID: p.OrganizationID, UserID: p.UserID,
		Status: "active", StartTime: now, LastActivityAt: &now, Version: 1}
}

func (e *env) publishActivity(t testing.TB, p authn.Principal, active int64) events.Envelope {
	s := e.session(p)
	s.TotalActiveSeconds = active
	return e.publish(t, events.TypeActivityRecorded, p.OrganizationID, s.SessionID,
		events.ActivityRecorded{Session: s, Stored: 1, ActiveSeconds: active})
}

func (e *env) alert(p authn.Principal, typ, msg string) events.Alert {
	return events.Alert{AlertID: uuid.NewString(), OrganizationID: p.OrganizationID, UserID: p.UserID,
		AlertType: typ, Message: msg, CreatedAt: e.clock.Now().UTC()}
}

func (e *env) publishAlert(t testing.TB, p authn.Principal, typ, msg string) events.Envelope {
	return e.publish(t, events.TypeAlertRaised, p.OrganizationID, p.UserID, e.alert(p, typ, msg))
}

func closeCode(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}
