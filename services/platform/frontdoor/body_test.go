package frontdoor

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
)

// countingConn counts the writes a connection to a service makes.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func TestARequestBodyGoesToItsServiceWithItsHeadersInOneWriteUpToInMemoryBody(t *testing.T) {
	var got atomic.Value
	ingest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.Store(string(b))
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(ingest.Close)
	for _, c := range []struct {
		name       string
		size       int
		wantWrites func(int64) bool
	}{
		{"A single post's body goes out with its headers, in one write.", 400, func(n int64) bool { return n == 1 }},
		{"A body of inMemoryBody bytes still goes out in one write.", inMemoryBody, func(n int64) bool { return n == 1 }},
		{"A larger body (a bulk upload) is streamed after its headers, in writes of its own.", inMemoryBody + 1, func(n int64) bool { return n > 1 }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(map[string]string{routes.Ingest: ingest.URL}, Options{})
			if err != nil {
				t.Fatal(err)
			}
			// The front door's own transport, counting its writes.
			var writes atomic.Int64
			counting := transport.Clone()
			dialer := &net.Dialer{}
			counting.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				conn, err := dialer.DialContext(ctx, network, addr)
				return countingConn{conn, &writes}, err
			}
			p.proxies[routes.Ingest].Transport = counting
			door := httptest.NewServer(p)
			defer door.Close()
			body := strings.Repeat("a", c.size)
			resp, err := http.Post(door.URL+"/api/sessions/s1/activity", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated || got.Load() != body {
				b, _ := got.Load().(string)
				t.Fatalf("status %d, the service got %d bytes of %d", resp.StatusCode, len(b), c.size)
			}
			if n := writes.Load(); !c.wantWrites(n) {
				t.Errorf("the request went out in %d writes", n)
			}
		})
	}
}

// BenchmarkProxyingASinglePost posts a single activity's worth of JSON
// through the front door to a service, client, front door and service in
// this process. cpu-ns/op is the process's CPU time (user and system) per
// post, which the machine's other load moves less than ns/op.
func BenchmarkProxyingASinglePost(b *testing.B) {
	ingest := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
	}))
	b.Cleanup(ingest.Close)
	p, err := New(map[string]string{routes.Ingest: ingest.URL}, Options{})
	if err != nil {
		b.Fatal(err)
	}
	door := httptest.NewServer(p)
	b.Cleanup(door.Close)
	body := strings.Repeat("a", 400)
	start := cpuTime(b)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := http.Post(door.URL+"/api/sessions/s1/activity", "application/json", strings.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
	b.ReportMetric(float64(cpuTime(b)-start)/float64(b.N), "cpu-ns/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
