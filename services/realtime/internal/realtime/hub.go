package realtime

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// outMsg is one message, encoded for /api/ws and as a Socket.IO packet
// (a reply to one client carries only its client's encoding), and the
// time of the event it carries (zero for replies), for the delivery
// latency metric.
type outMsg struct {
	ws  []byte
	sio []byte
	at  time.Time
}

// A link is what carries a client's messages: a WebSocket of /api/ws, or
// an Engine.IO session (long polls or a WebSocket).
type link interface {
	// unblock fails a write stuck on a client that stopped reading.
	unblock()
	// close ends the connection at once.
	close()
}

// wsLink is the link of an /api/ws connection.
type wsLink struct {
	conn  *websocket.Conn
	clock clock.Clock
}

func (l wsLink) unblock() { _ = l.conn.NetConn().SetWriteDeadline(l.clock.Now()) }
func (l wsLink) close()   { _ = l.conn.Close() }

// client is one connection. Its writer (a goroutine, or a long poll) is
// the only one that takes its messages; everyone else hands them over
// through send, which never blocks: a client whose queue is full is
// disconnected rather than allowed to slow down the fan-out to everyone
// else.
type client struct {
	id string
	// p is zero until a Socket.IO client is admitted (see Hub.admit).
	p    authn.Principal
	sio  bool
	link link
	send chan outMsg
	// done is closed by stop: the writer then sends the close frame.
	done       chan struct{}
	stopOnce   sync.Once
	closeCode  int
	closeText  string
	writerDone chan struct{}
	// joined is set once the connection is recorded in presence.
	joined atomic.Bool
}

func newClient(id string, p authn.Principal, sio bool, l link, queue int) *client {
	return &client{id: id, p: p, sio: sio, link: l, send: make(chan outMsg, queue),
		done: make(chan struct{}), writerDone: make(chan struct{})}
}

// payload is m as this client's protocol encodes it.
func (c *client) payload(m outMsg) []byte {
	if c.sio {
		return m.sio
	}
	return m.ws
}

// stop asks the writer to close the connection with code; only the first
// call counts, and it reports whether it was the first.
func (c *client) stop(code int, text string) bool {
	first := false
	c.stopOnce.Do(func() {
		c.closeCode, c.closeText = code, text
		close(c.done)
		first = true
	})
	return first
}

func (c *client) stopped() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// enqueue offers m without blocking; false means the queue is full.
func (c *client) enqueue(m outMsg) bool {
	if c.stopped() {
		return true
	}
	select {
	case c.send <- m:
		return true
	default:
		return false
	}
}

// Hub indexes this replica's connections by organization (admins and
// managers) and by user, and fans each message out to the connections allowed to see it.
type Hub struct {
	m   *Metrics
	log *slog.Logger

	mu        sync.RWMutex
	overseers map[string]map[*client]struct{}
	users     map[string]map[*client]struct{}
	// orgs counts the admitted connections of each organization, whatever
	// their role: an organization without one here needs none of its
	// events decoded (see watches).
	orgs map[string]int
	// pending holds the Socket.IO clients not admitted yet: they receive
	// nothing, but shutdown closes them too.
	pending map[*client]struct{}
	closing bool
	// conns counts connections from register to the end of their teardown.
	conns sync.WaitGroup
}

// NewHub returns an empty hub.
func NewHub(m *Metrics, log *slog.Logger) *Hub {
	return &Hub{m: m, log: log,
		overseers: map[string]map[*client]struct{}{}, users: map[string]map[*client]struct{}{},
		orgs: map[string]int{}, pending: map[*client]struct{}{}}
}

func addTo(idx map[string]map[*client]struct{}, key string, c *client) {
	set := idx[key]
	if set == nil {
		set = map[*client]struct{}{}
		idx[key] = set
	}
	set[c] = struct{}{}
}

func removeFrom(idx map[string]map[*client]struct{}, key string, c *client) {
	if set := idx[key]; set != nil {
		delete(set, c)
		if len(set) == 0 {
			delete(idx, key)
		}
	}
}

// register adds c; false means the hub is shutting down. A client
// without a principal (a Socket.IO session before its CONNECT) is pending
// until admit.
func (h *Hub) register(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.conns.Add(1)
	if c.p.UserID == "" {
		h.pending[c] = struct{}{}
	} else {
		h.index(c)
	}
	return true
}

