package realtime

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// Errors of the WebSocket handshake.
var (
	ErrOriginNotAllowed = apierr.New(http.StatusForbidden, "WS_ORIGIN_NOT_ALLOWED", "this origin may not open a WebSocket")
	ErrUpgradeRequired  = apierr.New(http.StatusUpgradeRequired, "WS_UPGRADE_REQUIRED", "this endpoint speaks WebSocket only")
	errHandshake        = apierr.New(http.StatusBadRequest, "WS_HANDSHAKE_FAILED", "WebSocket handshake failed")
)

var writePool sync.Pool

func handshakeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	e := errHandshake.WithMessage(reason.Error())
	e.Status = status
	httpx.Error(w, r, e)
}

// hijacker lets gorilla/websocket take over a connection through the
// middleware's response wrappers, which expose Hijack only via Unwrap.
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

// serveWS authenticates and then upgrades: a refused caller gets an HTTP
// error in the envelope, never a WebSocket.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) error {
	if !s.originAllowed(r) {
		return ErrOriginNotAllowed
	}
	p, err := s.verifier.Verify(r.Context(), tokenOf(r))
	if err != nil {
		return err
	}
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		return ErrUpgradeRequired
	}
	conn, err := s.upgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		return nil // the upgrader has answered
	}
	s.attach(conn, p)
	return nil
}

// tokenOf finds the access token: the Authorization header, the
// "bearer, <token>" subprotocol pair browsers use, or the token query
// parameter.
func tokenOf(r *http.Request) string {
	if t := authn.BearerToken(r); t != "" {
		return t
	}
	if ps := websocket.Subprotocols(r); len(ps) >= 2 && strings.EqualFold(ps[0], "bearer") {
		return ps[1]
	}
	return r.URL.Query().Get("token")
}

// originAllowed lets non-browser clients (no Origin), same-origin pages
// and the configured origins in: a page of any other site must not ride
// on a user's token.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range s.cfg.AllowedOrigins {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}

func newConnID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// attach runs a new connection on two goroutines of its own, so that the
// HTTP handler's goroutine is released.
func (s *Server) attach(conn *websocket.Conn, p authn.Principal) {
	c := newClient(newConnID(), p, conn, s.cfg.SendQueue)
	if !s.hub.register(c) {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), s.clock.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	go s.writeLoop(c)
	go s.readLoop(c)
}

// writeLoop is the only writer of data frames and pings of a connection.
func (s *Server) writeLoop(c *client) {
	defer close(c.writerDone)
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		// A stopped connection closes before writing anything more: a slow
		// client's queue may still hold messages, each a blocking write.
		if c.stopped() {
			s.closeFrame(c)
			return
		}
		select {
		case m := <-c.send:
			_ = c.conn.SetWriteDeadline(s.clock.Now().Add(s.cfg.WriteWait))
			if err := c.conn.WriteMessage(websocket.TextMessage, m.data); err != nil {
				_ = c.conn.Close()
				return
			}
			s.metrics.Sent.Inc()
			if !m.at.IsZero() {
				s.metrics.Latency.Observe(clock.Since(s.clock, m.at).Seconds())
			}
		case <-ping.C:
			if err := c.conn.WriteControl(websocket.PingMessage, nil, s.clock.Now().Add(s.cfg.WriteWait)); err != nil {
				_ = c.conn.Close()
				return
			}
		case <-c.done:
			s.closeFrame(c)
			return
		}
	}
}

// closeFrame sends the close frame of a stopped connection. The reader
// then ends when the client answers with its own, or when the grace runs
// out.
func (s *Server) closeFrame(c *client) {
	_ = c.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeText),
		s.clock.Now().Add(s.cfg.CloseGrace))
	_ = c.conn.NetConn().SetReadDeadline(s.clock.Now().Add(s.cfg.CloseGrace))
}

// readLoop reads the client's messages until the connection ends, then
// tears it down.
func (s *Server) readLoop(c *client) {
	defer s.teardown(c)
	c.conn.SetReadLimit(s.cfg.ReadLimit)
	alive := func() {
		if !c.stopped() {
			_ = c.conn.SetReadDeadline(s.clock.Now().Add(s.cfg.PongWait))
		}
	}
	alive()
	c.conn.SetPongHandler(func(string) error { alive(); return nil })

	ctx := context.Background()
	select {
	case s.greeting <- struct{}{}:
	case <-c.done:
		return
	}
	if err := s.join(ctx, c); err != nil {
		s.log.Warn("presence unavailable on connect; the heartbeat retries", "user_id", c.p.UserID, "err", err)
	}
	s.sendState(ctx, c)
	<-s.greeting

	for {
		_, data, err := c.conn.ReadMessage()
		if err != nil {
			return
		}
		alive()
		s.handleClientMessage(ctx, c, data)
	}
}

