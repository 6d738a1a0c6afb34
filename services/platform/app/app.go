// Package app runs a WorkPulse service: it connects the dependencies the
// service asks for, serves its API beside /livez, /readyz and /metrics (or
// those on an internal address of their own),
// runs its background workers and outbox relays, and on SIGTERM shuts down
// in order: fail readiness and keep serving for the drain delay, finish the
// requests in flight, stop workers, flush the outbox, close Kafka,
// PostgreSQL and Redis.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"
	// The images are FROM scratch, with no CA bundle: without roots of its
	// own a service could not reach any public https peer (an OpenID
	// Provider, a Slack webhook, a mail relay with TLS). These roots are used
	// only where the system supplies none; a private CA mounted through
	// SSL_CERT_FILE replaces them.
	_ "golang.org/x/crypto/x509roots/fallback"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/health"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/logging"
	"github.com/workpulse/workpulse/services/platform/metrics"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/process"
)

// RunFunc is the signature of every service's run: its environment comes
// from lookup, its logs go to out, listening (when not nil) learns the API's
// address, and every decision by time takes clk. Tests call it in-process.
type RunFunc func(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error

// Main runs a service's run as its deployed process: with the process
// environment, logging to stdout, on clk (main passes clock.Real), until
// SIGTERM or an interrupt (see process.Main).
func Main(name string, clk clock.Clock, run RunFunc) {
	process.Main(name, func(ctx context.Context) error { return run(ctx, os.LookupEnv, os.Stdout, nil, clk) })
}

// Needs says which dependencies a service uses.
type Needs struct {
	Postgres bool
	Redis    bool
	Kafka    bool
	// JWKS makes Deps.Verifier verify tokens against the auth service.
	JWKS bool
}

// Deps are the connected dependencies handed to a service.
type Deps struct {
	Config   config.Common
	Clock    clock.Clock
	Logger   *slog.Logger
	Registry *prometheus.Registry
	HTTP     *metrics.HTTP
	Health   *health.Checker
	DB       *pgxpool.Pool
	Redis    *redis.Client
	Kafka    *kafka.Writer
	// KafkaConsumer is what every consumer of the service shares (brokers,
	// security, topic prefix, attempts); each sets its group and topics.
	KafkaConsumer kafkax.ConsumerConfig
	Verifier      *authn.Verifier
	// Revocations is the installation's revocation list (with Postgres),
	// kept up to date while the service runs; Verifier applies it.
	Revocations *authn.Revocations
	// Teams are the managers' team scopes (with Postgres), polled as the
	// revocation list is; Verifier hands them to the callers it verifies.
	Teams    *authn.Teams
	Consumer *kafkax.ConsumerMetrics
	Outbox   *outbox.Metrics
}

// Service is what a service builds from its Deps.
type Service struct {
	// API serves the service's /api routes.
	API http.Handler
	// OutboxTables are relayed to Kafka.
	OutboxTables []string
	// Workers run until their context ends (consumers, schedulers).
	Workers []func(ctx context.Context) error
	// Close releases what the service opened itself, after workers stop.
	Close func()
}

// Options describe a service to Run.
type Options struct {
	Config config.Common
	Needs  Needs
	Build  func(ctx context.Context, d *Deps) (*Service, error)
	Log    io.Writer
	// Listening, if set, is told the bound address (tests use port 0).
	Listening func(net.Addr)
	// ListeningInternal, if set, is told the bound internal address
	// (Config.InternalAddr) of the probes and metrics.
	ListeningInternal func(net.Addr)
	// Clock is the service's only source of the current time: clock.Real
	// from main, a clock standing on a chosen instant in tests.
	Clock clock.Clock
}

// logFlushInterval is how long a service's log lines may wait to be
// written together (see logging.Buffered).
const logFlushInterval = 100 * time.Millisecond

// Run runs the service until ctx is done or a worker fails.
func Run(ctx context.Context, o Options) error {
	cfg := o.Config
	if o.Clock == nil {
		return fmt.Errorf("%s: app.Options.Clock is required", cfg.Service)
	}
	out := logging.NewBuffered(o.Log, logFlushInterval)
	defer out.Close()
	log := logging.New(out, cfg.Service, cfg.LogLevel)
	slog.SetDefault(log)
	d := &Deps{Config: cfg, Clock: o.Clock, Logger: log, Registry: metrics.NewRegistry(cfg.Service), Health: health.NewChecker()}
	d.HTTP = metrics.NewHTTP(d.Registry, cfg.Service)
	d.Consumer = kafkax.NewConsumerMetrics(d.Registry, cfg.Service, o.Clock)
	d.Outbox = outbox.NewMetrics(d.Registry, cfg.Service)
	defer closeAll(d, log)

	if err := connect(ctx, o.Needs, d); err != nil {
		return err
	}
	svc, err := o.Build(ctx, d)
	if err != nil {
		return fmt.Errorf("%s: build: %w", cfg.Service, err)
	}
	if svc.Close != nil {
		defer svc.Close()
	}

	root := http.NewServeMux()
	// Probes and metrics are for the kubelet and the monitoring, not for the
	// public: with an internal address they are served there only, so that
	// an Ingress routing a catch-all to the API port (the web service's)
	// does not publish them.
	internal := root
	if cfg.InternalAddr != "" {
		internal = http.NewServeMux()
	}
	internal.HandleFunc("GET /livez", health.Live)
	internal.HandleFunc("GET /readyz", d.Health.Ready)
	internal.Handle("GET /metrics", metrics.Handler(d.Registry))
	// The legacy envelope is for API results; probes and metrics stay as
	// they are.
	envelope := httpx.Envelope(cfg.APIEnvelope)
	root.Handle("GET /api/health", envelope(health.NewPublic(platformHealth(d), o.Clock)))
	root.Handle("/", envelope(svc.API))
	var tenantAPI http.Handler
	if cfg.TenantAPIAddr != "" {
		root.Handle("/internal/", httpx.Handler(func(http.ResponseWriter, *http.Request) error { return apierr.ErrNotFound }))
		only := http.NewServeMux()
		only.Handle("/internal/", svc.API)
		tenantAPI = only
	}
	closing := httpx.CloseWhile(d.Health.Draining)
	handler := httpx.Stack(o.Clock, root, cfg.MaxBodyBytes, httpx.AccessLog(log), closing, httpx.CORS(cfg.CORSAllowedOrigins))

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	failed := make(chan error, 1)
	var wg sync.WaitGroup
	start := func(name string, run func(context.Context) error) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := run(workCtx); err != nil && workCtx.Err() == nil {
				select {
				case failed <- fmt.Errorf("%s: %w", name, err):
				default:
				}
			}
		}()
	}
	if d.Revocations != nil {
		start("revocations", func(ctx context.Context) error { return d.Revocations.Run(ctx, cfg.RevocationPoll) })
		start("team scopes", func(ctx context.Context) error { return d.Teams.Run(ctx, cfg.RevocationPoll) })
	}
	for i, w := range svc.Workers {
		start(fmt.Sprintf("worker %d", i), w)
	}
	// Relays run beside the workers but stop after them, so that events
	// the workers' last effects enqueued still go out.
	relayCtx, stopRelays := context.WithCancel(context.WithoutCancel(ctx))
	defer stopRelays()
	var relays sync.WaitGroup
	for _, table := range svc.OutboxTables {
		r := outbox.NewRelay(d.DB, table, d.Kafka, d.Outbox, log)
		r.TopicPrefix = cfg.KafkaTopicPrefix
		relays.Add(1)
		go func() {
			defer relays.Done()
			if err := r.Run(relayCtx); err != nil {
				log.Error("outbox flush at shutdown incomplete; events stay queued", "table", table, "err", err)
			}
		}()
	}

	// Serving outlives ctx by the drain: on SIGTERM the pod is still in its
	// Service's endpoints until every node's proxy has heard otherwise, and
	// a listener closed at once refuses what they still send it.
	serveCtx, stopServing := context.WithCancel(context.WithoutCancel(ctx))
	defer stopServing()
	var workerErr error
	go func() {
		defer stopServing()
		select {
		case workerErr = <-failed:
			log.Error("worker failed; shutting down", "err", workerErr)
			return
		case <-serveCtx.Done():
			return
		case <-ctx.Done():
		}
		d.Health.Drain()
		log.Info("draining: readiness fails, requests are still served", "drain_delay", cfg.DrainDelay.String())
		drained := time.NewTimer(cfg.DrainDelay)
		defer drained.Stop()
		select {
		case <-drained.C:
		case workerErr = <-failed:
			log.Error("worker failed while draining; shutting down", "err", workerErr)
		case <-serveCtx.Done():
		}
	}()
	serverConfig := func(addr string) httpx.ServerConfig {
		return httpx.ServerConfig{Addr: addr, WriteTimeout: cfg.WriteTimeout, ShutdownTimeout: cfg.ShutdownTimeout}
	}
	// alsoServe serves h on addr beside the API, bound before the API's
	// port so that a service answering there answers on every port; a
	// listener that stops stops the service.
	alsoServe := func(what, addr string, h http.Handler, listening func(net.Addr)) (<-chan error, error) {
		errc := make(chan error, 1)
		if h == nil {
			errc <- nil
			return errc, nil
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", cfg.Service, what, err)
		}
		log.Info("serving "+what, "addr", addr)
		go func() {
			errc <- httpx.ServeListener(serveCtx, serverConfig(addr), ln, httpx.Stack(o.Clock, h, cfg.MaxBodyBytes, httpx.AccessLog(log), closing), listening)
			stopServing()
		}()
		return errc, nil
	}
	var probes http.Handler
	if internal != root {
		probes = internal
	}
	internalErr, err := alsoServe("probes and metrics", cfg.InternalAddr, probes, o.ListeningInternal)
	if err != nil {
		return err
	}
	tenantAPIErr, err := alsoServe("the tenant API", cfg.TenantAPIAddr, tenantAPI, nil)
	if err != nil {
		return err
	}
	log.Info("starting", "addr", cfg.HTTPAddr)
	serveErr := httpx.Serve(serveCtx, serverConfig(cfg.HTTPAddr), handler, o.Listening)
	stopServing()
	serveErr = errors.Join(serveErr, <-internalErr, <-tenantAPIErr)
	log.Info("http drained; stopping workers")
	stopWork()
	waitTimeout(&wg, cfg.ShutdownTimeout)
	stopRelays()
	relays.Wait()
	log.Info("stopped")
	return errors.Join(serveErr, workerErr)
}

