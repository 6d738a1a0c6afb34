package app_test

import (
	"context"
	"io"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/app"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/test/testkit"
)

// run is a service with one route and no dependencies, started the way
// every service's run starts.
var run = app.Spec[struct{}]{Name: "probe", Addr: ":0",
	Build: func(context.Context, *app.Deps, struct{}) (*app.Service, error) {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /api/things", func(w http.ResponseWriter, r *http.Request) {
			httpx.JSON(w, http.StatusCreated, map[string]string{"id": "t1"})
		})
		mux.Handle("GET /api/things/{id}", httpx.Handler(func(http.ResponseWriter, *http.Request) error { return apierr.ErrNotFound }))
		mux.HandleFunc("GET /internal/things", func(w http.ResponseWriter, r *http.Request) {
			httpx.JSON(w, http.StatusOK, map[string]string{"id": "internal"})
		})
		return &app.Service{API: mux}, nil
	}}.Run

func TestEveryServiceAnswersCrossOriginCallsAsConfigured(t *testing.T) {
	t.Parallel()
	svc := testkit.StartServiceOn(t, run, testkit.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)), map[string]string{"CORS_ALLOWED_ORIGINS": "https://dash.example.com"})
	do := func(t *testing.T, method, origin string, hdr map[string]string) *http.Response {
		header := map[string]string{"Origin": origin}
		maps.Copy(header, hdr)
		return testkit.Send(t, method, svc.URL+"/api/things", header)
	}

	t.Run("The browser's preflight is answered before routing, which knows no OPTIONS.", func(t *testing.T) {
		resp := do(t, "OPTIONS", "https://dash.example.com", map[string]string{
			"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.com" ||
			resp.Header.Get("Access-Control-Allow-Headers") != "Authorization, Content-Type, X-Request-Id" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("The request that follows is served and its request ID readable.", func(t *testing.T) {
		resp := do(t, "POST", "https://dash.example.com", map[string]string{"Authorization": "Bearer x", "Content-Type": "application/json"})
		if resp.StatusCode != http.StatusCreated || resp.Header.Get("Access-Control-Allow-Origin") != "https://dash.example.com" ||
			resp.Header.Get("Access-Control-Expose-Headers") != "X-Request-Id" || resp.Header.Get("X-Request-Id") == "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("Another origin gets no CORS headers.", func(t *testing.T) {
		resp := do(t, "OPTIONS", "https://evil.example", map[string]string{"Access-Control-Request-Method": "POST"})
		if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
}

func TestAServiceRefusesAnInvalidCommonSettingAtStart(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, key, value string }{
		{"An origin without its scheme is refused.", "CORS_ALLOWED_ORIGINS", "dash.example.com"},
		{"An unknown envelope is refused.", "API_ENVELOPE", "nest"},
		{"A negative drain delay is refused.", "DRAIN_DELAY", "-1s"},
	} {
		t.Run(c.name, func(t *testing.T) { testkit.RefusesSetting(t, run, nil, c.key, c.value) })
	}
}

func TestInLegacyModeEveryAPIResultIsWrappedAndProbesAreNot(t *testing.T) {
	t.Parallel()
	svc := testkit.StartServiceOn(t, run, testkit.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
		map[string]string{"API_ENVELOPE": "legacy"})
	for _, c := range []struct {
		name, method, path, want string
	}{
		{"A service's own route is wrapped.", "POST", "/api/things",
			`{"success":true,"data":{"id":"t1"},"timestamp":"2026-12-01T09:00:00.000Z","requestId":"r-1"}`},
		{"The platform's health is wrapped.", "GET", "/api/health",
			`{"success":true,"data":{"status":"ok"`},
		{"The liveness probe is not.", "GET", "/livez", `{"status":"ok"}`},
		{"An error keeps the error envelope.", "GET", "/api/things/t2", `{"success":false,"error":{"code":"NOT_FOUND"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest(c.method, svc.URL+c.path, nil)
			req.Header.Set("X-Request-Id", "r-1")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if !strings.HasPrefix(string(b), c.want) {
				t.Fatalf("%d %s; want it to start %s", resp.StatusCode, b, c.want)
			}
		})
	}
}

func TestAServiceStartsOnlyWhenItsOwnAndTheCommonSettingsAreValid(t *testing.T) {
	t.Parallel()
	var built int
	spec := app.Spec[int]{Name: "probe", Addr: ":0",
		Config: func(env *config.Env, _ *config.Common) int { return env.Int("THINGS", 3, 1, 9) },
		Build: func(_ context.Context, _ *app.Deps, things int) (*app.Service, error) {
			built = things
			return &app.Service{API: http.NotFoundHandler()}, nil
		}}
	clk := testkit.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	t.Run("An invalid own setting and an invalid common one are refused together.", func(t *testing.T) {
		vars := map[string]string{"THINGS": "12", "SHUTDOWN_TIMEOUT": "forever"}
		err := spec.Run(t.Context(), func(k string) (string, bool) { v, ok := vars[k]; return v, ok }, io.Discard, nil, clk)
		if err == nil || !strings.Contains(err.Error(), "THINGS") || !strings.Contains(err.Error(), "SHUTDOWN_TIMEOUT") {
			t.Fatalf("got %v; want both THINGS and SHUTDOWN_TIMEOUT refused", err)
		}
	})
	t.Run("Valid settings reach the service's build.", func(t *testing.T) {
		testkit.StartServiceOn(t, spec.Run, clk, map[string]string{"THINGS": "7"})
		if built != 7 {
			t.Fatalf("the build saw THINGS=%d; want 7", built)
		}
	})
}

func TestWithAnInternalAddressProbesAndMetricsAreServedThereOnly(t *testing.T) {
	t.Parallel()
	internal := make(chan net.Addr, 1)
	runInternal := func(ctx context.Context, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
		env := config.NewEnv(lookup)
		common := config.LoadCommon(env, "probe", ":0")
		if err := env.Err(); err != nil {
			return err
		}
		return app.Run(ctx, app.Options{Clock: clk, Config: common, Log: out, Listening: listening,
			ListeningInternal: func(a net.Addr) { internal <- a },
			Build: func(context.Context, *app.Deps) (*app.Service, error) {
				// A catch-all, as the web service's: whatever it is not
				// given reaches it.
				return &app.Service{API: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					_, _ = io.WriteString(w, "the app")
				})}, nil
			}})
	}
	svc := testkit.StartServiceOn(t, runInternal, testkit.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
		map[string]string{"INTERNAL_HTTP_ADDR": "127.0.0.1:0"})
	var internalURL string
	select {
	case a := <-internal:
		internalURL = "http://" + a.String()
	case <-time.After(10 * time.Second):
		t.Fatal("the internal address was never bound")
	}
	for _, c := range []struct {
		name, base, path, want string
	}{
		{"The liveness probe answers on the internal address.", internalURL, "/livez", `{"status":"ok"}`},
		{"The readiness probe answers on the internal address.", internalURL, "/readyz", `{"status":"ok"`},
		{"The metrics are on the internal address.", internalURL, "/metrics", "# HELP"},
		{"The API's address passes /livez to the service, which does not answer it as a probe.", svc.URL, "/livez", "the app"},
		{"The API's address passes /readyz to the service.", svc.URL, "/readyz", "the app"},
		{"The API's address passes /metrics to the service.", svc.URL, "/metrics", "the app"},
		{"The API's address still answers the platform's health.", svc.URL, "/api/health", `{"status":"ok"`},
		{"The internal address serves nothing of the API.", internalURL, "/api/health", "404"},
	} {
		t.Run(c.name, func(t *testing.T) {
			status, b := testkit.Do(t, http.DefaultClient, "GET", c.base+c.path, "", nil, nil)
			if c.want == "404" {
				if status != http.StatusNotFound {
					t.Fatalf("%d %s; want 404", status, b)
				}
				return
			}
			if !strings.HasPrefix(string(b), c.want) {
				t.Fatalf("%d %.200s; want it to start %s", status, b, c.want)
			}
		})
	}
}

// TestTheTenantAPIAnswersOnlyOnItsOwnPortWhenOneIsSet: with
// TENANT_API_ADDR the /internal/ routes leave the public port (404 there,
// so a NetworkPolicy on that port is the only way in), and that port
// serves nothing else; without it they stay on the API's port.
func TestTheTenantAPIAnswersOnlyOnItsOwnPortWhenOneIsSet(t *testing.T) {
	t.Parallel()
	clk := testkit.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))
	tenantAPI := testkit.FreeAddr(t)
	split := testkit.StartServiceOn(t, run, clk, map[string]string{"TENANT_API_ADDR": tenantAPI})
	shared := testkit.StartServiceOn(t, run, clk, nil)
	for _, c := range []struct {
		name, url string
		want      int
	}{
		{"The public port refuses the internal routes when they have their own.", split.URL + "/internal/things", http.StatusNotFound},
		{"Their own port serves them.", "http://" + tenantAPI + "/internal/things", http.StatusOK},
		{"Their own port serves no public route.", "http://" + tenantAPI + "/api/things/t1", http.StatusNotFound},
		{"Their own port serves no metrics.", "http://" + tenantAPI + "/metrics", http.StatusNotFound},
		{"The public port still serves the API.", split.URL + "/api/health", http.StatusOK},
		{"Without their own port they are on the API's.", shared.URL + "/internal/things", http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			if resp := testkit.Send(t, "GET", c.url, nil); resp.StatusCode != c.want {
				t.Errorf("%s: %d, want %d", c.url, resp.StatusCode, c.want)
			}
		})
	}
}

func TestOnSIGTERMAServiceFailsReadinessAndKeepsServingForTheDrainDelay(t *testing.T) {
	t.Parallel()
	svc := testkit.StartServiceOn(t, run, testkit.NewClock(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)),
		map[string]string{"DRAIN_DELAY": "3s"})
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(t *testing.T) *http.Response {
		t.Helper()
		resp, err := client.Post(svc.URL+"/api/things", "application/json", strings.NewReader(`{}`))
		if err != nil {
			t.Fatalf("a request while the service drains: %v", err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	ready := func() int {
		resp, err := client.Get(svc.URL + "/readyz")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	t.Run("Before SIGTERM the service is ready and keeps its connections alive.", func(t *testing.T) {
		if resp := post(t); resp.StatusCode != http.StatusCreated || resp.Close {
			t.Fatalf("%d, close %v", resp.StatusCode, resp.Close)
		}
		if got := ready(); got != http.StatusOK {
			t.Fatalf("/readyz answered %d", got)
		}
	})
	stopped := make(chan error, 1)
	go func() { stopped <- svc.Stop() }()
	t.Run("After SIGTERM readiness fails at once.", func(t *testing.T) {
		testkit.Eventually(t, time.Second, "/readyz to answer 503", func() bool { return ready() == http.StatusServiceUnavailable })
	})
	t.Run("While it drains, requests are served and each connection closed after its response.", func(t *testing.T) {
		for range 3 {
			if resp := post(t); resp.StatusCode != http.StatusCreated || !resp.Close {
				t.Fatalf("%d, close %v", resp.StatusCode, resp.Close)
			}
		}
	})
	t.Run("After the drain the service stops cleanly and its port refuses.", func(t *testing.T) {
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the service did not stop")
		}
		if _, err := net.DialTimeout("tcp", strings.TrimPrefix(svc.URL, "http://"), time.Second); err == nil {
			t.Fatal("the port still accepts after the service stopped")
		}
	})
}
