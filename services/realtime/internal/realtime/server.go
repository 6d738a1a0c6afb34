// Package realtime is the realtime service: it pushes presence, session
// updates and alerts to dashboards over WebSocket, fed by Kafka, and keeps
// cluster-wide presence in Redis.
//
// Every replica reads every event (its consumer group is its own) and
// delivers each to those of its own connections allowed to see it;
// presence changes caused by connections travel between replicas on a
// Redis channel. See docs/realtime.md.
package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// Deps are what the service runs on.
type Deps struct {
	Config   Config
	DB       *pgxpool.Pool
	Redis    *redis.Client
	Verifier *authn.Verifier
	// Kafka is the installation's brokers, security, topic prefix and
	// attempts (app.Deps.KafkaConsumer); the service adds its group.
	Kafka    kafkax.ConsumerConfig
	Registry prometheus.Registerer
	HTTP     *metrics.HTTP
	// Consumer may be nil.
	Consumer *kafkax.ConsumerMetrics
	Log      *slog.Logger
	// Service labels the metrics.
	Service string
	// Draining is closed when the HTTP server starts draining (nil: never):
	// long polls then answer at once, so the drain need not wait for them.
	Draining <-chan struct{}
	// Clock stamps messages and presence changes and sets the
	// connections' deadlines, so it must agree with the wall clock the
	// network deadlines are enforced on.
	Clock clock.Clock
}

// Server is the realtime service: its API and its background work.
type Server struct {
	cfg      Config
	db       *pgxpool.Pool
	rdb      *redis.Client
	verifier *authn.Verifier
	presence *Presence
	hub      *Hub
	sessions sessions
	metrics  *Metrics
	log      *slog.Logger
	clock    clock.Clock
	upgrader websocket.Upgrader
	consumer *kafkax.Consumer
	api      http.Handler
	draining <-chan struct{}
	// subscribed is set once the presence channel subscription is live.
	subscribed atomic.Bool
	// greeting bounds the connections doing their start-up work (presence,
	// session state) at once, so that a reconnection storm queues here
	// instead of timing out in the Redis and PostgreSQL pools.
	greeting chan struct{}
}

// writePool lends the connections their write buffers.
var writePool sync.Pool

// NewServer builds the service; nothing runs until its workers start.
func NewServer(d Deps) *Server {
	cfg := d.Config
	m := NewMetrics(d.Registry, d.Service)
	s := &Server{
		cfg: cfg, db: d.DB, rdb: d.Redis, verifier: d.Verifier, metrics: m, log: d.Log, clock: d.Clock,
		presence: NewPresence(d.Redis, cfg.RedisPrefix, cfg.PresenceTTL),
		hub:      NewHub(m, d.Log),
		greeting: make(chan struct{}, 16),
		sessions: sessions{m: map[string]*eioSession{}},
		draining: d.Draining,
	}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  4096,
		// Write buffers are held only while a message is written, so
		// idle connections (nearly all of them) cost no write buffer.
		WriteBufferPool: &writePool,
		// "bearer" is echoed when the token came as a subprotocol, as
		// browsers require the server to pick one of those offered.
		Subprotocols: []string{"bearer"},
		// Origins are checked before the upgrade, in serveWS.
		CheckOrigin: func(*http.Request) bool { return true },
		Error:       handshakeError,
	}
	consumer := d.Kafka.For(cfg.ConsumerGroup, consumedTopics...)
	// Live notifications only: a new replica starts from now, not from
	// history its clients never asked for, and its group is its own.
	consumer.Ephemeral = true
	// The group dies with the process, so its offsets matter little;
	// committing each event would cost a broker round trip per event.
	consumer.CommitInterval = time.Second
	consumer.Skip = s.unwatched
	s.consumer = kafkax.NewConsumer(consumer, s.handleEvent, d.Consumer, d.Log)
	s.api = s.routes(d.HTTP)
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.api.ServeHTTP(w, r) }

// Workers are the service's background loops. They end when ctx does;
// the last one then closes every connection with a close frame.
func (s *Server) Workers() []func(context.Context) error {
	return []func(context.Context) error{
		s.consumer.Run,
		s.runPresenceFeed,
		s.runHeartbeat,
		s.runTokenWatch,
		func(ctx context.Context) error {
			<-ctx.Done()
			s.hub.Shutdown(s.cfg.CloseGrace + time.Second)
			return nil
		},
	}
}

