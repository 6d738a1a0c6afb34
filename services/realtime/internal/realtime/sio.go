// The Socket.IO endpoint, /socket.io/: Engine.IO v4 sessions on long
// polling and WebSocket transports, the upgrade from one to the other,
// and the default namespace of Socket.IO v5 on top. A session is a hub
// client like an /api/ws connection: the same routing, the same bounded
// queue, the same presence. See docs/realtime.md.

package realtime

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"

	// sioConnectTimeout is how long a session may stay without a
	// Socket.IO CONNECT (socket.io's connectTimeout).
	sioConnectTimeout = 45 * time.Second
	// eioUpgradeTimeout bounds an upgrade from probe to switch
	// (engine.io's upgradeTimeout).
	eioUpgradeTimeout = 10 * time.Second
	// longPollWait bounds a long poll with nothing to say, which then
	// answers a noop: below the HTTP server's 30 s read timeout, which
	// would cancel it, and proxies' idle timeouts.
	longPollWait = 20 * time.Second
	// pollBatchBytes bounds one long-poll response; what is left waits
	// for the next poll, which the client sends at once.
	pollBatchBytes = 64 << 10
)

// eioSession is one Engine.IO session and the Socket.IO socket on it.
type eioSession struct {
	sid string
	c   *client
	// token is the handshake's token (query or Authorization header),
	// used when the CONNECT packet carries none.
	token string
	// ctl carries the session's own Engine.IO packets (pings) to
	// whichever transport writes.
	ctl  chan []byte
	pong chan struct{}
	// wake makes a pending long poll answer at once (during an upgrade).
	wake     chan struct{}
	admitted atomic.Bool
	s        *Server

	mu        sync.Mutex
	transport string
	polling   bool // a long poll is pending
	upgrading bool // an upgrade is under way
	probing   bool // its probe was answered: polls answer at once
	ws        *websocket.Conn
	closed    bool // the session ended: no transport may attach
	// readerDone is closed when the WebSocket's reader ends.
	readerDone chan struct{}

	// handling serializes the handling of the client's packets, and
	// teardown waits for it, so that nothing joins presence after the
	// session departed.
	handling sync.Mutex
	ended    bool
}

func (e *eioSession) unblock() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ws != nil {
		_ = e.ws.NetConn().SetWriteDeadline(e.s.clock.Now())
	}
}

func (e *eioSession) close() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ws != nil {
		_ = e.ws.Close()
	}
}

// sessions indexes the Engine.IO sessions of this replica by id.
type sessions struct {
	mu sync.Mutex
	m  map[string]*eioSession
}

func (ss *sessions) get(sid string) *eioSession {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	return ss.m[sid]
}

func (ss *sessions) add(e *eioSession) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.m[e.sid] = e
}

func (ss *sessions) remove(sid string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, sid)
}

// serveSocketIO routes an Engine.IO request: a handshake (no sid), a long
// poll (GET), a post of packets (POST), or a WebSocket, which opens a
// session or upgrades one.
func (s *Server) serveSocketIO(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("EIO") != "4" {
		return ErrSIOBadRequest.WithMessage("unsupported Engine.IO protocol version; socket.io-client v4 speaks EIO=4")
	}
	transport := q.Get("transport")
	if transport != transportPolling && transport != transportWebSocket {
		return ErrSIOBadRequest.WithMessage("unknown transport")
	}
	if !s.originAllowed(r) {
		return ErrOriginNotAllowed
	}
	sid := q.Get("sid")
	if sid == "" {
		if transport == transportPolling && r.Method != http.MethodGet {
			return ErrSIOBadRequest.WithMessage("a handshake is a GET")
		}
		return s.eioHandshake(w, r, transport)
	}
	e := s.sessions.get(sid)
	if e == nil {
		return ErrSIOSessionUnknown
	}
	switch {
	case transport == transportWebSocket:
		return s.eioUpgrade(w, r, e)
	case r.Method == http.MethodGet:
		return s.eioPoll(w, r, e)
	default:
		return s.eioPost(w, r, e)
	}
}

