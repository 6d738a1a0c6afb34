package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestServiceServesProbesMetricsAndEventsAndShutsDownCleanly(t *testing.T) {
	db := testkit.NewDB(t)
	brokers := testkit.Kafka(t)
	_, prefix := testkit.Redis(t)
	peer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	defer peer.Close()
	svc := testkit.StartService(t, run, map[string]string{"DATABASE_URL": db.URL, "KAFKA_BROKERS": brokers[0],
		"REDIS_URL": testkit.RedisURL(), "REDIS_PREFIX": prefix, "HEALTH_PEERS": "session=" + peer.URL + "/readyz"})
	base := svc.URL

	get := func(path string) (int, string) {
		status, raw := testkit.Do(t, http.DefaultClient, http.MethodGet, base+path, "", nil, nil)
		return status, string(raw)
	}
	for _, p := range []string{"/livez", "/readyz"} {
		if code, body := get(p); code != 200 {
			t.Fatalf("%s: %d %s", p, code, body)
		}
	}
	want := `{"status":"ok","checks":{"kafka":"up","postgres":"up","redis":"up","session":"up"}}` + "\n"
	if code, body := get("/api/health"); code != 200 || body != want {
		t.Fatalf("/api/health: %d %s; want 200 %s", code, body, want)
	}
	peer.Close()
	if code, body := get("/api/health"); code != 503 || !strings.Contains(body, `"session":"down"`) {
		t.Fatalf("/api/health with a peer down: %d %s; want 503 naming it", code, body)
	}
	resp, err := http.Post(base+"/api/auth/register", "application/json",
		strings.NewReader(`{"email":"probe@example.com","password":"correct horse","name":"Probe","organization_name":"Probe Org"}`))
	if err != nil || resp.StatusCode != 201 {
		t.Fatalf("register through the running service: %v %v", err, resp)
	}
	resp.Body.Close()
	if _, body := get("/metrics"); !strings.Contains(body, `workpulse_http_requests_total{code="201",method="POST",route="/api/auth/register",service="auth"} 1`) {
		t.Fatalf("/metrics lacks the request counter of the registration")
	}

	for _, typ := range []string{events.TypeOrganizationCreated, events.TypeUserCreated} {
		testkit.WaitEvent(t, brokers, events.TopicOrganizations, 10*time.Second, func(e events.Envelope) bool { return e.Type == typ })
	}

	if err := svc.Stop(); err != nil {
		t.Fatalf("shutdown returned %v", err)
	}
}

// TestARedisOutageKeepsAuthReadyAndSigningPeopleIn points auth at a Redis
// that is not there: the login throttle degrades rather than refusing, so
// the pod must stay in its Service and registration and login still answer.
func TestARedisOutageKeepsAuthReadyAndSigningPeopleIn(t *testing.T) {
	db := testkit.NewDB(t)
	brokers := testkit.Kafka(t)
	// A port nothing listens on: every Redis command fails at once.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := l.Addr().String()
	l.Close()
	svc := testkit.StartService(t, run, map[string]string{"DATABASE_URL": db.URL, "KAFKA_BROKERS": brokers[0],
		"REDIS_URL": "redis://" + gone + "/0"})
	get := func(path string) (int, string) {
		status, raw := testkit.Do(t, http.DefaultClient, http.MethodGet, svc.URL+path, "", nil, nil)
		return status, string(raw)
	}
	if code, body := get("/readyz"); code != http.StatusOK || strings.Contains(body, "redis") {
		t.Errorf("/readyz with Redis down: %d %s; want 200 without Redis in it", code, body)
	}
	if code, body := get("/api/health"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"redis":"down"`) {
		t.Errorf("/api/health with Redis down: %d %s; want 503 naming Redis", code, body)
	}
	account := `{"email":"redisless@example.com","password":"correct horse","name":"Rita","organization_name":"Redisless Org"}`
	if code, raw := testkit.Do(t, http.DefaultClient, http.MethodPost, svc.URL+"/api/auth/register", "", []byte(account), nil); code != http.StatusCreated {
		t.Errorf("register with Redis down: %d %s; want 201", code, raw)
	}
	login := `{"email":"redisless@example.com","password":"correct horse"}`
	if code, raw := testkit.Do(t, http.DefaultClient, http.MethodPost, svc.URL+"/api/auth/login", "", []byte(login), nil); code != http.StatusOK {
		t.Errorf("login with Redis down: %d %s; want 200", code, raw)
	}
	if err := svc.Stop(); err != nil {
		t.Fatalf("shutdown returned %v", err)
	}
}
