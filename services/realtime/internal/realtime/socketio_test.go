package realtime

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// The Socket.IO tests drive the real socket.io-client v4 (test/socketio,
// installed from its lockfile) against replicas of the service.

var socketIODir = sync.OnceValues(func() (string, error) {
	dir, err := filepath.Abs("../../../../test/socketio")
	if err != nil {
		return "", err
	}
	// npm ci wipes node_modules, so it runs only when the lockfile is
	// newer than the installed tree.
	lock, err := os.Stat(filepath.Join(dir, "package-lock.json"))
	if err != nil {
		return "", err
	}
	if installed, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return dir, nil
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", &exec.ExitError{ProcessState: cmd.ProcessState, Stderr: out}
	}
	return dir, nil
})

// sioLine is one thing that happened on a socket.io-client socket.
type sioLine struct {
	On        string            `json:"on"`
	ID        string            `json:"id"`
	Transport string            `json:"transport"`
	Message   string            `json:"message"`
	Name      string            `json:"name"`
	Data      json.RawMessage   `json:"data"`
	Args      []json.RawMessage `json:"args"`
	Reason    string            `json:"reason"`
}

// sioClient is one socket.io-client process.
type sioClient struct {
	t     testing.TB
	stdin io.WriteCloser
	lines chan sioLine
	// early holds lines skipped by expect, for later expects.
	early []sioLine
}

// sioOptions are client.mjs's options.
type sioOptions struct {
	URL        string   `json:"url"`
	Token      string   `json:"token"`
	TokenIn    string   `json:"tokenIn,omitempty"`
	Transports []string `json:"transports,omitempty"`
	Upgrade    *bool    `json:"upgrade,omitempty"`
}

func startSIOClient(t testing.TB, o sioOptions) *sioClient {
	t.Helper()
	dir, err := socketIODir()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("npm ci in test/socketio: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("test/socketio: %v", err)
	}
	arg, _ := json.Marshal(o)
	cmd := exec.Command("node", filepath.Join(dir, "client.mjs"), string(arg))
	cmd.Stderr = testWriter{t: t.(*testing.T)}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	c := &sioClient{t: t, stdin: stdin, lines: make(chan sioLine, 1024)}
	go func() {
		defer close(c.lines)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var l sioLine
			if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
				t.Errorf("client.mjs printed %q: %v", sc.Text(), err)
				return
			}
			c.lines <- l
		}
	}()
	t.Cleanup(func() {
		_ = stdin.Close()
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	})
	return c
}

// expect returns the first line not expected yet that happened on `on`
// (and, for events and acks, is named name).
func (c *sioClient) expect(on, name string, d time.Duration) sioLine {
	c.t.Helper()
	match := func(l sioLine) bool { return l.On == on && (name == "" || l.Name == name) }
	for i, l := range c.early {
		if match(l) {
			c.early = append(c.early[:i], c.early[i+1:]...)
			return l
		}
	}
	timeout := time.After(d)
	for {
		select {
		case l, ok := <-c.lines:
			if !ok {
				c.t.Fatalf("socket.io-client exited waiting for %s %s", on, name)
			}
			if match(l) {
				return l
			}
			c.early = append(c.early, l)
		case <-timeout:
			c.t.Fatalf("socket.io-client saw no %s %s within %s", on, name, d)
		}
	}
}

func (c *sioClient) send(cmd map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := c.stdin.Write(append(b, '\n')); err != nil {
		c.t.Fatalf("command %s: %v", b, err)
	}
}

func boolPtr(b bool) *bool { return &b }

func (e *env) sioOptions(t testing.TB, r *replica, p authn.Principal) sioOptions {
	return sioOptions{URL: r.http.URL, Token: e.keys.token(t, p)}
}

func decodeLine(t testing.TB, raw json.RawMessage, v any) {
	t.Helper()
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
}