// eioHandshake opens a session: on polling, the open packet is the
// response; on a WebSocket, its first frame.
func (s *Server) eioHandshake(w http.ResponseWriter, r *http.Request, transport string) error {
	if transport == transportWebSocket && !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		return ErrUpgradeRequired
	}
	e := &eioSession{s: s, sid: newConnID(), token: tokenOf(r), transport: transport,
		ctl: make(chan []byte, 4), pong: make(chan struct{}, 1), wake: make(chan struct{}, 1), readerDone: make(chan struct{})}
	e.c = newClient(newConnID(), authn.Principal{}, true, e, s.cfg.SendQueue)
	if !s.hub.register(e.c) {
		return apierr.ErrUnavailable.WithMessage("the server is shutting down")
	}
	s.sessions.add(e)
	go s.runSession(e)
	open := eioOpenPacket(eioHandshake{
		SID: e.sid, Upgrades: upgradesFrom(transport),
		PingInterval: s.cfg.PingInterval.Milliseconds(), PingTimeout: s.pingTimeout().Milliseconds(),
		MaxPayload: s.cfg.ReadLimit,
	})
	if transport == transportPolling {
		writePayload(w, open)
		return nil
	}
	conn, err := s.upgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		e.c.stop(websocket.CloseProtocolError, "")
		return nil // the upgrader has answered
	}
	_ = conn.SetWriteDeadline(s.clock.Now().Add(s.cfg.WriteWait))
	if conn.WriteMessage(websocket.TextMessage, open) != nil || !e.attach(conn) {
		e.c.stop(websocket.CloseProtocolError, "")
		_ = conn.Close()
		return nil
	}
	// Both loops run on goroutines of their own, so that the handler's
	// (and its deep stack) is released, as on /api/ws.
	go s.writeLoop(e.c, conn, e.ctl, 0)
	go s.readWS(e, conn)
	return nil
}

func upgradesFrom(transport string) []string {
	if transport == transportPolling {
		return []string{transportWebSocket}
	}
	return []string{}
}

// pingTimeout is how long the server waits for a pong: with the ping
// interval, the silence WS_PONG_TIMEOUT allows, as on /api/ws.
func (s *Server) pingTimeout() time.Duration { return s.cfg.PongWait - s.cfg.PingInterval }

// runSession pings the client, ends the session when a pong or the
// CONNECT is late, and tears the session down once it is stopped.
func (s *Server) runSession(e *eioSession) {
	defer s.endSession(e)
	c := e.c
	connectBy := time.NewTimer(sioConnectTimeout)
	defer connectBy.Stop()
	ping := time.NewTimer(s.cfg.PingInterval)
	defer ping.Stop()
	pongBy := time.NewTimer(s.pingTimeout())
	pongBy.Stop() // armed by each ping
	defer pongBy.Stop()
	for {
		select {
		case <-c.done:
			return
		case <-connectBy.C:
			if !e.admitted.Load() {
				c.stop(websocket.ClosePolicyViolation, "no Socket.IO connect")
			}
		case <-ping.C:
			select {
			case e.ctl <- eioPingPacket:
			default: // the last ping is still unsent: the pong timer runs anyway
			}
			pongBy.Reset(s.pingTimeout())
		case <-e.pong:
			pongBy.Stop()
			ping.Reset(s.cfg.PingInterval)
		case <-pongBy.C:
			c.stop(websocket.CloseGoingAway, "ping timeout")
		}
	}
}

// endSession tears a stopped session down: its WebSocket closes after the
// close handshake, then it leaves the hub and presence.
func (s *Server) endSession(e *eioSession) {
	e.mu.Lock()
	e.closed = true
	conn := e.ws
	e.mu.Unlock()
	if conn != nil {
		<-e.c.writerDone
		<-e.readerDone
		_ = conn.Close()
	}
	e.handling.Lock()
	e.ended = true
	e.handling.Unlock()
	s.sessions.remove(e.sid)
	s.depart(e.c)
}

// attach makes conn the session's transport; false if the session ended.
func (e *eioSession) attach(conn *websocket.Conn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.transport, e.ws, e.upgrading, e.probing = transportWebSocket, conn, false, false
	e.wakePoll()
	return true
}

func (e *eioSession) wakePoll() {
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

// beginPoll claims the session's one long poll; it reports whether the
// poll must answer at once.
func (e *eioSession) beginPoll() (immediate bool, err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.transport != transportPolling:
		return false, errors.New("the session is not on polling")
	case e.polling:
		return false, errors.New("a long poll is already pending")
	}
	e.polling = true
	return e.probing, nil
}

func (e *eioSession) endPoll() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.polling = false
}

// eioPoll answers a long poll with the packets waiting, or the first one
// to come: a message, a ping, a noop when an upgrade needs the poll to
// end, or the close packet when the session stops.
func (s *Server) eioPoll(w http.ResponseWriter, r *http.Request, e *eioSession) error {
	immediate, err := e.beginPoll()
	if err != nil {
		if e.transportName() == transportPolling {
			e.c.stop(websocket.CloseProtocolError, "")
		}
		return ErrSIOBadRequest.WithMessage(err.Error())
	}
	defer e.endPoll()
	packets := s.nextPackets(r.Context(), e, immediate)
	if packets == nil {
		return nil // the client went away
	}
	_ = http.NewResponseController(w).SetWriteDeadline(s.clock.Now().Add(s.cfg.WriteWait))
	writePayload(w, joinPayload(packets))
	return nil
}