func (h *Hub) index(c *client) {
	addTo(h.users, c.p.UserID, c)
	if oversees(c.p) {
		addTo(h.overseers, c.p.OrganizationID, c)
	}
	h.orgs[c.p.OrganizationID]++
	h.m.Connections.Inc()
}

// admit gives a pending client its principal and starts delivering to
// it; false means it is gone or the hub is shutting down.
func (h *Hub) admit(c *client, p authn.Principal) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.pending[c]; !ok || h.closing {
		return false
	}
	delete(h.pending, c)
	c.p = p
	h.index(c)
	return true
}

// unregister removes c; the caller calls h.conns.Done once c is torn down.
func (h *Hub) unregister(c *client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.pending[c]; ok {
		delete(h.pending, c)
		return
	}
	removeFrom(h.users, c.p.UserID, c)
	if oversees(c.p) {
		removeFrom(h.overseers, c.p.OrganizationID, c)
	}
	if h.orgs[c.p.OrganizationID]--; h.orgs[c.p.OrganizationID] <= 0 {
		delete(h.orgs, c.p.OrganizationID)
	}
	h.m.Connections.Dec()
}

// deliver sends m about user of org to its recipients (see recipients).
func (h *Hub) deliver(org, user string, m outMsg) {
	h.recipients(org, user, func(c *client) bool {
		h.offer(c, m)
		return true
	})
}

// listens tells whether any connection here would receive a message about
// user of org: with no one to receive it, the consumer need not encode it.
func (h *Hub) listens(org, user string) bool {
	found := false
	h.recipients(org, user, func(*client) bool {
		found = true
		return false
	})
	return found
}

// watches tells whether any connection here belongs to org: every
// recipient of a message about one of its members does (see recipients),
// so without one the event about them need not even be decoded.
func (h *Hub) watches(org string) bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.orgs[org] > 0
}

// recipients calls f, until it returns false, for each connection that
// may see a message about user of org: those of the org's admins and
// managers who see the user, and the user's own connections. An employee
// sees only events about themself, a manager the members of the teams
// they manage (as polled at the event, so a change of membership applies
// to open connections), and no one sees another organization's.
func (h *Hub) recipients(org, user string, f func(*client) bool) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.overseers[org] {
		if c.p.Sees(user) && !f(c) {
			return
		}
	}
	for c := range h.users[user] {
		if c.p.OrganizationID == org && !oversees(c.p) && !f(c) {
			return
		}
	}
}

// oversees tells whether p may see other members' events: admins and
// managers, whom deliver asks one by one.
func oversees(p authn.Principal) bool {
	return p.IsAdmin() || p.Role == authn.RoleManager
}

// offer must not block: it runs on the consumer's goroutine for every
// recipient.
func (h *Hub) offer(c *client, m outMsg) {
	if c.enqueue(m) {
		return
	}
	h.m.Dropped.Inc()
	if c.stop(websocket.ClosePolicyViolation, "client too slow") {
		h.m.SlowClients.Inc()
		h.log.Warn("disconnecting slow client", "user_id", c.p.UserID, "conn_id", c.id)
		// Unblock a writer stuck on the client's full TCP window.
		c.link.unblock()
	}
}

// snapshot lists the current admitted connections.
func (h *Hub) snapshot() []*client {
	h.mu.RLock()
	defer h.mu.RUnlock()
	var out []*client
	for _, set := range h.users {
		for c := range set {
			out = append(out, c)
		}
	}
	return out
}

// all lists every connection, pending ones too.
func (h *Hub) all() []*client {
	out := h.snapshot()
	h.mu.RLock()
	defer h.mu.RUnlock()
	for c := range h.pending {
		out = append(out, c)
	}
	return out
}

// Shutdown refuses new connections, closes every connection with 1001
// (going away) and waits up to grace for the close handshakes, then cuts
// whatever is left.
func (h *Hub) Shutdown(grace time.Duration) {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	for _, c := range h.all() {
		c.stop(websocket.CloseGoingAway, "server shutting down")
	}
	done := make(chan struct{})
	go func() { h.conns.Wait(); close(done) }()
	select {
	case <-done:
		return
	case <-time.After(grace):
	}
	for _, c := range h.all() {
		c.link.close()
	}
	<-done
}

func (h *Hub) isClosing() bool {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.closing
}
