package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

func (e *env) presence(t testing.TB, r *replica, p authn.Principal) []OnlineUser {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, r.http.URL+"/api/presence", nil)
	req.Header.Set("Authorization", "Bearer "+e.keys.token(t, p))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/presence: %d", resp.StatusCode)
	}
	var out []OnlineUser
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

func ids(us []OnlineUser) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, u.UserID)
	}
	return out
}

func TestTwoReplicasBothDeliver(t *testing.T) {
	e := newEnv(t)
	r1, r2 := e.start(t, nil), e.start(t, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	erin := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	e.publish(t, events.TypeUserCreated, erin.OrganizationID, erin.UserID, events.UserCreated{UserID: erin.UserID,
		OrganizationID: erin.OrganizationID, Email: erin.Email, Name: "Erin Example", Role: erin.Role})
	waitFor(t, 10*time.Second, "user directory updated", func() bool {
		name, _ := r1.srv.presence.Name(t.Context(), erin.OrganizationID, erin.UserID)
		return name == "Erin Example"
	})

	on1, on2 := e.dial(t, r1, admin), e.dial(t, r2, admin)
	on1.expect(EventSessionState, 5*time.Second)
	on2.expect(EventSessionState, 5*time.Second)

	t.Run("A Kafka event reaches the clients of both replicas.", func(t *testing.T) {
		e.publishAlert(t, erin, "idle", "idle for 10 minutes")
		for _, c := range []*wsClient{on1, on2} {
			var a events.Alert
			c.expect(EventAlertInactive, 10*time.Second).decode(t, &a)
			if a.UserID != erin.UserID {
				t.Fatalf("alert %+v", a)
			}
		}
	})
	t.Run("A connection to one replica is announced to the clients of both, with the directory's name.", func(t *testing.T) {
		c := e.dial(t, r2, erin)
		c.expect(EventSessionState, 5*time.Second)
		for _, a := range []*wsClient{on1, on2} {
			var u userPresence
			a.expect(EventUserOnline, 5*time.Second).decode(t, &u)
			if u.UserID != erin.UserID || u.Name != "Erin Example" || u.OrganizationID != erin.OrganizationID {
				t.Fatalf("presence %+v", u)
			}
		}
		_ = c.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
		for _, a := range []*wsClient{on1, on2} {
			var u userPresence
			a.expect(EventUserOffline, 5*time.Second).decode(t, &u)
			if u.UserID != erin.UserID {
				t.Fatalf("presence %+v", u)
			}
		}
	})
}

func TestPresence(t *testing.T) {
	e := newEnv(t)
	r1, r2 := e.start(t, nil), e.start(t, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	erin := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	fred := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	stranger := testkit.Member("", authn.RoleAdmin)

	watch := e.dial(t, r1, admin)
	watch.expect(EventSessionState, 5*time.Second)
	c := e.dial(t, r2, erin)
	c.expect(EventSessionState, 5*time.Second)
	watch.expect(EventUserOnline, 5*time.Second)

	t.Run("An admin sees the organization's online users on any replica.", func(t *testing.T) {
		for _, r := range []*replica{r1, r2} {
			got := ids(e.presence(t, r, admin))
			if len(got) != 2 || !strings.Contains(strings.Join(got, ","), erin.UserID) {
				t.Fatalf("presence %v, want admin and erin", got)
			}
		}
	})
	t.Run("An employee sees only themself.", func(t *testing.T) {
		got := e.presence(t, r1, erin)
		if len(got) != 1 || got[0].UserID != erin.UserID || got[0].Name != erin.Email {
			t.Fatalf("presence %+v, want erin alone, named by email", got)
		}
		if got := e.presence(t, r1, fred); len(got) != 0 {
			t.Fatalf("an offline employee sees %v", got)
		}
	})
	t.Run("An admin of another organization sees nobody of this one.", func(t *testing.T) {
		if got := e.presence(t, r1, stranger); len(got) != 0 {
			t.Fatalf("presence %v", got)
		}
	})
	t.Run("A replica restart loses no presence and announces no one offline.", func(t *testing.T) {
		r2.stop()
		if code := closeCode(c.closed(5 * time.Second)); code != websocket.CloseGoingAway {
			t.Fatalf("close code %d, want 1001", code)
		}
		if got := ids(e.presence(t, r1, admin)); len(got) != 2 {
			t.Fatalf("presence after restart %v, want admin and erin", got)
		}
		r3 := e.start(t, nil)
		c = e.dial(t, r3, erin)
		c.expect(EventSessionState, 5*time.Second)
		if got := ids(e.presence(t, r3, admin)); len(got) != 2 {
			t.Fatalf("presence on the new replica %v, want admin and erin", got)
		}
		for _, m := range watch.collect(500 * time.Millisecond) {
			if m.Event == EventUserOffline || m.Event == EventUserOnline {
				t.Fatalf("restart announced %s %s", m.Event, m.Data)
			}
		}
		t.Run("A user whose replica is gone ages out after the TTL and is announced offline once.", func(t *testing.T) {
			r3.stop()
			waitFor(t, 10*time.Second, "erin's connection to expire", func() bool {
				return len(e.presence(t, r1, admin)) == 1
			})
			var u userPresence
			watch.expect(EventUserOffline, 5*time.Second).decode(t, &u)
			if u.UserID != erin.UserID || u.Name != erin.Email {
				t.Fatalf("offline %+v", u)
			}
			for _, m := range watch.collect(time.Second) {
				if m.Event == EventUserOffline {
					t.Fatalf("announced offline twice: %s", m.Data)
				}
			}
		})
	})
}

func TestSlowClientIsDisconnected(t *testing.T) {
	e := newEnv(t)
	// Keepalive must not drop the silent client before the queue does.
	r := e.start(t, map[string]string{"WS_SEND_QUEUE": "32", "WS_PING_INTERVAL": "30s", "WS_PONG_TIMEOUT": "2m"})
	admin := testkit.Member("", authn.RoleAdmin)
	erin := testkit.Member(admin.OrganizationID, authn.RoleEmployee)

	// The slow client never reads, and its tiny receive buffer fills at once.
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		nd := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
			return rc.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		return nd.Dial(network, addr)
	}}
	slow, _, err := d.Dial(r.wsURL("token="+e.keys.token(t, admin)), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	fast := e.dial(t, r, admin)
	fast.expect(EventSessionState, 5*time.Second)

	// In rounds smaller than the queue, each received by the other client
	// before the next: whatever the machine's load, only the client that
	// never reads can fall behind.
	const rounds, perRound = 12, 25
	big := strings.Repeat("x", 64<<10)
	t.Run("The other client receives every event.", func(t *testing.T) {
		for range rounds {
			alerts := make([]events.Alert, perRound)
			for i := range alerts {
				alerts[i] = e.alert(erin, "idle", big)
			}
			publishAll(t, e.writer, events.TypeAlertRaised, erin.OrganizationID, erin.UserID, alerts...)
			for range perRound {
				fast.expect(EventAlertInactive, 20*time.Second)
			}
		}
	})
	t.Run("The slow client is disconnected and counted.", func(t *testing.T) {
		waitFor(t, 10*time.Second, "slow client disconnected", func() bool {
			return testutil.ToFloat64(r.srv.metrics.SlowClients) == 1
		})
		if got := testutil.ToFloat64(r.srv.metrics.Dropped); got < 1 {
			t.Fatalf("dropped %v", got)
		}
		_ = slow.SetReadDeadline(e.clock.Now().Add(10 * time.Second))
		for {
			if _, _, err := slow.ReadMessage(); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					t.Fatal("the slow client's connection is still open")
				}
				break
			}
		}
		waitFor(t, 5*time.Second, "one connection left", func() bool {
			return testutil.ToFloat64(r.srv.metrics.Connections) == 1
		})
	})
}