func (e *eioSession) transportName() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.transport
}

// nextPackets waits for the first packet of a poll (unless immediate),
// then takes what else is queued up to pollBatchBytes. nil means ctx
// ended first.
func (s *Server) nextPackets(ctx context.Context, e *eioSession, immediate bool) [][]byte {
	c := e.c
	if c.stopped() {
		return [][]byte{eioClosePacket}
	}
	var first []byte
	wait := time.NewTimer(longPollWait)
	defer wait.Stop()
	if immediate {
		first = eioNoopPacket
	} else {
		select {
		case b := <-e.ctl:
			first = b
		case m := <-c.send:
			first = m.sio
			s.written(m)
		case <-e.wake:
			first = eioNoopPacket
		case <-wait.C:
			first = eioNoopPacket
		case <-s.draining:
			first = eioNoopPacket
		case <-c.done:
			return [][]byte{eioClosePacket}
		case <-ctx.Done():
			return nil
		}
	}
	packets, size := [][]byte{first}, len(first)
	for size < pollBatchBytes {
		select {
		case b := <-e.ctl:
			packets, size = append(packets, b), size+len(b)+1
			continue
		case m := <-c.send:
			packets, size = append(packets, m.sio), size+len(m.sio)+1
			s.written(m)
			continue
		default:
		}
		break
	}
	if len(packets) > 1 && string(packets[0]) == string(eioNoopPacket) {
		packets = packets[1:]
	}
	return packets
}

// writePayload writes a polling response body.
func writePayload(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// eioPost handles the packets a polling client posts.
func (s *Server) eioPost(w http.ResponseWriter, r *http.Request, e *eioSession) error {
	if e.transportName() != transportPolling {
		return ErrSIOBadRequest.WithMessage("the session is not on polling")
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, s.cfg.ReadLimit+1))
	if err != nil {
		return nil // the client went away
	}
	if int64(len(body)) > s.cfg.ReadLimit {
		e.c.stop(websocket.CloseMessageTooBig, "")
		return apierr.ErrBodyTooLarge
	}
	packets, err := splitPayload(body)
	if err == nil {
		// The packets' work (presence, session state) outlives the request.
		err = s.handleEIO(context.WithoutCancel(r.Context()), e, packets)
	}
	if errors.Is(err, errSessionEnded) {
		return ErrSIOSessionUnknown
	}
	if err != nil {
		e.c.stop(websocket.CloseProtocolError, "")
		return ErrSIOBadRequest.WithMessage(err.Error())
	}
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	_, _ = io.WriteString(w, "ok")
	return nil
}

var errSessionEnded = errors.New("the session ended")

// eioUpgrade moves a polling session to a WebSocket: the client probes
// with "2probe", the server answers "3probe" and ends the pending poll
// with a noop, the client switches with "5".
func (s *Server) eioUpgrade(w http.ResponseWriter, r *http.Request, e *eioSession) error {
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		return ErrUpgradeRequired
	}
	if err := e.beginUpgrade(); err != nil {
		return ErrSIOBadRequest.WithMessage(err.Error())
	}
	conn, err := s.upgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		e.abortUpgrade()
		return nil // the upgrader has answered
	}
	if !s.probe(e, conn) || !e.attach(conn) {
		e.abortUpgrade()
		_ = conn.Close()
		return nil
	}
	// Both loops run on goroutines of their own, so that the handler's
	// (and its deep stack) is released, as on /api/ws.
	go s.writeLoop(e.c, conn, e.ctl, 0)
	go s.readWS(e, conn)
	return nil
}

func (e *eioSession) beginUpgrade() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch {
	case e.transport != transportPolling:
		return errors.New("the session is not on polling")
	case e.upgrading:
		return errors.New("an upgrade is already under way")
	}
	e.upgrading = true
	return nil
}

// abortUpgrade leaves the session on polling.
func (e *eioSession) abortUpgrade() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.upgrading, e.probing = false, false
}

// probe runs the upgrade's exchange on conn, up to the switch packet.
func (s *Server) probe(e *eioSession, conn *websocket.Conn) bool {
	conn.SetReadLimit(s.cfg.ReadLimit)
	_ = conn.SetReadDeadline(s.clock.Now().Add(eioUpgradeTimeout))
	// A session that stops meanwhile ends the probe at once.
	probed := make(chan struct{})
	defer close(probed)
	go func() {
		select {
		case <-e.c.done:
			_ = conn.Close()
		case <-probed:
		}
	}()
	if _, b, err := conn.ReadMessage(); err != nil || string(b) != "2probe" {
		return false
	}
	_ = conn.SetWriteDeadline(s.clock.Now().Add(s.cfg.WriteWait))
	if conn.WriteMessage(websocket.TextMessage, eioProbePong) != nil {
		return false
	}
	e.mu.Lock()
	e.probing = true
	e.wakePoll()
	e.mu.Unlock()
	_, b, err := conn.ReadMessage()
	if err != nil || len(b) != 1 || b[0] != eioUpgrade {
		return false
	}
	_ = conn.SetReadDeadline(time.Time{})
	return true
}

