package chartcheck

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestEveryQueriedMetricIsOnTheRunningServicesMetrics starts the five services from their
// binaries on a real database, Redis and Kafka broker, sends them the traffic of a first day
// (register, start a session, post activity, read alerts and presence), and scrapes their
// /metrics: every series the rules and dashboard query must be there. The operator's series
// are scraped by the operator test; failure counters, which have no series until something
// fails, are covered by the source scan of the metrics test.
func TestEveryQueriedMetricIsOnTheRunningServicesMetrics(t *testing.T) {
	bin := t.TempDir()
	for _, svc := range routes.Services {
		cmd := exec.Command("go", "build", "-o", filepath.Join(bin, svc.Name), "./services/"+svc.Name+"/cmd/"+svc.Name)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", svc.Name, err, out)
		}
	}
	// The traffic's deadline starts once the binaries are built: a build on a
	// cold cache, beside the rest of the suite, can take minutes of its own.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := testkit.NewDB(t)
	_, prefix := testkit.Redis(t)
	brokers := testkit.Kafka(t)
	base := map[string]string{}
	for _, svc := range routes.Services {
		base[svc.Name] = "http://" + testkit.FreeAddr(t)
	}
	for _, svc := range routes.Services {
		testkit.StartBinary(t, filepath.Join(bin, svc.Name), base[svc.Name]+"/readyz", []string{
			"HTTP_ADDR=" + strings.TrimPrefix(base[svc.Name], "http://"),
			"DATABASE_URL=" + db.URL, "REDIS_URL=" + testkit.RedisURL(), "REDIS_PREFIX=" + prefix,
			"KAFKA_BROKERS=" + strings.Join(brokers, ","), "KAFKA_TOPIC_PARTITIONS=1",
			"JWKS_URL=" + base[routes.Auth] + "/api/auth/.well-known/jwks.json", "LOG_LEVEL=warn",
		})
	}

	call := func(method, url, token string, body any, want int) map[string]any {
		t.Helper()
		var r io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			r = bytes.NewReader(b)
		}
		req, _ := http.NewRequestWithContext(ctx, method, url, r)
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, url, resp.StatusCode, want, b)
		}
		var out map[string]any
		_ = json.Unmarshal(b, &out)
		return out
	}
	reg := call("POST", base[routes.Auth]+"/api/auth/register", "", map[string]any{
		"email": "ada@example.com", "password": "correct horse", "name": "Ada", "organization_name": "Acme"}, http.StatusCreated)
	token, _ := reg["access_token"].(string)
	session := call("POST", base[routes.Session]+"/api/sessions/start", token, map[string]any{}, http.StatusCreated)
	id := fmt.Sprint(session["id"])
	call("POST", base[routes.Ingest]+"/api/sessions/"+id+"/activity", token,
		map[string]any{"activity_type": "active", "duration_seconds": 30}, http.StatusCreated)
	call("POST", base[routes.Session]+"/api/sessions/"+id+"/stop", token, map[string]any{}, http.StatusOK)
	call("GET", base[routes.Report]+"/api/alerts", token, nil, http.StatusOK)
	call("GET", base[routes.Realtime]+"/api/presence", token, nil, http.StatusOK)

	var want []string
	for _, q := range append(ruleQueries(t), dashboardQueries(t)...) {
		for _, name := range metricNames(t, q) {
			// The operator's series, storage maintenance's among them, are on its own /metrics
			// (operator/cmd/operator's test).
			// up and ALERTS are Prometheus's own series (targets and firing rules).
			if name != "up" && name != "ALERTS" && !strings.HasPrefix(name, "workpulse_operator_") && !strings.HasPrefix(name, "workpulse_activity_storage_") &&
				!strings.Contains(name, "failures") {
				want = append(want, name)
			}
		}
	}
	slices.Sort(want)
	want = slices.Compact(want)
	// Relays and consumers publish their gauges on their own schedule: wait for them.
	var missing []string
	for {
		scraped := map[string]bool{}
		for _, svc := range routes.Services {
			for name := range scrape(t, base[svc.Name]+"/metrics") {
				scraped[name] = true
			}
		}
		missing = missing[:0]
		for _, name := range want {
			if !scraped[name] {
				missing = append(missing, name)
			}
		}
		if len(missing) == 0 || ctx.Err() != nil {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	if len(missing) > 0 {
		t.Errorf("queried by the rules or dashboard but on no service's /metrics: %v", missing)
	}
	// The union above would hide a service without its build information, which is how a
	// rollout shows which pods run which release.
	for _, svc := range routes.Services {
		if !scrape(t, base[svc.Name]+"/metrics")["workpulse_build_info"] {
			t.Errorf("%s's /metrics has no workpulse_build_info", svc.Name)
		}
	}
	t.Logf("%d queried series found on the services' /metrics", len(want))
}