func TestShutdownAndKeepalive(t *testing.T) {
	e := newEnv(t)
	t.Run("Shutdown closes every client with a 1001 close frame.", func(t *testing.T) {
		r := e.start(t, nil)
		var cs []*wsClient
		for i := 0; i < 5; i++ {
			c := e.dial(t, r, testkit.Member("", authn.RoleEmployee))
			c.expect(EventSessionState, 5*time.Second)
			cs = append(cs, c)
		}
		start := e.clock.Now()
		r.stop()
		for _, c := range cs {
			if code := closeCode(c.closed(5 * time.Second)); code != websocket.CloseGoingAway {
				t.Fatalf("close code %d, want 1001", code)
			}
		}
		if d := clock.Since(e.clock, start); d > 3*time.Second {
			t.Fatalf("shutdown took %s", d)
		}
		if got := testutil.ToFloat64(r.srv.metrics.Connections); got != 0 {
			t.Fatalf("connections gauge %v after shutdown", got)
		}
	})
	t.Run("A client that stops answering pings is dropped after the pong timeout.", func(t *testing.T) {
		r := e.start(t, map[string]string{"WS_PING_INTERVAL": "200ms", "WS_PONG_TIMEOUT": "1s"})
		// Not reading means not answering pings.
		c, _, err := dialRaw(t, r.wsURL("token="+e.keys.token(t, testkit.Member("", authn.RoleEmployee))), nil)
		if err != nil {
			t.Fatal(err)
		}
		waitFor(t, 2*time.Second, "one connection", func() bool { return testutil.ToFloat64(r.srv.metrics.Connections) == 1 })
		waitFor(t, 5*time.Second, "the silent client dropped", func() bool { return testutil.ToFloat64(r.srv.metrics.Connections) == 0 })
		_ = c
	})
	t.Run("A client that answers pings stays connected past the pong timeout.", func(t *testing.T) {
		r := e.start(t, map[string]string{"WS_PING_INTERVAL": "200ms", "WS_PONG_TIMEOUT": "1s"})
		c := e.dial(t, r, testkit.Member("", authn.RoleEmployee))
		c.expect(EventSessionState, 5*time.Second)
		time.Sleep(2500 * time.Millisecond)
		if err := c.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		c.expect(EventPong, 5*time.Second)
	})
}

