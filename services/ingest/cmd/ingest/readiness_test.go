package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestABrokerOutageKeepsThePodReadyAndTheActivityIsRelayedAfter stops the
// Kafka broker under a running ingest: the pod must stay in its Service
// (readiness does not hang on Kafka), keep accepting activity into its
// outbox, and relay it once the broker is back.
func TestABrokerOutageKeepsThePodReadyAndTheActivityIsRelayedAfter(t *testing.T) {
	db := testkit.NewDB(t)
	k := testkit.StartGatedKafka(t, "127.0.0.1:0")
	brokers := []string{k.Addr}
	jwksURL, signer := testkit.JWKS(t)
	clk := testkit.NewClock(time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC))
	db.EnsureActivityMonth(t, clk.Now())
	svc := testkit.StartServiceOn(t, run, clk, map[string]string{"DATABASE_URL": db.URL, "KAFKA_BROKERS": k.Addr, "JWKS_URL": jwksURL})
	defer func() {
		if err := svc.Stop(); err != nil {
			t.Errorf("shutdown returned %v", err)
		}
	}()

	// One employee's activity before the outage, another's during it.
	sessions := map[string]string{}
	post := func(p authn.Principal) int {
		t.Helper()
		token, err := signer.Sign(p, clk.Now())
		if err != nil {
			t.Fatal(err)
		}
		sid, ok := sessions[p.UserID]
		if !ok {
			sid = uuid.NewString()
			sessions[p.UserID] = sid
		}
		if _, err := db.Owner.Exec(context.Background(), "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active') ON CONFLICT DO NOTHING",
			sid, p.OrganizationID, p.UserID, clk.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		status, _ := testkit.Do(t, http.DefaultClient, http.MethodPost, svc.URL+"/api/sessions/"+sid+"/activity", token, []byte(`{"activity_type":"active","duration_seconds":9}`), nil)
		return status
	}
	get := func(path string) (int, string) {
		t.Helper()
		status, raw := testkit.Do(t, http.DefaultClient, http.MethodGet, svc.URL+path, "", nil, nil)
		return status, string(raw)
	}
	before, during := testkit.Member("", authn.RoleEmployee), testkit.Member("", authn.RoleEmployee)
	if code := post(before); code != http.StatusCreated {
		t.Fatalf("activity before the outage: %d", code)
	}
	testkit.WaitEvent(t, brokers, events.TopicActivity, 10*time.Second, func(e events.Envelope) bool { return e.OrganizationID == before.OrganizationID })

	k.Down()
	if code, body := get("/readyz"); code != http.StatusOK || strings.Contains(body, "kafka") {
		t.Errorf("/readyz with the broker down: %d %s; want 200 without Kafka in it", code, body)
	}
	for range 3 {
		if code := post(during); code != http.StatusCreated {
			t.Errorf("activity with the broker down: %d; want 201", code)
		}
	}
	// The platform's health still says what is down, to a caller from inside.
	if code, body := get("/api/health"); code != http.StatusServiceUnavailable || !strings.Contains(body, `"kafka":"down"`) {
		t.Errorf("/api/health with the broker down: %d %s; want 503 naming Kafka", code, body)
	}
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz later in the outage: %d; want 200", code)
	}

	k.Up()
	testkit.WaitEvent(t, brokers, events.TopicActivity, 30*time.Second, func(e events.Envelope) bool { return e.OrganizationID == during.OrganizationID })
	if code, _ := get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after the outage: %d; want 200", code)
	}
}
