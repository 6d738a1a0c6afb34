package systemtest

import (
	"encoding/json"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// Message is one WebSocket message.
type Message struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
}

// Watcher is a dashboard: a WebSocket connection collecting every message.
type Watcher struct {
	conn *websocket.Conn
	mu   sync.Mutex
	msgs []Message
	done chan struct{}
}

// Watch connects m to /api/ws.
func (p *Platform) Watch(t testing.TB, m Member) *Watcher {
	t.Helper()
	u := strings.Replace(p.URL, "http://", "ws://", 1) + "/ws?token=" + url.QueryEscape(m.Token)
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("connecting %s to the WebSocket: %v (status %d)", m.Email, err, status)
	}
	w := &Watcher{conn: conn, done: make(chan struct{})}
	go w.read()
	t.Cleanup(func() { conn.Close(); <-w.done })
	return w
}

func (w *Watcher) read() {
	defer close(w.done)
	for {
		_, raw, err := w.conn.ReadMessage()
		if err != nil {
			return
		}
		var m Message
		if json.Unmarshal(raw, &m) == nil {
			w.mu.Lock()
			w.msgs = append(w.msgs, m)
			w.mu.Unlock()
		}
	}
}

// Messages returns what arrived so far.
func (w *Watcher) Messages() []Message {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Message(nil), w.msgs...)
}

// Count returns how many messages of event arrived.
func (w *Watcher) Count(event string) int {
	n := 0
	for _, m := range w.Messages() {
		if m.Event == event {
			n++
		}
	}
	return n
}

// WaitFor polls until cond holds or the timeout passes.
func WaitFor(timeout time.Duration, cond func() bool) bool {
	for watch := clock.Start(); watch.Elapsed() < timeout; {
		if cond() {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return cond()
}
