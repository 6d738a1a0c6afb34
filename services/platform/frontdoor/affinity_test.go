package frontdoor_test

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/frontdoor"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/test/testkit"
)

// replicaSet starts one realtime replica per loopback address, all on one
// port as a headless Service's pods are, each answering its own name.
func replicaSet(t *testing.T, ips ...string) (port string, stop map[string]func()) {
	t.Helper()
	stop = map[string]func(){}
	for _, ip := range ips {
		addr := ip + ":0"
		if port != "" {
			addr = net.JoinHostPort(ip, port)
		}
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		_, port, _ = net.SplitHostPort(l.Addr().String())
		srv := httptest.NewUnstartedServer(answer("replica " + ip))
		srv.Listener.Close()
		srv.Listener = l
		srv.Start()
		t.Cleanup(srv.Close)
		stop[ip] = srv.Close
	}
	return port, stop
}

func answer(who string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, who) })
}

func TestSocketIOSessionsStayOnTheirReplica(t *testing.T) {
	const name = "realtime-pods.workpulse.test."
	port, stop := replicaSet(t, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	dns := testkit.StartDNS(t)
	dns.Set(name, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	service := httptest.NewServer(answer("service"))
	t.Cleanup(service.Close)
	clk := testkit.NewClock(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC))
	proxy, err := frontdoor.New(map[string]string{routes.Realtime: service.URL}, frontdoor.Options{
		Affinity: map[string]string{routes.Realtime: "http://" + net.JoinHostPort(name, port)},
		Resolver: dns.Resolver(), Clock: clk,
	})
	if err != nil {
		t.Fatal(err)
	}
	door := httptest.NewServer(httpx.Stack(clk, proxy, 1<<20))
	t.Cleanup(door.Close)
	cookieName := frontdoor.CookieName(routes.Realtime)
	// poll sends one Socket.IO long poll with the session's cookie (none
	// for a new session) and returns who answered and the cookie set.
	poll := func(t *testing.T, path string, cookie *http.Cookie) (int, string, *http.Cookie) {
		t.Helper()
		req, _ := http.NewRequest("GET", door.URL+path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		for _, c := range resp.Cookies() {
			if c.Name == cookieName {
				return resp.StatusCode, string(b), c
			}
		}
		return resp.StatusCode, string(b), nil
	}
	const socketIO = "/socket.io/?EIO=4&transport=polling"

	sessions := map[string]*http.Cookie{}
	t.Run("New sessions get a cookie each and are spread over every replica in turn.", func(t *testing.T) {
		for range 6 {
			code, who, c := poll(t, socketIO, nil)
			if code != http.StatusOK || c == nil || !strings.HasPrefix(who, "replica ") {
				t.Fatalf("%d %q cookie %v", code, who, c)
			}
			if c.Path != "/socket.io/" || !c.HttpOnly || strings.Contains(c.Value, "127.0.0") {
				t.Fatalf("cookie %+v: want path /socket.io/, HttpOnly, no address", c)
			}
			if prev, ok := sessions[who]; ok && prev.Value != c.Value {
				t.Fatalf("%s named by two cookies %q and %q", who, prev.Value, c.Value)
			}
			sessions[who] = c
		}
		if len(sessions) != 3 {
			t.Fatalf("sessions reached %d replicas; want 3", len(sessions))
		}
	})
	t.Run("Every later request of a session reaches its replica, and no new cookie is set.", func(t *testing.T) {
		for who, c := range sessions {
			for range 4 {
				if code, got, set := poll(t, socketIO+"&sid=s1", c); code != http.StatusOK || got != who || set != nil {
					t.Fatalf("session of %s: %d %q, cookie set %v", who, code, got, set)
				}
			}
		}
	})
	t.Run("A cookie naming no replica starts a new session on one.", func(t *testing.T) {
		code, who, c := poll(t, socketIO, &http.Cookie{Name: cookieName, Value: "127.0.0.1:" + port})
		if code != http.StatusOK || c == nil || sessions[who].Value != c.Value {
			t.Fatalf("%d %q cookie %v", code, who, c)
		}
	})
	t.Run("The realtime service's other paths go through its Service, with no cookie.", func(t *testing.T) {
		if code, who, c := poll(t, "/api/presence", sessions["replica 127.0.0.1"]); code != http.StatusOK || who != "service" || c != nil {
			t.Fatalf("%d %q cookie %v", code, who, c)
		}
	})
	t.Run("A failing DNS server leaves every session on its replica.", func(t *testing.T) {
		dns.Fail(name)
		asked := dns.Queries(name)
		clk.Advance(frontdoor.AffinityRefresh)
		poll(t, socketIO, sessions["replica 127.0.0.1"])
		testkit.Eventually(t, 10*time.Second, "the front door to read the records again", func() bool { return dns.Queries(name) > asked })
		// Go's resolver gives up on a loopback SERVFAIL within milliseconds.
		time.Sleep(300 * time.Millisecond)
		for who, c := range sessions {
			if code, got, set := poll(t, socketIO+"&sid=s1", c); code != http.StatusOK || got != who || set != nil {
				t.Fatalf("session of %s: %d %q, cookie set %v", who, code, got, set)
			}
		}
		dns.Set(name, "127.0.0.1", "127.0.0.2", "127.0.0.3")
	})
	t.Run("A replica that left the records loses its sessions once they are read again.", func(t *testing.T) {
		dns.Set(name, "127.0.0.1", "127.0.0.2")
		if _, who, _ := poll(t, socketIO, sessions["replica 127.0.0.3"]); who != "replica 127.0.0.3" {
			t.Fatalf("before the records are read again the session moved to %q", who)
		}
		clk.Advance(frontdoor.AffinityRefresh)
		testkit.Eventually(t, 5*time.Second, "the session to move on", func() bool {
			_, who, c := poll(t, socketIO, sessions["replica 127.0.0.3"])
			return who != "replica 127.0.0.3" && c != nil && c.Value == sessions[who].Value
		})
	})
	t.Run("A replica that stops answering is 503 in the envelope, and its sessions move on at the next records read.", func(t *testing.T) {
		stop["127.0.0.2"]()
		dns.Set(name, "127.0.0.1")
		code, body, _ := poll(t, socketIO, sessions["replica 127.0.0.2"])
		if code != http.StatusServiceUnavailable || !strings.Contains(body, "SYSTEM_SERVICE_UNAVAILABLE") {
			t.Fatalf("%d %s", code, body)
		}
		// No clock advance: the failure itself asks for a new reading.
		testkit.Eventually(t, 5*time.Second, "the session to move on", func() bool {
			_, who, c := poll(t, socketIO, sessions["replica 127.0.0.2"])
			return who == "replica 127.0.0.1" && c != nil
		})
	})
	t.Run("A name without replicas sends Socket.IO through the Service, with no cookie.", func(t *testing.T) {
		dns.Set(name)
		clk.Advance(frontdoor.AffinityRefresh)
		testkit.Eventually(t, 5*time.Second, "Socket.IO to go through the Service", func() bool {
			_, who, c := poll(t, socketIO, sessions["replica 127.0.0.1"])
			return who == "service" && c == nil
		})
	})
}

func TestAffinityIsValidated(t *testing.T) {
	backends := map[string]string{routes.Realtime: "http://realtime:3005"}
	for _, c := range []struct {
		name     string
		affinity map[string]string
		want     string
	}{
		{"Affinity for a service without a backend is refused.", map[string]string{routes.Auth: "http://auth-pods:3001"}, "has no backend"},
		{"An affinity URL without a port is refused.", map[string]string{routes.Realtime: "http://realtime-pods"}, "with a port"},
		{"An affinity URL without a scheme is refused.", map[string]string{routes.Realtime: "realtime-pods:3005"}, "with a port"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := frontdoor.New(backends, frontdoor.Options{Affinity: c.affinity}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v; want %q", err, c.want)
			}
		})
	}
}