// join records c in presence and announces its user if they were offline.
func (s *Server) join(ctx context.Context, c *client) error {
	wasOffline, name, err := s.presence.Join(ctx, c.p.OrganizationID, c.p.UserID, c.id, c.p.Email)
	if err != nil {
		return err
	}
	c.joined.Store(true)
	if wasOffline {
		s.announce(ctx, EventUserOnline, userPresence{UserID: c.p.UserID, Name: name, OrganizationID: c.p.OrganizationID})
	}
	return nil
}

// teardown runs once per connection, after its reader ended.
func (s *Server) teardown(c *client) {
	defer s.hub.conns.Done()
	c.stop(websocket.CloseNormalClosure, "")
	_ = c.conn.Close()
	<-c.writerDone
	s.hub.unregister(c)
	if s.hub.isClosing() || !c.joined.Load() {
		return // presence outlives a restart; see runHeartbeat
	}
	ctx := context.Background()
	wentOffline, err := s.presence.Leave(ctx, c.p.OrganizationID, c.p.UserID, c.id)
	if err != nil {
		s.log.Warn("presence unavailable on disconnect; the connection will expire", "user_id", c.p.UserID, "err", err)
		return
	}
	if wentOffline {
		name, _ := s.presence.Name(ctx, c.p.OrganizationID, c.p.UserID)
		s.announce(ctx, EventUserOffline, userPresence{UserID: c.p.UserID, Name: name, OrganizationID: c.p.OrganizationID})
	}
}

// reply queues a message for c alone.
func (s *Server) reply(c *client, event string, data any) {
	b, err := encode(event, data, s.clock.Now())
	if err != nil {
		s.log.Error("encoding reply", "event", event, "err", err)
		return
	}
	s.hub.offer(c, outMsg{data: b})
}

type clientMessage struct {
	Event string `json:"event"`
}

type errorData struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (s *Server) handleClientMessage(ctx context.Context, c *client, data []byte) {
	event, refusal := parseClientMessage(data)
	switch {
	case refusal != nil:
		s.reply(c, EventError, *refusal)
	case event == EventPing:
		s.reply(c, EventPong, struct{}{})
	case event == EventRequestState:
		s.sendState(ctx, c)
	}
}

// parseClientMessage returns the event a client asked for, or the error
// to answer it with.
func parseClientMessage(data []byte) (string, *errorData) {
	var m clientMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return "", &errorData{Code: apierr.ErrValidation.Code, Message: "message must be a JSON object with an event"}
	}
	switch m.Event {
	case EventPing, EventRequestState:
		return m.Event, nil
	}
	return "", &errorData{Code: apierr.ErrValidation.Code, Message: "unknown event " + quoteShort(m.Event)}
}

func quoteShort(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	b, _ := json.Marshal(s)
	return string(b)
}

// sendState sends the caller's active session (or null).
func (s *Server) sendState(ctx context.Context, c *client) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sess, err := activeSession(ctx, s.db, c.p)
	if err != nil {
		ae := httpx.Classify(err)
		s.log.Error("session state unavailable", "user_id", c.p.UserID, "err", err)
		s.reply(c, EventError, errorData{Code: ae.Code, Message: ae.Message})
		return
	}
	s.reply(c, EventSessionState, sess)
}

// listPresence serves GET /api/presence: the organization's online users
// for an admin, the caller alone (if online) for an employee.
func (s *Server) listPresence(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	only := p.UserID
	if p.IsAdmin() {
		only = ""
	}
	users, err := s.presence.Online(r.Context(), p.OrganizationID, only)
	if err != nil {
		s.log.ErrorContext(r.Context(), "presence unavailable", "err", err)
		return apierr.ErrUnavailable
	}
	sort.Slice(users, func(i, j int) bool {
		if users[i].Name != users[j].Name {
			return users[i].Name < users[j].Name
		}
		return users[i].UserID < users[j].UserID
	})
	httpx.JSON(w, http.StatusOK, users)
	return nil
}
