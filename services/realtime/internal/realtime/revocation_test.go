package realtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// revocable makes e's verifier apply a revocation list of e's database;
// revoke then records a revocation as the auth service does and polls it.
func (e *env) revocable(t *testing.T) (revoke func(kind, subject string)) {
	t.Helper()
	list := authn.NewRevocations(authn.PGRevocations{DB: e.db.Pool(t, "workpulse_realtime")}, e.clock)
	e.keys.verifier.WithRevocations(list)
	return func(kind, subject string) {
		t.Helper()
		ctx := context.Background()
		if _, err := e.db.Owner.Exec(ctx, "INSERT INTO auth.revocations (kind, subject, blocked) VALUES ($1, $2, true)", kind, subject); err != nil {
			t.Fatal(err)
		}
		if err := list.Poll(ctx); err != nil {
			t.Fatal(err)
		}
	}
}

func closeError(err error) *websocket.CloseError {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce
	}
	return nil
}

func TestAWebSocketClosesWhenItsTokenIsRevoked(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		kind    string
		subject func(p authn.Principal) string
		code    string
	}{
		{"A deactivated user's WebSocket closes.", authn.RevokeUser, func(p authn.Principal) string { return p.UserID }, "AUTH_ACCOUNT_DISABLED"},
		{"A deactivated organization's WebSockets close.", authn.RevokeOrganization, func(p authn.Principal) string { return p.OrganizationID }, "AUTH_ACCOUNT_DISABLED"},
		{"A signed-out session's WebSocket closes.", authn.RevokeSession, func(p authn.Principal) string { return p.SessionID }, "AUTH_TOKEN_REVOKED"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			revoke := e.revocable(t)
			r := e.start(t, map[string]string{"WS_TOKEN_CHECK_INTERVAL": "1m"})
			p := testkit.Member("", authn.RoleEmployee)
			p.SessionID = testkit.Member("", "").UserID
			bystander := e.dial(t, r, testkit.Member("", authn.RoleAdmin))
			c := e.dial(t, r, p)
			c.expect(EventSessionState, 5*time.Second)
			_ = c.conn.WriteJSON(map[string]string{"event": EventPing})
			c.expect(EventPong, 5*time.Second)

			// The check interval is a minute: only the revocation's
			// arrival can close the connection within the wait.
			start := e.clock.Now()
			revoke(tc.kind, tc.subject(p))
			err := c.closed(3 * time.Second)
			if ce := closeError(err); ce == nil || ce.Code != websocket.ClosePolicyViolation || ce.Text != tc.code {
				t.Fatalf("closed with %v, want 1008 %s", err, tc.code)
			}
			t.Logf("closed %s after the revocation was read", clock.Since(e.clock, start))
			if _, _, err := dialRaw(t, r.wsURL("token="+e.keys.token(t, p)), nil); err == nil {
				t.Fatal("the revoked caller connected again")
			}
			_ = bystander.conn.WriteJSON(map[string]string{"event": EventPing})
			bystander.expect(EventPong, 5*time.Second)
		})
	}
}

func TestAWebSocketClosesWhenItsTokenExpires(t *testing.T) {
	e := newEnv(t)
	r := e.start(t, map[string]string{"WS_TOKEN_CHECK_INTERVAL": "100ms"})
	p := testkit.Member("", authn.RoleEmployee)
	// The tokens live an hour; this one has a second left.
	tok := e.keys.tokenAt(t, p, e.clock.Now().Add(-time.Hour+time.Second))
	conn, _, err := dialRaw(t, r.wsURL("token="+tok), nil)
	if err != nil {
		t.Fatalf("the token was refused while still valid: %v", err)
	}
	c := readInBackground(t, conn)
	c.expect(EventSessionState, 5*time.Second)
	// Verification grants five seconds of leeway for clock skew.
	err = c.closed(10 * time.Second)
	if ce := closeError(err); ce == nil || ce.Code != websocket.ClosePolicyViolation || ce.Text != "AUTH_TOKEN_EXPIRED" {
		t.Fatalf("closed with %v, want 1008 AUTH_TOKEN_EXPIRED", err)
	}
}

func TestASocketIOClientIsDisconnectedWhenItsTokenIsRevoked(t *testing.T) {
	e := newEnv(t)
	revoke := e.revocable(t)
	r := e.start(t, nil)
	p := testkit.Member("", authn.RoleEmployee)
	opts := e.sioOptions(t, r, p)
	c := startSIOClient(t, opts)
	c.expect("connect", "", 10*time.Second)
	c.expect("event", EventSessionState, 5*time.Second)
	revoke(authn.RevokeUser, p.UserID)
	c.expect("disconnect", "", 5*time.Second)
	l := startSIOClient(t, opts).expect("connect_error", "", 10*time.Second)
	var data struct{ Code string }
	decodeLine(t, l.Data, &data)
	if data.Code != "AUTH_ACCOUNT_DISABLED" {
		t.Fatalf("connecting again: %s, want AUTH_ACCOUNT_DISABLED", l.Data)
	}
}
