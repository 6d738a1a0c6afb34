package realtime

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestHandshake(t *testing.T) {
	e := newEnv(t)
	r := e.start(t, map[string]string{"WS_ALLOWED_ORIGINS": "https://app.example.com"})
	p := testkit.Member("", authn.RoleEmployee)
	good := e.keys.token(t, p)
	other := newTestKeys(t, e.clock)

	refusals := []struct {
		name   string
		query  string
		header http.Header
		status int
		code   string
	}{
		{name: "A connection without a token is refused with 401.", status: 401, code: "AUTH_INVALID_TOKEN"},
		{name: "A malformed token is refused with 401.", query: "token=not-a-jwt", status: 401, code: "AUTH_INVALID_TOKEN"},
		{name: "A token signed by an unknown key is refused with 401.", query: "token=" + other.token(t, p), status: 401, code: "AUTH_INVALID_TOKEN"},
		{name: "An expired token is refused with 401 and its own code.", query: "token=" + e.keys.tokenAt(t, p, e.clock.Now().Add(-2*time.Hour)),
			status: 401, code: "AUTH_TOKEN_EXPIRED"},
		{name: "An expired token in the subprotocol is refused too.",
			header: http.Header{"Sec-WebSocket-Protocol": {"bearer, " + e.keys.tokenAt(t, p, e.clock.Now().Add(-2*time.Hour))}}, status: 401, code: "AUTH_TOKEN_EXPIRED"},
		{name: "A page of a foreign origin is refused with 403.", query: "token=" + good,
			header: http.Header{"Origin": {"https://evil.example.org"}}, status: 403, code: "WS_ORIGIN_NOT_ALLOWED"},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := dialRaw(t, r.wsURL(tc.query), tc.header)
			if err == nil || c != nil {
				t.Fatal("the connection was upgraded")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("got %v, want status %d", resp, tc.status)
			}
			var body struct {
				Success bool
				Error   struct{ Code string }
			}
			b, _ := io.ReadAll(resp.Body)
			if err := json.Unmarshal(b, &body); err != nil || body.Success || body.Error.Code != tc.code {
				t.Fatalf("body %s, want error code %s", b, tc.code)
			}
		})
	}

	accepted := []struct {
		name     string
		query    string
		header   http.Header
		protocol string
	}{
		{name: "The token is accepted in the query.", query: "token=" + good},
		{name: "The token is accepted in the Authorization header.", header: http.Header{"Authorization": {"Bearer " + good}}},
		{name: "The token is accepted as the bearer subprotocol, which is echoed.",
			header: http.Header{"Sec-WebSocket-Protocol": {"bearer, " + good}}, protocol: "bearer"},
		{name: "An allowed origin is accepted.", query: "token=" + good, header: http.Header{"Origin": {"https://app.example.com"}}},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			c, _, err := dialRaw(t, r.wsURL(tc.query), tc.header)
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			if c.Subprotocol() != tc.protocol {
				t.Fatalf("subprotocol %q, want %q", c.Subprotocol(), tc.protocol)
			}
			readInBackground(t, c).expect(EventSessionState, 5*time.Second)
		})
	}

	t.Run("A plain GET with a valid token is told to upgrade.", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, r.http.URL+"/api/ws", nil)
		req.Header.Set("Authorization", "Bearer "+good)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUpgradeRequired || resp.Header.Get("Upgrade") != "websocket" {
			t.Fatalf("status %d, Upgrade %q; want 426 and websocket", resp.StatusCode, resp.Header.Get("Upgrade"))
		}
	})
}

