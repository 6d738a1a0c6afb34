package health_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/health"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestAnonymousHealthCallsShareOneProbeRoundPerSecond(t *testing.T) {
	var rounds atomic.Int32
	var down atomic.Bool
	c := health.NewChecker()
	c.Add("postgres", func(context.Context) error {
		rounds.Add(1)
		if down.Load() {
			return errors.New("connection refused")
		}
		return nil
	})
	clk := testkit.NewClock(time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC))
	srv := httptest.NewServer(health.NewPublic(c, clk))
	defer srv.Close()
	// Through the Ingress, as an outside caller comes.
	get := func(forwarded bool) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL, nil)
		if forwarded {
			req.Header.Set("X-Forwarded-For", "203.0.113.7")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}

	var wg sync.WaitGroup
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if code, body := get(true); code != 200 || body != `{"status":"ok"}`+"\n" {
				t.Errorf("an anonymous call got %d %s; want 200 and the status alone", code, body)
			}
		}()
	}
	wg.Wait()
	if n := rounds.Load(); n != 1 {
		t.Fatalf("100 anonymous calls within a second ran %d probe rounds; want 1", n)
	}

	down.Store(true)
	if code, _ := get(true); code != 200 || rounds.Load() != 1 {
		t.Errorf("within the second, an anonymous call got %d after %d rounds; want the cached 200", code, rounds.Load())
	}
	clk.Advance(time.Second)
	if code, body := get(true); code != 503 || body != `{"status":"unavailable"}`+"\n" || rounds.Load() != 2 {
		t.Errorf("a second later, an anonymous call got %d %s after %d rounds; want a new round's 503", code, body, rounds.Load())
	}

	// A direct caller from inside (the kubelet, helm test) gets a fresh round with its details.
	for i := range 3 {
		if code, body := get(false); code != 503 || body != `{"status":"unavailable","checks":{"postgres":"down"}}`+"\n" {
			t.Errorf("an internal call got %d %s; want 503 with the checks", code, body)
		}
		if n := rounds.Load(); n != int32(3+i) {
			t.Errorf("internal call %d: %d rounds; want a fresh one each", i+1, n)
		}
	}
}

func TestInternalCallersAreDirectAndFromInside(t *testing.T) {
	tests := []struct {
		name, remote, header string
		want                 bool
	}{
		{"A loopback caller is internal.", "127.0.0.1:5000", "", true},
		{"A pod address is internal.", "10.244.0.12:5000", "", true},
		{"An IPv6 private address is internal.", "[fd00::12]:5000", "", true},
		{"A public address is not.", "203.0.113.7:5000", "", false},
		{"A call through a proxy is not, even from inside.", "10.244.0.3:5000", "X-Forwarded-For", false},
		{"A Forwarded header counts as a proxy too.", "127.0.0.1:5000", "Forwarded", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/api/health", nil)
			r.RemoteAddr = tt.remote
			if tt.header != "" {
				r.Header.Set(tt.header, "for=198.51.100.1")
			}
			if got := health.Internal(r); got != tt.want {
				t.Errorf("Internal = %v; want %v", got, tt.want)
			}
		})
	}
}

func TestReadinessLeavesOutWhatTheServiceDegradesWithout(t *testing.T) {
	c := health.NewChecker()
	c.Add("postgres", func(context.Context) error { return nil })
	c.AddDegradable("kafka", func(context.Context) error { return errors.New("no broker reachable") })
	tests := []struct {
		name    string
		handler http.HandlerFunc
		code    int
		body    string
	}{
		{"Readiness holds with Kafka down.", c.Ready, 200, `{"status":"ok","checks":{"postgres":"up"}}`},
		{"Health names Kafka as down.", c.Health, 503, `{"status":"unavailable","checks":{"kafka":"down","postgres":"up"}}`},
		{"A checker with peers keeps what is degradable.", c.Plus(nil).Ready, 200, `{"status":"ok","checks":{"postgres":"up"}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tt.handler(rec, httptest.NewRequest("GET", "/readyz", nil))
			if rec.Code != tt.code || rec.Body.String() != tt.body+"\n" {
				t.Errorf("got %d %s; want %d %s", rec.Code, rec.Body.String(), tt.code, tt.body)
			}
		})
	}
}