// Ready reports whether this replica delivers to its clients what
// happens from now on: presence changes from other replicas, and the
// Kafka events published after this answer (its group starts at the end
// of the topics, so until the group holds its partitions from fixed
// offsets a client sent here would miss them).
func (s *Server) Ready(ctx context.Context) error {
	if !s.subscribed.Load() {
		return errors.New("presence channel not subscribed yet")
	}
	return s.consumer.Ready(ctx)
}

// runPresenceFeed delivers the presence changes every replica publishes.
// The subscription reconnects by itself when Redis comes back.
func (s *Server) runPresenceFeed(ctx context.Context) error {
	ps := s.rdb.Subscribe(ctx)
	// Receive does not watch ctx; closing the subscription ends it.
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() })
	defer stop()
	defer ps.Close()
	for {
		if err := ps.Subscribe(ctx, s.presence.Channel()); err == nil {
			break
		} else if ctx.Err() != nil {
			return nil
		} else {
			s.log.Warn("presence channel subscription failed; retrying", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(time.Second):
		}
	}
	for {
		msg, err := ps.Receive(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			s.subscribed.Store(false)
			s.log.Warn("presence channel receive failed", "err", err)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(time.Second):
			}
			continue
		}
		switch m := msg.(type) {
		case *redis.Subscription:
			s.subscribed.Store(m.Count > 0)
		case *redis.Message:
			var ch presenceChange
			if err := json.Unmarshal([]byte(m.Payload), &ch); err != nil {
				s.log.Error("malformed presence change", "err", err)
				continue
			}
			_ = s.sendPresence(ch.Event, ch.User, ch.Time)
		}
	}
}

// runHeartbeat keeps this replica's connections alive in presence, and
// announces offline the users whose connections expired. On shutdown it
// stops without removing this replica's connections: clients reconnect
// to another replica within the TTL, and their users never appear to go
// offline; those who do not reconnect are announced offline by a sweep.
func (s *Server) runHeartbeat(ctx context.Context) error {
	clock.Every(ctx, s.cfg.PresenceHeartbeat, s.heartbeat)
	return nil
}

// heartbeat refreshes this replica's connections in the presence set and
// announces those whose replica is gone as offline.
func (s *Server) heartbeat(ctx context.Context) {
	clients := s.hub.snapshot()
	members := make([]Member, 0, len(clients))
	for _, c := range clients {
		if c.joined.Load() {
			members = append(members, Member{Org: c.p.OrganizationID, User: c.p.UserID, ConnID: c.id})
		} else if !c.stopped() {
			// Redis was down when it connected.
			_ = s.join(ctx, c)
		}
	}
	if err := s.presence.Refresh(ctx, members, s.cfg.PresenceHeartbeat/2); err != nil && ctx.Err() == nil {
		s.log.Warn("presence heartbeat failed", "connections", len(members), "err", err)
	}
	gone, err := s.presence.Sweep(ctx)
	if err != nil && ctx.Err() == nil {
		s.log.Warn("presence sweep failed", "err", err)
	}
	for _, u := range gone {
		s.announce(ctx, EventUserOffline, userPresence(u))
	}
}

// runTokenWatch ends the connections whose token has expired or been
// revoked: a token is checked once at connect, and a connection outlives
// it otherwise. The close frame carries the reason's error code.
func (s *Server) runTokenWatch(ctx context.Context) error {
	t := time.NewTicker(s.cfg.TokenCheck)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.verifier.Changed():
		}
		for _, c := range s.hub.snapshot() {
			if err := s.verifier.Current(c.p); err != nil {
				c.stop(websocket.ClosePolicyViolation, httpx.Classify(err).Code)
			}
		}
	}
}

// announce publishes a presence change to every replica.
func (s *Server) announce(ctx context.Context, event string, u userPresence) {
	b, _ := json.Marshal(presenceChange{Event: event, User: u, Time: s.clock.Now().UTC()})
	if err := s.rdb.Publish(ctx, s.presence.Channel(), b).Err(); err != nil {
		s.log.Warn("presence change not published", "event", event, "user_id", u.UserID, "err", err)
	}
}
