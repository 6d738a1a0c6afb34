package testkit

import (
	"net"
	"sync"
	"testing"

	"github.com/workpulse/workpulse/test/broker"

	"github.com/twmb/franz-go/pkg/kfake"
)

// GatedKafka is an in-process broker whose network a test can cut: the
// broker keeps its data and offsets, like a real broker that becomes
// unreachable.
type GatedKafka struct {
	Addr string
	gate *gate
}

// StartGatedKafka starts a broker on addr ("127.0.0.1:0" for any port);
// it stops when the test ends.
func StartGatedKafka(t testing.TB, addr string) *GatedKafka {
	t.Helper()
	g := &gate{conns: map[net.Conn]bool{}}
	c, err := broker.Start(addr, 6, kfake.ListenFn(func(network, a string) (net.Listener, error) {
		ln, err := net.Listen(network, a)
		if err != nil {
			return nil, err
		}
		g.Listener = ln
		return g, nil
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &GatedKafka{Addr: c.ListenAddrs()[0], gate: g}
}

// Down drops every connection and refuses new ones.
func (k *GatedKafka) Down() { k.gate.setDown(true) }

// Up accepts connections again.
func (k *GatedKafka) Up() { k.gate.setDown(false) }

type gate struct {
	net.Listener
	mu    sync.Mutex
	down  bool
	conns map[net.Conn]bool
}

func (g *gate) setDown(down bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.down = down
	if down {
		for c := range g.conns {
			c.Close()
		}
		g.conns = map[net.Conn]bool{}
	}
}

func (g *gate) Accept() (net.Conn, error) {
	for {
		c, err := g.Listener.Accept()
		if err != nil {
			return nil, err
		}
		g.mu.Lock()
		if g.down {
			g.mu.Unlock()
			c.Close()
			continue
		}
		g.conns[c] = true
		g.mu.Unlock()
		return c, nil
	}
}
