// Package bench load-tests one realtime process: 10,000 concurrent
// WebSocket connections (/api/ws, or Socket.IO's WebSocket transport with
// BENCH_TRANSPORT=socketio) and 1,000 events per second. It builds and runs
// the real service binary against an in-process Kafka broker, a fresh
// database and Redis, and measures the process's memory and the delivery
// latency from publish to client.
//
//	WORKPULSE_BENCH=1 hack/with-deps.sh go test ./services/realtime/bench -run TestLoad -v -timeout 20m
//
// BENCH_CONNECTIONS, BENCH_RATE and BENCH_SECONDS change the load.
// BENCH_TRANSPORT is ws (the default) or socketio.
package bench

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	mrand "math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/test/testkit"
)

const (
	usersPerOrg  = 100
	adminsPerOrg = 2
)

func envInt(key string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(key)); err == nil && n > 0 {
		return n
	}
	return def
}

func TestLoad(t *testing.T) {
	if os.Getenv("WORKPULSE_BENCH") == "" {
		t.Skip("set WORKPULSE_BENCH=1 to run the load test")
	}
	conns := envInt("BENCH_CONNECTIONS", 10000)
	rate := envInt("BENCH_RATE", 1000)
	seconds := envInt("BENCH_SECONDS", 30)
	transport := os.Getenv("BENCH_TRANSPORT")
	if transport == "" {
		transport = "ws"
	}
	if transport != "ws" && transport != "socketio" {
		t.Fatalf("BENCH_TRANSPORT %q: ws or socketio", transport)
	}
	raiseFileLimit(t, uint64(conns)+2048)

	db := testkit.NewDB(t)
	_, prefix := testkit.Redis(t)
	brokers := testkit.Kafka(t)
	signer, jwksURL := jwks(t)
	bin := buildService(t)
	addr := testkit.FreeAddr(t)
	proc := startService(t, bin, map[string]string{
		"HTTP_ADDR": addr, "DATABASE_URL": db.URL, "REDIS_URL": testkit.RedisURL(), "REDIS_PREFIX": prefix,
		"KAFKA_BROKERS": strings.Join(brokers, ","), "KAFKA_TOPIC_PARTITIONS": "3", "JWKS_URL": jwksURL,
		"LOG_LEVEL": "warn", "WS_SEND_QUEUE": "256",
	})
	base := "http://" + addr

	// Organizations of 100 users, two of them admins: an event about an
	// employee goes to that employee and to the two admins.
	type member struct {
		p authn.Principal
		c *websocket.Conn
	}
	members := make([]member, conns)
	var org string
	for i := range members {
		if i%usersPerOrg == 0 {
			org = uuid.NewString()
		}
		role := authn.RoleEmployee
		if i%usersPerOrg < adminsPerOrg {
			role = authn.RoleAdmin
		}
		members[i].p = testkit.Member(org, role)
	}

	var lat latencies
	var states, updates atomic.Int64
	dial, reader := dialWS(addr), read
	if transport == "socketio" {
		dial, reader = dialSocketIO(addr), readSocketIO
	}
	connectWatch := clock.Start()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 100)
	var dialErrs atomic.Int64
	for i := range members {
		tok, err := signer.Sign(members[i].p, clock.Real.Now())
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := dial(tok)
			if err != nil {
				if dialErrs.Add(1) <= 5 {
					t.Logf("dial: %v", err)
				}
				return
			}
			members[i].c = c
			go reader(c, &lat, &states, &updates)
		}()
	}
	wg.Wait()
	if n := dialErrs.Load(); n > 0 {
		t.Fatalf("%d of %d connections failed", n, conns)
	}
	waitUntil(t, 2*time.Minute, "every client's session:state", func() bool {
		if n := states.Load(); n < int64(conns) {
			t.Logf("%d of %d greeted", n, conns)
			time.Sleep(time.Second)
			return false
		}
		return true
	})
	connectTime := connectWatch.Elapsed()
	t.Logf("%d connections open in %s", conns, connectTime.Round(time.Millisecond))
	rssConnected := memKiB(t, proc.Process.Pid, "VmRSS")
	gauge := metric(t, base, "workpulse_realtime_connections")
	t.Logf("service RSS with %d connections: %.0f MiB (connections gauge %s)", conns, float64(rssConnected)/1024, gauge)

	w := kafkax.NewWriter(brokers)
	defer w.Close()
	// The service reads from the end of the topics once its consumer has
	// joined its group; wait for that before measuring.
	waitUntil(t, time.Minute, "the service to consume", func() bool {
		before := updates.Load()
		publish(t, w, []authn.Principal{members[adminsPerOrg].p})
		time.Sleep(300 * time.Millisecond)
		return updates.Load() > before
	})
	time.Sleep(time.Second)
	lat.reset()
	updates.Store(0)
	serverBefore := histogram(t, base, "workpulse_realtime_delivery_latency_seconds")

	total := rate * seconds
	var employees []authn.Principal
	for _, m := range members {
		if m.p.Role == authn.RoleEmployee {
			employees = append(employees, m.p)
		}
	}
	const tick = 10 * time.Millisecond
	perTick := rate / int(time.Second/tick)
	ticker := time.NewTicker(tick)
	sent := 0
	pubWatch := clock.Start()
	for sent < total {
		<-ticker.C
		// Catch up if a tick was late, so the offered rate holds.
		due := min(total, int(pubWatch.Elapsed()/tick+1)*perTick)
		batch := make([]authn.Principal, 0, due-sent)
		for ; sent < due; sent++ {
			batch = append(batch, employees[mrand.IntN(len(employees))])
		}
		publish(t, w, batch)
	}
	ticker.Stop()
	pubTime := pubWatch.Elapsed()
	want := int64(total * (1 + adminsPerOrg))
	waitUntil(t, 30*time.Second, "every delivery", func() bool { return updates.Load() >= want })
	rssPeak := memKiB(t, proc.Process.Pid, "VmHWM")
	rssEnd := memKiB(t, proc.Process.Pid, "VmRSS")
	p50, p95, p99, pmax := lat.quantiles()
	dropped := metric(t, base, "workpulse_realtime_messages_dropped_total")
	server := histogram(t, base, "workpulse_realtime_delivery_latency_seconds").minus(serverBefore)

	fmt.Printf("\nRealtime load test (%s)\n"+
		"connections:          %d (%d orgs of %d users, %d admins each), all open in %s\n"+
		"events:               %d at %d/s over %s (achieved %.0f/s), %d deliveries (%d expected), %s dropped\n"+
		"delivery latency:     p50 %s, p95 %s, p99 %s, max %s (publish to client, kfake broker)\n"+
		"  server side:        publish to written p99 <= %s (the service's histogram, bucket bound)\n"+
		"service RSS:          %.0f MiB connected and idle, %.0f MiB after the load, %.0f MiB peak\n"+
		"load average:         %s\n\n",
		transport, conns, conns/usersPerOrg, usersPerOrg, adminsPerOrg, connectTime.Round(time.Millisecond),
		total, rate, pubTime.Round(time.Millisecond), float64(total)/pubTime.Seconds(), updates.Load(), want, dropped,
		ms(p50), ms(p95), ms(p99), ms(pmax), server.quantileBound(.99),
		float64(rssConnected)/1024, float64(rssEnd)/1024, float64(rssPeak)/1024, loadAverage())

	if rssPeak > 1<<20 {
		t.Errorf("peak RSS %d KiB exceeds 1 GiB", rssPeak)
	}
	if p99 > 100*time.Millisecond {
		t.Errorf("p99 latency %s exceeds 100ms", p99)
	}
	if got := updates.Load(); got != want {
		t.Errorf("%d deliveries, want %d", got, want)
	}
	for _, m := range members {
		if m.c != nil {
			_ = m.c.Close()
		}
	}
}