// platformHealth is this service's checks plus its peers' readiness: in a
// cluster the Ingress routes /api/health to one service, which answers for
// all of them.
func platformHealth(d *Deps) *health.Checker {
	client := &http.Client{Timeout: 2 * time.Second}
	peers := map[string]health.Check{}
	for name, u := range d.Config.HealthPeers {
		peers[name] = health.Peer(client, u)
	}
	return d.Health.Plus(peers)
}

func connect(ctx context.Context, needs Needs, d *Deps) error {
	cfg := d.Config
	if needs.Postgres {
		pool, err := pg.Connect(ctx, cfg.DatabaseURL, pg.Login{User: cfg.DatabaseUser, Password: cfg.DatabasePassword}, cfg.DatabaseMaxConn)
		if err != nil {
			return err
		}
		d.DB = pool
		d.Health.Add("postgres", pool.Ping)
		d.Revocations = authn.NewRevocations(authn.PGRevocations{DB: pool}, d.Clock)
		// Serving before the first read would honour tokens revoked long
		// ago; a failure here is PostgreSQL being down, which the poll
		// outlives.
		if err := d.Revocations.Poll(ctx); err != nil {
			d.Logger.Warn("revocation list not read at start; retrying every poll", "err", err)
		}
		d.Teams = authn.NewTeams(authn.PGTeamScopes{DB: pool})
		if err := d.Teams.Poll(ctx); err != nil {
			d.Logger.Warn("team scopes not read at start; retrying every poll", "err", err)
		}
	}
	if needs.Redis {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("redis: %w", err)
		}
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = time.Second, time.Second, time.Second
		d.Redis = redis.NewClient(opt)
		// Logins and activity keep being accepted without Redis (the
		// throttle degrades); a service that cannot do without it adds its
		// own check, as realtime's presence feed.
		d.Health.AddDegradable("redis", func(ctx context.Context) error { return d.Redis.Ping(ctx).Err() })
	}
	if needs.Kafka {
		sec, err := kafkax.NewSecurity(cfg.KafkaTLS, cfg.KafkaSASLMechanism, cfg.KafkaSASLUsername, cfg.KafkaSASLPassword)
		if err != nil {
			return err
		}
		d.KafkaConsumer = kafkax.ConsumerConfig{Brokers: cfg.KafkaBrokers, Security: sec, TopicPrefix: cfg.KafkaTopicPrefix,
			MaxAttempts: cfg.KafkaMaxAttempts}
		d.Kafka = kafkax.NewSecureWriter(cfg.KafkaBrokers, sec)
		// The outbox keeps events while the brokers are away and the
		// consumers catch up after: not a reason to leave the Service.
		d.Health.AddDegradable("kafka", func(ctx context.Context) error { return kafkax.Ping(ctx, cfg.KafkaBrokers, sec) })
		// Topics are created up front so that the first consumer does not
		// race the first producer; a broker that is down only delays this.
		if err := kafkax.EnsureTopics(ctx, cfg.KafkaBrokers, sec, cfg.KafkaTopicPartitions,
			kafkax.Prefixed(cfg.KafkaTopicPrefix, events.AllTopics...)...); err != nil {
			d.Logger.Warn("could not ensure Kafka topics", "err", err)
		}
	}
	if needs.JWKS {
		d.Verifier = authn.NewVerifier(authn.NewJWKSCache(cfg.JWKSURL, nil, d.Clock), cfg.JWTIssuer, d.Clock).WithRevocations(d.Revocations).
			WithTeams(d.Teams).WithLegacySecret(cfg.LegacyJWTSecret)
		if d.DB != nil {
			d.Verifier.WithDeviceUse(authn.NewDeviceUse(authn.PGDeviceUse{DB: d.DB}, d.Clock))
		}
	}
	return nil
}

func closeAll(d *Deps, log *slog.Logger) {
	if d.Kafka != nil {
		if err := d.Kafka.Close(); err != nil {
			log.Warn("closing Kafka writer", "err", err)
		}
	}
	if d.DB != nil {
		d.DB.Close()
	}
	if d.Redis != nil {
		_ = d.Redis.Close()
	}
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(d):
	}
}