func TestSocketIOClientReceivesTheOriginalsEvents(t *testing.T) {
	e := newEnv(t)
	r := e.start(t, nil)

	transports := []struct {
		name       string
		transports []string
		upgrade    *bool
		// want is the transport the socket ends on.
		want string
	}{
		{name: "A default client starts on polling and upgrades to WebSocket.", want: transportWebSocket},
		{name: "A polling-only client stays on polling.", transports: []string{transportPolling}, upgrade: boolPtr(false), want: transportPolling},
		{name: "A WebSocket-only client connects on WebSocket.", transports: []string{transportWebSocket}, want: transportWebSocket},
	}
	for _, tc := range transports {
		t.Run(tc.name, func(t *testing.T) {
			admin := testkit.Member("", authn.RoleAdmin)
			ann := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
			o := e.sioOptions(t, r, admin)
			o.Transports, o.Upgrade = tc.transports, tc.upgrade
			c := startSIOClient(t, o)
			connected := c.expect("connect", "", 10*time.Second)
			if connected.ID == "" {
				t.Fatal("connected without a socket id")
			}
			if st := c.expect("event", EventSessionState, 5*time.Second); string(st.Data) != "null" {
				t.Fatalf("session:state %s, want null", st.Data)
			}
			if tc.want == transportWebSocket && connected.Transport == transportPolling {
				if up := c.expect("upgrade", "", 10*time.Second); up.Transport != transportWebSocket {
					t.Fatalf("upgraded to %s", up.Transport)
				}
			}

			sess := e.session(ann)
			e.publish(t, events.TypeSessionStarted, ann.OrganizationID, ann.UserID, events.SessionStarted{Session: sess})
			// The admin's own connection announced them online first.
			var online sioPresence
			for online.UserID != ann.UserID {
				decodeLine(t, c.expect("event", EventUserOnline, 10*time.Second).Data, &online)
			}
			if online.Timestamp.IsZero() {
				t.Fatalf("user:online %+v", online)
			}

			sess.TotalActiveSeconds, sess.Version = 90, 2
			e.publish(t, events.TypeActivityRecorded, ann.OrganizationID, sess.SessionID, events.ActivityRecorded{Session: sess, Stored: 1, ActiveSeconds: 90})
			var update tracking.SessionState
			decodeLine(t, c.expect("event", EventSessionUpdate, 10*time.Second).Data, &update)
			if update.ID != sess.SessionID || update.UserID != ann.UserID || update.TotalActiveSeconds != 90 || update.Version != 2 || update.Status != "active" {
				t.Fatalf("session:update %+v", update)
			}

			for _, a := range []struct{ typ, event string }{{"idle", EventAlertInactive}, {"overtime", EventAlertOvertime}} {
				alert := e.alert(ann, a.typ, "about "+a.typ)
				alert.SessionID = &sess.SessionID
				e.publish(t, events.TypeAlertRaised, ann.OrganizationID, ann.UserID, alert)
				var got sioAlert
				decodeLine(t, c.expect("event", a.event, 10*time.Second).Data, &got)
				if got.SessionID == nil || *got.SessionID != sess.SessionID || got.Message != "about "+a.typ || !got.Timestamp.Equal(alert.CreatedAt) {
					t.Fatalf("%s %+v", a.event, got)
				}
			}

			e.publish(t, events.TypeSessionStopped, ann.OrganizationID, ann.UserID, events.SessionStopped{Session: sess})
			var offline sioPresence
			decodeLine(t, c.expect("event", EventUserOffline, 10*time.Second).Data, &offline)
			if offline.UserID != ann.UserID {
				t.Fatalf("user:offline %+v", offline)
			}

			c.send(map[string]any{"emit": EventPing, "ack": true})
			if ack := c.expect("ack", EventPing, 5*time.Second); len(ack.Args) != 1 || string(ack.Args[0]) != `"pong"` {
				t.Fatalf("ping acknowledged with %s", ack.Args)
			}
			c.send(map[string]any{"emit": EventPing})
			c.expect("event", EventPong, 5*time.Second)
			c.send(map[string]any{"emit": EventRequestState})
			if st := c.expect("event", EventSessionState, 5*time.Second); string(st.Data) != "null" {
				t.Fatalf("session:state %s, want null", st.Data)
			}
		})
	}
}