// readWS reads the session's packets from its WebSocket until it ends.
// Engine.IO's pings, not read deadlines, notice a silent client.
func (s *Server) readWS(e *eioSession, conn *websocket.Conn) {
	defer close(e.readerDone)
	defer e.c.stop(websocket.CloseNormalClosure, "")
	conn.SetReadLimit(s.cfg.ReadLimit)
	ctx := context.Background()
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return
		}
		p, err := parseEIO(b)
		if err != nil {
			return
		}
		if err := s.handleEIO(ctx, e, []eioPacket{p}); err != nil {
			return
		}
	}
}

// handleEIO handles the Engine.IO packets of the client.
func (s *Server) handleEIO(ctx context.Context, e *eioSession, packets []eioPacket) error {
	e.handling.Lock()
	defer e.handling.Unlock()
	if e.ended {
		return errSessionEnded
	}
	for _, p := range packets {
		switch p.typ {
		case eioPong:
			select {
			case e.pong <- struct{}{}:
			default:
			}
		case eioMessage:
			if err := s.handleSIO(ctx, e, p.data); err != nil {
				return err
			}
		case eioClose:
			e.c.stop(websocket.CloseNormalClosure, "")
			return nil
		case eioNoop:
		default:
			return errPacketType
		}
	}
	return nil
}

// handleSIO handles one Socket.IO packet of the client.
func (s *Server) handleSIO(ctx context.Context, e *eioSession, data []byte) error {
	p, err := parseSIO(data)
	if err != nil {
		return err
	}
	if p.nsp != sioDefaultNamespace {
		if p.typ == sioConnect {
			s.hub.offer(e.c, outMsg{sio: sioConnectRefused(p.nsp, "Invalid namespace", "")})
		}
		return nil
	}
	switch p.typ {
	case sioConnect:
		s.sioConnect(ctx, e, p)
	case sioDisconnect:
		e.c.stop(websocket.CloseNormalClosure, "")
	case sioEvent:
		if e.admitted.Load() {
			s.sioEvent(ctx, e, p)
		}
	case sioConnectError:
		return errPacketType
	}
	// Acks: the server asks the client for none.
	return nil
}

// sioConnect admits the socket with the token of the CONNECT's auth, or
// else the handshake's; a refused token is answered with CONNECT_ERROR,
// whose data carries the envelope's error code.
func (s *Server) sioConnect(ctx context.Context, e *eioSession, p sioPacket) {
	if e.admitted.Load() {
		return
	}
	token := p.authToken()
	if token == "" {
		token = e.token
	}
	principal, err := s.verifier.Verify(ctx, token)
	if err != nil {
		ae := httpx.Classify(err)
		s.hub.offer(e.c, outMsg{sio: sioConnectRefused(sioDefaultNamespace, ae.Message, ae.Code)})
		return
	}
	// CONNECT's answer is queued before the first delivery can be.
	s.hub.offer(e.c, outMsg{sio: sioConnected(e.c.id)})
	if !s.hub.admit(e.c, principal) {
		return
	}
	e.admitted.Store(true)
	s.greet(ctx, e.c)
}

// sioEvent answers the events a client may emit: ping (acknowledged with
// "pong", or answered by a pong event) and session:request-state
// (answered by session:state, and acknowledged with the same data).
func (s *Server) sioEvent(ctx context.Context, e *eioSession, p sioPacket) {
	name, _, _ := sioEventOf(p)
	c := e.c
	switch name {
	case EventPing:
		if p.ack >= 0 {
			s.ack(c, p.ack, EventPong)
		} else {
			s.reply(c, EventPong, sioPong{Timestamp: s.clock.Now().UTC()})
		}
	case EventRequestState:
		event, data := s.sessionState(ctx, c)
		s.reply(c, event, data)
		if p.ack >= 0 {
			s.ack(c, p.ack, data)
		}
	}
}

// ack queues the acknowledgement id of c's packet.
func (s *Server) ack(c *client, id int64, args ...any) {
	b, err := sioAckMessage(id, args...)
	if err != nil {
		s.log.Error("encoding ack", "err", err)
		return
	}
	s.hub.offer(c, outMsg{sio: b})
}