func TestSessionStateAndRequests(t *testing.T) {
	e := newEnv(t)
	r := e.start(t, nil)
	working := testkit.Member("", authn.RoleEmployee)
	idle := testkit.Member(working.OrganizationID, authn.RoleEmployee)
	sessionID := uuid.NewString()
	if _, err := e.db.Owner.Exec(t.Context(), `INSERT INTO tracking.work_sessions
		(id, organization_id, user_id, start_time, status, total_active_seconds, total_idle_seconds, last_activity_at)
		VALUES ($1, $2, $3, $4::timestamptz - interval '1 hour', 'active', 120, 30, $4)`, sessionID, working.OrganizationID, working.UserID, e.clock.Now()); err != nil {
		t.Fatal(err)
	}

	t.Run("A user with an active session gets it on connect.", func(t *testing.T) {
		c := e.dial(t, r, working)
		var s tracking.Session
		c.expect(EventSessionState, 5*time.Second).decode(t, &s)
		if s.ID != sessionID || s.UserID != working.UserID || s.Status != "active" || s.TotalActiveSeconds != 120 || s.TotalIdleSeconds != 30 {
			t.Fatalf("session %+v", s)
		}
	})
	t.Run("A user without an active session gets null on connect.", func(t *testing.T) {
		c := e.dial(t, r, idle)
		if m := c.expect(EventSessionState, 5*time.Second); string(m.Data) != "null" {
			t.Fatalf("data %s, want null", m.Data)
		}
	})
	t.Run("The same user ID under another organization's token sees no session.", func(t *testing.T) {
		forged := working
		forged.OrganizationID = uuid.NewString()
		c := e.dial(t, r, forged)
		if m := c.expect(EventSessionState, 5*time.Second); string(m.Data) != "null" {
			t.Fatalf("data %s, want null", m.Data)
		}
	})
	t.Run("session:request-state, ping and unknown events are answered.", func(t *testing.T) {
		c := e.dial(t, r, working)
		c.expect(EventSessionState, 5*time.Second)
		for _, msg := range []string{`{"event":"ping"}`, `{"event":"session:request-state"}`, `{"event":"dance"}`, `not json`} {
			if err := c.conn.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
				t.Fatal(err)
			}
		}
		c.expect(EventPong, 5*time.Second)
		var s tracking.Session
		c.expect(EventSessionState, 5*time.Second).decode(t, &s)
		if s.ID != sessionID {
			t.Fatalf("session %+v", s)
		}
		c.expect(EventError, 5*time.Second)
		c.expect(EventError, 5*time.Second)
	})
	t.Run("A message over the read limit closes the connection with 1009.", func(t *testing.T) {
		c := e.dial(t, r, idle)
		c.expect(EventSessionState, 5*time.Second)
		_ = c.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"`+strings.Repeat("x", 8192)+`"}`))
		if code := closeCode(c.closed(5 * time.Second)); code != websocket.CloseMessageTooBig {
			t.Fatalf("close code %d, want 1009", code)
		}
	})
}

func TestRoutingByRoleAndOrganization(t *testing.T) {
	e := newEnv(t)
	r := e.start(t, nil)

	adminA := testkit.Member("", authn.RoleAdmin)
	ann := testkit.Member(adminA.OrganizationID, authn.RoleEmployee)
	bob := testkit.Member(adminA.OrganizationID, authn.RoleEmployee)
	adminB := testkit.Member("", authn.RoleAdmin)
	carol := testkit.Member(adminB.OrganizationID, authn.RoleEmployee)
	lead := testkit.Member(adminA.OrganizationID, authn.RoleManager)
	e.teams.Manage(t, lead.OrganizationID, lead.UserID, ann.UserID)
	clients := map[string]*wsClient{}
	for name, p := range map[string]authn.Principal{"adminA": adminA, "ann": ann, "bob": bob, "adminB": adminB, "carol": carol, "lead": lead} {
		clients[name] = e.dial(t, r, p)
		clients[name].expect(EventSessionState, 5*time.Second)
	}
	// Connecting announces user:online; let those settle first.
	time.Sleep(300 * time.Millisecond)
	for _, c := range clients {
		c.drain()
	}

	e.publish(t, events.TypeSessionStarted, ann.OrganizationID, ann.UserID, events.SessionStarted{Session: e.session(ann)})
	e.publishActivity(t, ann, 60)
	e.publishAlert(t, ann, "idle", "Ann has been idle")
	e.publishAlert(t, bob, "overtime", "Bob works too much")
	e.publishActivity(t, carol, 5)
	e.publish(t, events.TypeSessionStopped, carol.OrganizationID, carol.UserID, events.SessionStopped{Session: e.session(carol)})

	type got struct{ event, user string }
	received := func(t *testing.T, c *wsClient, want int) []got {
		t.Helper()
		var out []got
		deadline := time.After(10 * time.Second)
		for len(out) < want {
			select {
			case m, ok := <-c.msgs:
				if !ok {
					t.Fatalf("connection ended: %v", c.err)
				}
				var d struct {
					UserID string `json:"user_id"`
				}
				m.decode(t, &d)
				out = append(out, got{m.Event, d.UserID})
			case <-deadline:
				t.Fatalf("got %v, want %d messages", out, want)
			}
		}
		// Anything else arriving shortly after is a leak.
		for _, m := range c.collect(500 * time.Millisecond) {
			t.Errorf("unexpected %s %s", m.Event, m.Data)
		}
		return out
	}
	count := func(gs []got, user string) int {
		n := 0
		for _, g := range gs {
			if g.user == user {
				n++
			}
		}
		return n
	}

	cases := []struct {
		name   string
		client string
		want   map[string]int // user → messages about them
	}{
		{"An admin receives every event of the organization.", "adminA", map[string]int{ann.UserID: 3, bob.UserID: 1}},
		{"An employee receives the events about themself only.", "ann", map[string]int{ann.UserID: 3}},
		{"An employee never receives a colleague's events.", "bob", map[string]int{bob.UserID: 1}},
		{"A manager receives the events of their team's members only.", "lead", map[string]int{ann.UserID: 3}},
		{"The admin of another organization receives only that organization's events.", "adminB", map[string]int{carol.UserID: 2}},
		{"An employee of another organization receives only their own.", "carol", map[string]int{carol.UserID: 2}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			total := 0
			for _, n := range tc.want {
				total += n
			}
			gs := received(t, clients[tc.client], total)
			for user, n := range tc.want {
				if count(gs, user) != n {
					t.Errorf("got %v, want %d about %s", gs, n, user)
				}
			}
		})
	}
	// Event names follow the contract.
	t.Run("Kafka events become the contract's WebSocket events.", func(t *testing.T) {
		c := e.dial(t, r, adminA)
		c.expect(EventSessionState, 5*time.Second)
		e.publishAlert(t, ann, "overtime", "long day")
		var a events.Alert
		c.expect(EventAlertOvertime, 10*time.Second).decode(t, &a)
		if a.UserID != ann.UserID || a.Message != "long day" {
			t.Fatalf("alert %+v", a)
		}
		e.publishActivity(t, bob, 42)
		var u sessionUpdate
		c.expect(EventSessionUpdate, 10*time.Second).decode(t, &u)
		if u.UserID != bob.UserID || u.TotalActiveSeconds != 42 || u.SessionID == "" || u.LastActivityAt == nil {
			t.Fatalf("update %+v", u)
		}
	})
	t.Run("A change of membership reaches a manager's open connection at the next poll.", func(t *testing.T) {
		c := clients["lead"]
		c.drain()
		e.teams.Manage(t, lead.OrganizationID, lead.UserID, bob.UserID)
		e.publishAlert(t, ann, "overtime", "Ann left the team")
		e.publishAlert(t, bob, "overtime", "Bob joined the team")
		if gs := received(t, c, 1); gs[0].user != bob.UserID {
			t.Fatalf("got %v, want only the new member's alert", gs)
		}
	})
}

func TestMessagesCarryTheTimeOfTheServiceClock(t *testing.T) {
	e := newEnv(t)
	// A clock standing after any day the suite runs on keeps every
	// deadline of the connections in the future, so they still work.
	at := time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
	e.clock = testkit.NewClock(at)
	r := e.start(t, nil)
	admin := testkit.Member("", authn.RoleAdmin)
	erin := testkit.Member(admin.OrganizationID, authn.RoleEmployee)
	watch := e.dial(t, r, admin)
	state := watch.expect(EventSessionState, 5*time.Second)
	c := e.dial(t, r, erin)
	c.expect(EventSessionState, 5*time.Second)
	online := watch.expect(EventUserOnline, 5*time.Second)
	if err := watch.conn.WriteMessage(websocket.TextMessage, []byte(`{"event":"ping"}`)); err != nil {
		t.Fatal(err)
	}
	pong := watch.expect(EventPong, 5*time.Second)
	for _, m := range []message{state, online, pong} {
		t.Run(m.Event+" is stamped with the service clock's time.", func(t *testing.T) {
			if !m.Timestamp.Equal(at) {
				t.Errorf("timestamp %s, want %s", m.Timestamp, at)
			}
		})
	}
}