func TestSocketIOHandshake(t *testing.T) {
	e := newEnv(t)
	r := e.start(t, map[string]string{"WS_ALLOWED_ORIGINS": "https://app.example.com"})
	p := testkit.Member("", authn.RoleEmployee)
	good := e.keys.token(t, p)

	accepted := []struct{ name, tokenIn string }{
		{"The token is accepted in the CONNECT's auth, as the original's clients send it.", "auth"},
		{"The token is accepted in the query.", "query"},
		{"The token is accepted in the Authorization header.", "header"},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := startSIOClient(t, sioOptions{URL: r.http.URL, Token: good, TokenIn: tc.tokenIn})
			c.expect("connect", "", 10*time.Second)
			c.expect("event", EventSessionState, 5*time.Second)
		})
	}

	refused := []struct{ name, token, code string }{
		{"A connection without a token is refused.", "", "AUTH_INVALID_TOKEN"},
		{"A malformed token is refused.", "not-a-jwt", "AUTH_INVALID_TOKEN"},
		{"A token signed by an unknown key is refused.", newTestKeys(t, e.clock).token(t, p), "AUTH_INVALID_TOKEN"},
		{"An expired token is refused with its own code.", e.keys.tokenAt(t, p, e.clock.Now().Add(-2*time.Hour)), "AUTH_TOKEN_EXPIRED"},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := startSIOClient(t, sioOptions{URL: r.http.URL, Token: tc.token})
			l := c.expect("connect_error", "", 10*time.Second)
			var data struct{ Code string }
			decodeLine(t, l.Data, &data)
			if data.Code != tc.code || l.Message == "" {
				t.Fatalf("connect_error %q %s, want code %s", l.Message, l.Data, tc.code)
			}
		})
	}

	raw := []struct {
		name   string
		query  string
		header http.Header
		status int
		code   string
	}{
		{name: "An unknown session is refused, as when polling reaches a replica without affinity.",
			query: "EIO=4&transport=polling&sid=unknown", status: 400, code: "SIO_SESSION_UNKNOWN"},
		{name: "Engine.IO v3 is refused.", query: "EIO=3&transport=polling", status: 400, code: "SIO_BAD_REQUEST"},
		{name: "An unknown transport is refused.", query: "EIO=4&transport=flash", status: 400, code: "SIO_BAD_REQUEST"},
		{name: "A page of a foreign origin is refused.", query: "EIO=4&transport=polling",
			header: http.Header{"Origin": {"https://evil.example.org"}}, status: 403, code: "WS_ORIGIN_NOT_ALLOWED"},
	}
	for _, tc := range raw {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req, _ := http.NewRequest(http.MethodGet, r.http.URL+"/socket.io/?"+tc.query, nil)
			req.Header = tc.header
			if req.Header == nil {
				req.Header = http.Header{}
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct {
				Error struct{ Code string }
			}
			b, _ := io.ReadAll(resp.Body)
			_ = json.Unmarshal(b, &body)
			if resp.StatusCode != tc.status || body.Error.Code != tc.code {
				t.Fatalf("status %d body %s, want %d %s", resp.StatusCode, b, tc.status, tc.code)
			}
		})
	}
}

