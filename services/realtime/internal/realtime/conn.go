// A connection's life: registration, its writer and reader goroutines,
// presence on join and leave, and the replies to the client's messages.

package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

func newConnID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// attach runs a new connection on two goroutines of its own, so that the
// HTTP handler's goroutine is released.
func (s *Server) attach(conn *websocket.Conn, p authn.Principal) {
	c := newClient(newConnID(), p, false, wsLink{conn: conn, clock: s.clock}, s.cfg.SendQueue)
	if !s.hub.register(c) {
		_ = conn.WriteControl(websocket.CloseMessage,
			websocket.FormatCloseMessage(websocket.CloseGoingAway, "server shutting down"), s.clock.Now().Add(time.Second))
		_ = conn.Close()
		return
	}
	go s.writeLoop(c, conn, nil, s.cfg.PingInterval)
	go s.readLoop(c, conn)
}

// writeLoop is the only writer of a WebSocket's frames. ctl carries the
// Engine.IO packets of a Socket.IO session (nil for /api/ws); pingEvery,
// when not zero, paces WebSocket pings (the /api/ws keepalive; Engine.IO
// pings are packets on ctl).
func (s *Server) writeLoop(c *client, conn *websocket.Conn, ctl <-chan []byte, pingEvery time.Duration) {
	defer close(c.writerDone)
	var ping <-chan time.Time
	if pingEvery > 0 {
		t := time.NewTicker(pingEvery)
		defer t.Stop()
		ping = t.C
	}
	write := func(b []byte) bool {
		_ = conn.SetWriteDeadline(s.clock.Now().Add(s.cfg.WriteWait))
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			_ = conn.Close()
			return false
		}
		return true
	}
	for {
		// A stopped connection closes before writing anything more: a slow
		// client's queue may still hold messages, each a blocking write.
		if c.stopped() {
			s.closeFrame(c, conn)
			return
		}
		select {
		case m := <-c.send:
			if !write(c.payload(m)) {
				return
			}
			s.written(m)
		case b := <-ctl:
			if !write(b) {
				return
			}
		case <-ping:
			if err := conn.WriteControl(websocket.PingMessage, nil, s.clock.Now().Add(s.cfg.WriteWait)); err != nil {
				_ = conn.Close()
				return
			}
		case <-c.done:
			s.closeFrame(c, conn)
			return
		}
	}
}

// written counts a message handed to the network.
func (s *Server) written(m outMsg) {
	s.metrics.Sent.Inc()
	if !m.at.IsZero() {
		s.metrics.Latency.Observe(clock.Since(s.clock, m.at).Seconds())
	}
}

// closeFrame sends the close frame of a stopped connection. The reader
// then ends when the client answers with its own, or when the grace runs
// out.
func (s *Server) closeFrame(c *client, conn *websocket.Conn) {
	_ = conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(c.closeCode, c.closeText),
		s.clock.Now().Add(s.cfg.CloseGrace))
	_ = conn.NetConn().SetReadDeadline(s.clock.Now().Add(s.cfg.CloseGrace))
}

// readLoop reads the client's messages until the connection ends, then
// tears it down.
func (s *Server) readLoop(c *client, conn *websocket.Conn) {
	defer s.teardown(c, conn)
	conn.SetReadLimit(s.cfg.ReadLimit)
	alive := func() {
		if !c.stopped() {
			_ = conn.SetReadDeadline(s.clock.Now().Add(s.cfg.PongWait))
		}
	}
	alive()
	conn.SetPongHandler(func(string) error { alive(); return nil })

	ctx := context.Background()
	if !s.greet(ctx, c) {
		return
	}
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		alive()
		s.handleClientMessage(ctx, c, data)
	}
}

// greet does a new connection's start-up work: presence, then its
// session:state. false means the connection ended while waiting its turn.
func (s *Server) greet(ctx context.Context, c *client) bool {
	select {
	case s.greeting <- struct{}{}:
	case <-c.done:
		return false
	}
	defer func() { <-s.greeting }()
	if err := s.join(ctx, c); err != nil {
		s.log.Warn("presence unavailable on connect; the heartbeat retries", "user_id", c.p.UserID, "err", err)
	}
	s.sendState(ctx, c)
	return true
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

// teardown runs once per /api/ws connection, after its reader ended.
func (s *Server) teardown(c *client, conn *websocket.Conn) {
	c.stop(websocket.CloseNormalClosure, "")
	_ = conn.Close()
	<-c.writerDone
	s.depart(c)
}

// depart removes a torn-down connection from the hub and from presence,
// announcing user:offline when it was its user's last one anywhere.
func (s *Server) depart(c *client) {
	defer s.hub.conns.Done()
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

// reply queues a message for c alone, in its protocol.
func (s *Server) reply(c *client, event string, data any) {
	var m outMsg
	var err error
	if c.sio {
		m.sio, err = sioEventMessage(event, data)
	} else {
		m.ws, err = encode(event, data, s.clock.Now())
	}
	if err != nil {
		s.log.Error("encoding reply", "event", event, "err", err)
		return
	}
	s.hub.offer(c, m)
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
	event, data := s.sessionState(ctx, c)
	s.reply(c, event, data)
}

// sessionState is the session:state message of c's user: their active
// session or null, or an error message when it cannot be read.
func (s *Server) sessionState(ctx context.Context, c *client) (string, any) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	sess, err := activeSession(ctx, s.db, c.p)
	if err != nil {
		ae := httpx.Classify(err)
		s.log.Error("session state unavailable", "user_id", c.p.UserID, "err", err)
		return EventError, errorData{Code: ae.Code, Message: ae.Message}
	}
	return EventSessionState, sess
}
