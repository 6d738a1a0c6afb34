package testkit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// RunFunc is the signature of every service's run.
type RunFunc = app.RunFunc

// RunningService is a service started by StartService.
type RunningService struct {
	// URL is the service's base URL (no trailing slash).
	URL  string
	stop context.CancelFunc
	done chan error
}

// StartService runs a service's run function in this process on the wall
// clock with vars as its environment (HTTP_ADDR defaults to a free port)
// and waits until it listens. Stop it with Stop; it is stopped at the end of
// the test anyway. Tests whose verdict depends on the date use
// StartServiceOn with a clock standing on the instant they need.
func StartService(t testing.TB, run RunFunc, vars map[string]string) *RunningService {
	t.Helper()
	return StartServiceOn(t, run, clock.Real, vars)
}

// StartServiceOn is StartService with the service's clock given.
func StartServiceOn(t testing.TB, run RunFunc, clk clock.Clock, vars map[string]string) *RunningService {
	t.Helper()
	// Nothing balances load in front of a test's service: it stops at
	// once unless the test asks for a drain.
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0", "LOG_LEVEL": "error", "DRAIN_DELAY": "0s"}
	for k, v := range vars {
		env[k] = v
	}
	ctx, stop := context.WithCancel(context.Background())
	s := &RunningService{stop: stop, done: make(chan error, 1)}
	addrc := make(chan net.Addr, 1)
	go func() { s.done <- run(ctx, lookupIn(env), io.Discard, func(a net.Addr) { addrc <- a }, clk) }()
	select {
	case a := <-addrc:
		s.URL = "http://" + a.String()
	case err := <-s.done:
		stop()
		t.Fatalf("the service did not start: %v", err)
	}
	t.Cleanup(func() { _ = s.Stop() })
	return s
}

// RefusesSetting runs a service's run with vars plus key=value as its
// environment and fails the test unless start-up is refused with an error
// that names key.
func RefusesSetting(t testing.TB, run RunFunc, vars map[string]string, key, value string) {
	t.Helper()
	// A free port, should the setting be accepted after all.
	env := map[string]string{"HTTP_ADDR": "127.0.0.1:0"}
	maps.Copy(env, vars)
	env[key] = value
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := run(ctx, lookupIn(env), io.Discard, nil, clock.Real); err == nil || !strings.Contains(err.Error(), key) {
		t.Fatalf("start-up with %s=%q: got %v; want it refused, naming %s", key, value, err, key)
	}
}

func lookupIn(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := env[k]; return v, ok }
}

// Stop shuts the service down as SIGTERM would and returns what run
// returned; it fails if shutdown takes more than 30 seconds.
func (s *RunningService) Stop() error {
	s.stop()
	select {
	case err, ok := <-s.done:
		if !ok {
			return nil
		}
		close(s.done)
		return err
	case <-time.After(30 * time.Second):
		return context.DeadlineExceeded
	}
}

// JWKS serves a fresh signing key's JWKS, as the auth service does, and
// returns its URL and the signer whose tokens it vouches for.
func JWKS(t testing.TB) (string, authn.Signer) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		_ = json.NewEncoder(w).Encode(authn.JWKS{Keys: []authn.JWK{authn.PublicJWK("k1", pub)}})
	}))
	t.Cleanup(srv.Close)
	return srv.URL, authn.Signer{Kid: "k1", Key: priv, Issuer: "workpulse", TTL: time.Hour}
}

// Tracker is a service that takes members' tokens and follows tenants (session,
// ingest) run as it is deployed: its own database and broker, tokens checked
// against a JWKS URL, on a test clock.
type Tracker struct {
	*RunningService
	DB      *DB
	Brokers []string
	// TopicPrefix is the service's KAFKA_TOPIC_PREFIX.
	TopicPrefix string
	Clock       *Clock
	// Member is an employee of a fresh organization and Token its token.
	Member authn.Principal
	Token  string
}

// StartTracker runs run as a Tracker at the clock's instant at; arrange,
// when not nil, prepares the database before the service starts.
func StartTracker(t testing.TB, run RunFunc, at time.Time, arrange func(*DB)) *Tracker {
	t.Helper()
	return StartTrackerWith(t, run, at, arrange, TrackerOptions{})
}

// TrackerOptions make a Tracker one of several installations.
type TrackerOptions struct {
	// Brokers, when set, is a broker the tracker shares (default: its own).
	Brokers []string
	// TopicPrefix is its KAFKA_TOPIC_PREFIX.
	TopicPrefix string
	// Organization is its member's organization (default: a fresh one).
	Organization string
}

// StartTrackerWith is StartTracker with o.
func StartTrackerWith(t testing.TB, run RunFunc, at time.Time, arrange func(*DB), o TrackerOptions) *Tracker {
	t.Helper()
	db := NewDB(t)
	brokers := o.Brokers
	if brokers == nil {
		brokers = Kafka(t)
	}
	jwksURL, signer := JWKS(t)
	clk := NewClock(at)
	if arrange != nil {
		arrange(db)
	}
	tr := &Tracker{DB: db, Brokers: brokers, TopicPrefix: o.TopicPrefix, Clock: clk, Member: Member(o.Organization, authn.RoleEmployee),
		RunningService: StartServiceOn(t, run, clk, map[string]string{"DATABASE_URL": db.URL, "KAFKA_BROKERS": brokers[0], "JWKS_URL": jwksURL,
			"KAFKA_TOPIC_PREFIX": o.TopicPrefix})}
	token, err := signer.Sign(tr.Member, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	tr.Token = token
	return tr
}

// FollowsSuspension suspends the member's organization through the tenants
// topic and waits until write, the member's write through the service, is
// refused with 403; then it stops the service, which must shut down cleanly.
func (tr *Tracker) FollowsSuspension(t testing.TB, write func() int) {
	t.Helper()
	SuspendTenant(t, tr.Brokers, tr.TopicPrefix, tr.Clock.Now(), tr.Member.OrganizationID)
	Eventually(t, 30*time.Second, "the suspension to take effect", func() bool { return write() == http.StatusForbidden })
	if err := tr.Stop(); err != nil {
		t.Fatalf("shutdown returned %v", err)
	}
}

// FreeAddr is a loopback address nothing listens on, for a process or a
// second listener whose address must be known before it starts.
func FreeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}