func TestSocketIOAcrossTwoReplicas(t *testing.T) {
	e := newEnv(t)
	r1, r2 := e.start(t, nil), e.start(t, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	ann := testkit.Member(admin.OrganizationID, authn.RoleEmployee)

	watch := startSIOClient(t, e.sioOptions(t, r1, admin))
	watch.expect("connect", "", 10*time.Second)
	annOpts := e.sioOptions(t, r2, ann)
	annOpts.Transports, annOpts.Upgrade = []string{transportPolling}, boolPtr(false)
	annClient := startSIOClient(t, annOpts)
	annClient.expect("connect", "", 10*time.Second)

	t.Run("A user connecting on one replica is announced on the other.", func(t *testing.T) {
		var online sioPresence
		for online.UserID != ann.UserID {
			decodeLine(t, watch.expect("event", EventUserOnline, 10*time.Second).Data, &online)
		}
	})
	t.Run("Every replica delivers an event to its own clients.", func(t *testing.T) {
		e.publishAlert(t, ann, "idle", "idle on two replicas")
		for _, c := range []*sioClient{watch, annClient} {
			var a sioAlert
			decodeLine(t, c.expect("event", EventAlertInactive, 10*time.Second).Data, &a)
			if a.Message != "idle on two replicas" {
				t.Fatalf("alert %+v", a)
			}
		}
	})
	t.Run("A user leaving on one replica is announced offline on the other.", func(t *testing.T) {
		annClient.send(map[string]any{"close": true})
		var offline sioPresence
		for offline.UserID != ann.UserID {
			decodeLine(t, watch.expect("event", EventUserOffline, 10*time.Second).Data, &offline)
		}
	})
	t.Run("A long poll reaching the other replica is refused: polling needs affinity.", func(t *testing.T) {
		sid := pollingHandshake(t, r1)
		resp, err := http.Get(r2.http.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "SIO_SESSION_UNKNOWN") {
			t.Fatalf("status %d body %s", resp.StatusCode, b)
		}
	})
}

// pollingHandshake opens an Engine.IO session on polling and returns its id.
func pollingHandshake(t testing.TB, r *replica) string {
	t.Helper()
	resp, err := http.Get(r.http.URL + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var open eioHandshake
	if len(b) == 0 || b[0] != eioOpen || json.Unmarshal(b[1:], &open) != nil || open.SID == "" {
		t.Fatalf("handshake answered %d %q", resp.StatusCode, b)
	}
	return open.SID
}

func TestSocketIOSlowPollingClientIsCut(t *testing.T) {
	e := newEnv(t)
	// Heartbeats must not end the silent session before the queue does.
	r := e.start(t, map[string]string{"WS_SEND_QUEUE": "16", "WS_PING_INTERVAL": "30s", "WS_PONG_TIMEOUT": "2m"})
	admin := testkit.Member("", authn.RoleAdmin)
	erin := testkit.Member(admin.OrganizationID, authn.RoleEmployee)

	// A client that connects, then never polls again.
	sid := pollingHandshake(t, r)
	url := r.http.URL + "/socket.io/?EIO=4&transport=polling&sid=" + sid
	resp, err := http.Post(url, "text/plain", strings.NewReader(`40{"token":"`+e.keys.token(t, admin)+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("CONNECT posted: %d", resp.StatusCode)
	}
	waitFor(t, 5*time.Second, "the slow client admitted", func() bool {
		return testutil.ToFloat64(r.srv.metrics.Connections) == 1
	})
	fast := startSIOClient(t, e.sioOptions(t, r, admin))
	fast.expect("connect", "", 10*time.Second)

	// In rounds smaller than the queue, each received by the other client
	// before the next: only the client that never polls falls behind.
	for range 4 {
		alerts := make([]events.Alert, 10)
		for i := range alerts {
			alerts[i] = e.alert(erin, "idle", "again")
		}
		publishAll(t, e.writer, events.TypeAlertRaised, erin.OrganizationID, erin.UserID, alerts...)
		for range alerts {
			fast.expect("event", EventAlertInactive, 20*time.Second)
		}
	}
	t.Run("The session that stopped polling is cut and counted, the other stays.", func(t *testing.T) {
		waitFor(t, 10*time.Second, "slow client cut", func() bool {
			return testutil.ToFloat64(r.srv.metrics.SlowClients) == 1 && testutil.ToFloat64(r.srv.metrics.Connections) == 1
		})
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), "SIO_SESSION_UNKNOWN") {
			t.Fatalf("a poll of the cut session answered %d %s", resp.StatusCode, b)
		}
		fast.send(map[string]any{"emit": EventPing, "ack": true})
		fast.expect("ack", EventPing, 5*time.Second)
	})
}

func TestSocketIOClientsReconnectAfterAShutdown(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name       string
		transports []string
	}{
		{"A WebSocket client sees its transport close, not a server disconnect.", []string{transportWebSocket}},
		{"A polling client sees its transport end, not a server disconnect.", []string{transportPolling}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.start(t, nil)
			o := e.sioOptions(t, r, testkit.Member("", authn.RoleEmployee))
			o.Transports, o.Upgrade = tc.transports, boolPtr(false)
			c := startSIOClient(t, o)
			c.expect("connect", "", 10*time.Second)
			c.expect("event", EventSessionState, 5*time.Second)
			go r.stop()
			// socket.io-client reconnects by itself after these two reasons,
			// never after "io server disconnect".
			if d := c.expect("disconnect", "", 15*time.Second); d.Reason != "transport close" && d.Reason != "transport error" {
				t.Fatalf("disconnect reason %q", d.Reason)
			}
		})
	}
}