func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Join(strings.Fields(string(b))[:3], " ")
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d.Microseconds())/1000) }

var dialer = websocket.Dialer{HandshakeTimeout: 30 * time.Second, ReadBufferSize: 1024, WriteBufferSize: 256}

// dialWS opens /api/ws with a token.
func dialWS(addr string) func(tok string) (*websocket.Conn, error) {
	return func(tok string) (*websocket.Conn, error) {
		c, _, err := dialer.Dial("ws://"+addr+"/api/ws?token="+tok, nil)
		return c, err
	}
}

// dialSocketIO opens a Socket.IO session on the WebSocket transport, as
// socket.io-client does with transports: ["websocket"]: the open packet,
// then a CONNECT with the token in its auth.
func dialSocketIO(addr string) func(tok string) (*websocket.Conn, error) {
	return func(tok string) (*websocket.Conn, error) {
		c, _, err := dialer.Dial("ws://"+addr+"/socket.io/?EIO=4&transport=websocket", nil)
		if err != nil {
			return nil, err
		}
		if _, open, err := c.ReadMessage(); err != nil || len(open) == 0 || open[0] != '0' {
			_ = c.Close()
			return nil, fmt.Errorf("no open packet (%q): %v", open, err)
		}
		if err := c.WriteMessage(websocket.TextMessage, []byte(`40{"token":"`+tok+`"}`)); err != nil {
			_ = c.Close()
			return nil, err
		}
		return c, nil
	}
}