// failingScripts makes a real Redis client fail every script while on.
type failingScripts struct{ on atomic.Bool }

func (f *failingScripts) DialHook(next redis.DialHook) redis.DialHook { return next }
func (f *failingScripts) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}
func (f *failingScripts) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.on.Load() && strings.HasPrefix(cmd.Name(), "eval") {
			err := errors.New("injected Redis failure")
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

// TestAManagerSeesThePresenceOfTheirTeamsOnly puts a manager's team member
// and a colleague outside the team online together: the manager's
// presence holds themself and the member, never the colleague, and a change
// of the team is seen at the next request.
func TestAManagerSeesThePresenceOfTheirTeamsOnly(t *testing.T) {
	e := newEnv(t)
	r := e.start(t, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	mona := testkit.Member(admin.OrganizationID, authn.RoleManager)
	gail := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	hank := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	e.teams.Manage(t, mona.OrganizationID, mona.UserID, gail.UserID)
	for _, p := range []authn.Principal{mona, gail, hank} {
		e.dial(t, r, p).expect(EventSessionState, 5*time.Second)
	}
	waitFor(t, 5*time.Second, "the three to be online", func() bool { return len(e.presence(t, r, admin)) == 3 })

	for _, c := range []struct {
		name    string
		members []string
		want    []string
	}{
		{"A manager sees themself and their team's online member, not a colleague outside it.", []string{gail.UserID}, []string{mona.UserID, gail.UserID}},
		{"A colleague added to the team is seen at the next request.", []string{gail.UserID, hank.UserID}, []string{mona.UserID, gail.UserID, hank.UserID}},
		{"A member taken out of the team is no longer seen.", []string{hank.UserID}, []string{mona.UserID, hank.UserID}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.teams.Manage(t, mona.OrganizationID, mona.UserID, c.members...)
			got := ids(e.presence(t, r, mona))
			slices.Sort(got)
			want := slices.Clone(c.want)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("the manager's presence %v; want %v", got, want)
			}
		})
	}
}

func TestPresenceRecoversFromRedisFailure(t *testing.T) {
	e := newEnv(t)
	opt, err := redis.ParseURL(testkit.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	flaky := redis.NewClient(opt)
	t.Cleanup(func() { _ = flaky.Close() })
	fail := &failingScripts{}
	flaky.AddHook(fail)
	healthy, broken := e.start(t, nil), e.startWith(t, flaky, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	erin := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	watch := e.dial(t, healthy, admin)
	watch.expect(EventSessionState, 5*time.Second)
	watch.drain()

	fail.on.Store(true)
	c := e.dial(t, broken, erin)
	c.expect(EventSessionState, 5*time.Second)
	t.Run("A connection made while presence is failing is still served.", func(t *testing.T) {
		if got := ids(e.presence(t, healthy, admin)); len(got) != 1 {
			t.Fatalf("presence %v, want the admin alone", got)
		}
		if err := c.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		c.expect(EventPong, 5*time.Second)
	})
	t.Run("It joins presence at a heartbeat once Redis answers, and is announced.", func(t *testing.T) {
		fail.on.Store(false)
		var u userPresence
		watch.expect(EventUserOnline, 5*time.Second).decode(t, &u)
		if u.UserID != erin.UserID {
			t.Fatalf("online %+v", u)
		}
		if got := ids(e.presence(t, healthy, admin)); len(got) != 2 {
			t.Fatalf("presence %v, want admin and erin", got)
		}
	})
}

func TestAReplicaStartingBesideAnotherTakesNoEventFromIt(t *testing.T) {
	e := newEnv(t)
	r1 := e.start(t, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	c := e.dial(t, r1, admin)
	c.expect(EventSessionState, 5*time.Second)

	// Events keep coming while the second replica starts and joins: had
	// it joined the first one's group, the rebalance would hand it some
	// of the first one's partitions and those events would bypass c.
	const n = 40
	published := make(chan error, 1)
	go func() {
		for range n {
			s := e.session(admin)
			env, err := events.New(e.clock.Now(), "test", events.TypeActivityRecorded, admin.OrganizationID, s.SessionID,
				events.ActivityRecorded{Session: s, Stored: 1, ActiveSeconds: 1})
			if err != nil {
				published <- err
				return
			}
			b, _ := json.Marshal(env)
			topic, _ := events.TopicFor(env.Type)
			if err := e.writer.WriteMessages(context.Background(), kafka.Message{Topic: topic, Key: []byte(env.Key), Value: b}); err != nil {
				published <- err
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
		published <- nil
	}()
	e.start(t, nil)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	for range n {
		c.expect(EventSessionUpdate, 10*time.Second)
	}
}
