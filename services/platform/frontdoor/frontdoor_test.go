package frontdoor_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/frontdoor"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/test/testkit"
)

// echoUpgrade answers an Upgrade request 101 and then echoes the raw
// connection, as a WebSocket server does once upgraded; other requests
// get the request id they carried.
func echoUpgrade(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("Upgrade") != "websocket" {
		w.Header().Set("X-Request-Id", r.Header.Get("X-Request-Id"))
		io.WriteString(w, "id="+r.Header.Get("X-Request-Id"))
		return
	}
	conn, buf, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	buf.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
	buf.Flush()
	io.Copy(conn, buf)
}

func TestTheFrontDoor(t *testing.T) {
	realtime := httptest.NewServer(http.HandlerFunc(echoUpgrade))
	t.Cleanup(realtime.Close)
	proxy, err := frontdoor.New(map[string]string{routes.Realtime: realtime.URL}, frontdoor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Short server timeouts, as the web service has for plain requests: an
	// upgraded connection must outlive them.
	door := httptest.NewUnstartedServer(httpx.Stack(testkit.NewClock(time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)), proxy, 1<<20))
	door.Config.ReadTimeout, door.Config.WriteTimeout = 300*time.Millisecond, 300*time.Millisecond
	door.Start()
	t.Cleanup(door.Close)
	get := func(t *testing.T, path string, header map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest("GET", door.URL+path, nil)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	t.Run("A request reaches its service with the front door's request id, echoed once.", func(t *testing.T) {
		resp, b := get(t, "/api/presence", map[string]string{"X-Request-Id": "req-21"})
		if b != "id=req-21" || len(resp.Header.Values("X-Request-Id")) != 1 {
			t.Fatalf("%s %v", b, resp.Header)
		}
	})
	t.Run("A WebSocket upgrade is carried through and the connection relayed both ways, past the server's timeouts.", func(t *testing.T) {
		conn, err := net.Dial("tcp", strings.TrimPrefix(door.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(clock.Real.Now().Add(5 * time.Second)) // a socket deadline is wall time
		io.WriteString(conn, "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("%v %v", resp, err)
		}
		time.Sleep(600 * time.Millisecond)
		io.WriteString(conn, "2probe")
		got := make([]byte, 6)
		if _, err := io.ReadFull(r, got); err != nil || string(got) != "2probe" {
			t.Fatalf("%q %v", got, err)
		}
	})
	t.Run("A path of a service it has no backend for is 503 in the envelope.", func(t *testing.T) {
		resp, b := get(t, "/api/reports/daily", nil)
		if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(b, "SYSTEM_SERVICE_UNAVAILABLE") {
			t.Fatalf("%d %s", resp.StatusCode, b)
		}
	})
	t.Run("A stopped service is 503 in the envelope.", func(t *testing.T) {
		gone := httptest.NewServer(http.NotFoundHandler())
		gone.Close()
		p, _ := frontdoor.New(map[string]string{routes.Report: gone.URL}, frontdoor.Options{})
		rec := httptest.NewRecorder()
		p.ServeHTTP(rec, httptest.NewRequest("GET", "/api/alerts", nil))
		if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "report service is unavailable") {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
	})
}

func TestBackendsAreValidated(t *testing.T) {
	for _, c := range []struct {
		name     string
		backends map[string]string
		want     string
	}{
		{"A name outside the routing table is refused.", map[string]string{"billing": "http://billing:80"}, "not a service"},
		{"A URL without a scheme is refused.", map[string]string{routes.Auth: "auth:3001"}, "not an http(s) URL"},
		{"A URL without a host is refused.", map[string]string{routes.Auth: "http://"}, "not an http(s) URL"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := frontdoor.New(c.backends, frontdoor.Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want %q", err, c.want)
			}
		})
	}
}

func TestResponseBodiesArriveIntactWhileTheProxiesShareTheirCopyBuffers(t *testing.T) {
	// Each size, from under one copy buffer to several, gets a body of its
	// own letter; concurrent responses copied through pooled buffers must
	// not carry a byte of another's.
	body := func(n int) string { return strings.Repeat(string(rune('a'+n%26)), n*7919%200_000+1) }
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := strconv.Atoi(r.URL.Query().Get("n"))
		io.WriteString(w, body(n))
	}))
	t.Cleanup(backend.Close)
	proxy, err := frontdoor.New(map[string]string{routes.Report: backend.URL}, frontdoor.Options{})
	if err != nil {
		t.Fatal(err)
	}
	door := httptest.NewServer(proxy)
	t.Cleanup(door.Close)
	var wg sync.WaitGroup
	errs := make(chan string, 64)
	for n := range 64 {
		wg.Go(func() {
			resp, err := http.Get(door.URL + "/api/alerts?n=" + strconv.Itoa(n))
			if err != nil {
				errs <- err.Error()
				return
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if want := body(n); string(b) != want {
				errs <- fmt.Sprintf("response %d: %d bytes, want %d of %q", n, len(b), len(want), want[:1])
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