// readSocketIO is read for Socket.IO: it answers the server's pings, and
// takes each session:update's latency from the session's
// last_activity_at, which the publisher set to the event's time.
func readSocketIO(c *websocket.Conn, lat *latencies, states, updates *atomic.Int64) {
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		now := clock.Real.Now()
		switch {
		case string(b) == "2":
			if c.WriteMessage(websocket.TextMessage, []byte("3")) != nil {
				return
			}
		case strings.HasPrefix(string(b), "42"):
			var ev []json.RawMessage
			var name string
			if json.Unmarshal(b[2:], &ev) != nil || len(ev) < 2 || json.Unmarshal(ev[0], &name) != nil {
				continue
			}
			switch name {
			case "session:state", "error":
				states.Add(1)
			case "session:update":
				var s struct {
					LastActivityAt time.Time `json:"last_activity_at"`
				}
				if json.Unmarshal(ev[1], &s) == nil {
					lat.add(now.Sub(s.LastActivityAt))
				}
				updates.Add(1)
			}
		}
	}
}

// read counts a client's messages and records the latency of each
// session:update from the event's time, which the publisher set.
func read(c *websocket.Conn, lat *latencies, states, updates *atomic.Int64) {
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		// The service runs as its own process on the wall clock, which the
		// events' times come from too.
		now := clock.Real.Now()
		var m struct {
			Event     string    `json:"event"`
			Timestamp time.Time `json:"timestamp"`
		}
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		switch m.Event {
		case "session:state", "error":
			states.Add(1)
		case "session:update":
			lat.add(now.Sub(m.Timestamp))
			updates.Add(1)
		}
	}
}

type latencies struct {
	mu sync.Mutex
	d  []time.Duration
}

func (l *latencies) add(d time.Duration) { l.mu.Lock(); l.d = append(l.d, d); l.mu.Unlock() }
func (l *latencies) reset()              { l.mu.Lock(); l.d = nil; l.mu.Unlock() }

func (l *latencies) quantiles() (p50, p95, p99, pmax time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.d) == 0 {
		return
	}
	slices.Sort(l.d)
	q := func(f float64) time.Duration { return l.d[min(len(l.d)-1, int(f*float64(len(l.d))))] }
	return q(.50), q(.95), q(.99), l.d[len(l.d)-1]
}

func publish(t *testing.T, w *kafka.Writer, users []authn.Principal) {
	if len(users) == 0 {
		return
	}
	msgs := make([]kafka.Message, len(users))
	for i, p := range users {
		now := clock.Real.Now().UTC()
		s := events.Session{SessionID: uuid.NewString(), OrganizationID: p.OrganizationID, UserID: p.UserID,
			Status: "active", StartTime: now, LastActivityAt: &now, TotalActiveSeconds: 60, Version: 2}
		env, err := events.New(clock.Real.Now(), "bench", events.TypeActivityRecorded, p.OrganizationID, s.SessionID,
			events.ActivityRecorded{Session: s, Stored: 1, ActiveSeconds: 60})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(env)
		msgs[i] = kafka.Message{Topic: events.TopicActivity, Key: []byte(env.Key), Value: b}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("publish: %v", err)
	}
}

// raiseFileLimit lifts RLIMIT_NOFILE for this process and the service it
// starts, which inherits it: each connection is a descriptor in each of
// the two processes.
func raiseFileLimit(t *testing.T, want uint64) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatal(err)
	}
	if l.Cur >= want {
		return
	}
	l.Cur = want
	if l.Max < want {
		l.Max = want // needs root (CAP_SYS_RESOURCE)
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		t.Fatalf("raise the open file limit to %d: %v", want, err)
	}
}

// jwks serves a key set for the service and returns a signer of tokens it
// accepts.
func jwks(t *testing.T) (authn.Signer, string) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid := uuid.NewString()
	doc, _ := json.Marshal(authn.JWKS{Keys: []authn.JWK{authn.PublicJWK(kid, pub)}})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}))
	t.Cleanup(srv.Close)
	return authn.Signer{Kid: kid, Key: priv, Issuer: "workpulse", TTL: time.Hour}, srv.URL + "/api/auth/.well-known/jwks.json"
}

func buildService(t *testing.T) string {
	bin := filepath.Join(t.TempDir(), "realtime")
	cmd := exec.Command("go", "build", "-o", bin, "../cmd/realtime")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build the service: %v", err)
	}
	return bin
}

func startService(t *testing.T, bin string, vars map[string]string) *exec.Cmd {
	cmd := exec.Command(bin)
	cmd.Env = os.Environ()
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logf, err := os.Create(filepath.Join(t.TempDir(), "realtime.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("service log:\n%s", tail(string(b), 4000))
		}
	})
	waitUntil(t, 30*time.Second, "the service to be ready", func() bool {
		resp, err := http.Get("http://" + vars["HTTP_ADDR"] + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return cmd
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// waitUntil waits for cond as testkit.Eventually does.
var waitUntil = testkit.Eventually

// memKiB reads a field (VmRSS, VmHWM) of /proc/<pid>/status.
func memKiB(t *testing.T, pid int, field string) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			n, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return n
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// buckets is a cumulative Prometheus histogram: upper bound → count.
type buckets map[string]float64

func histogram(t *testing.T, base, name string) buckets {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := buckets{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, name+"_bucket{") {
			continue
		}
		_, rest, _ := strings.Cut(line, `le="`)
		le, _, _ := strings.Cut(rest, `"`)
		f := strings.Fields(line)
		n, _ := strconv.ParseFloat(f[len(f)-1], 64)
		out[le] += n
	}
	return out
}

func (b buckets) minus(o buckets) buckets {
	out := buckets{}
	for le, n := range b {
		out[le] = n - o[le]
	}
	return out
}

// quantileBound is the smallest bucket bound below which fraction q of
// the observations fall.
func (b buckets) quantileBound(q float64) string {
	type bucket struct {
		le float64
		n  float64
	}
	var bs []bucket
	for le, n := range b {
		v, err := strconv.ParseFloat(le, 64)
		if err != nil {
			continue // +Inf
		}
		bs = append(bs, bucket{v, n})
	}
	slices.SortFunc(bs, func(a, b bucket) int {
		if a.le < b.le {
			return -1
		}
		return 1
	})
	total := b["+Inf"]
	for _, x := range bs {
		if x.n >= q*total {
			return ms(time.Duration(x.le * float64(time.Second)))
		}
	}
	return "+Inf"
}

// metric reads one unlabelled-by-us series from the service's /metrics.
func metric(t *testing.T, base, name string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
			f := strings.Fields(line)
			return f[len(f)-1]
		}
	}
	return "?"
}
