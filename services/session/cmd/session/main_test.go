package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestTheRunningServiceStartsSessionsRelaysFollowsTenantsAndShutsDownCleanly
// runs session as it is deployed: tokens checked against a JWKS URL, its
// own outbox relay and tenant consumer.
func TestTheRunningServiceStartsSessionsRelaysFollowsTenantsAndShutsDownCleanly(t *testing.T) {
	db := testkit.NewDB(t)
	brokers := testkit.Kafka(t)
	jwksURL, signer := testkit.JWKS(t)
	clk := testkit.NewClock(time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC))
	svc := testkit.StartServiceOn(t, run, clk, map[string]string{"DATABASE_URL": db.URL, "KAFKA_BROKERS": brokers[0], "JWKS_URL": jwksURL})
	base := svc.URL
	p := testkit.Member("", authn.RoleEmployee)
	token, err := signer.Sign(p, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	start := func() int {
		status, _ := testkit.Do(t, http.DefaultClient, http.MethodPost, base+"/api/sessions/start", token, nil, nil)
		return status
	}
	if code := start(); code != http.StatusCreated {
		t.Fatalf("start through the running service: %d", code)
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metricsBody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metricsBody), `workpulse_sessions_active{service="session"} 1`) {
		t.Fatal("/metrics does not count the one active session")
	}

	testkit.WaitEvent(t, brokers, events.TopicSessions, 10*time.Second, func(e events.Envelope) bool {
		return e.Type == events.TypeSessionStarted && e.OrganizationID == p.OrganizationID
	})

	// Its tenant consumer learns of a suspension: a second start is then
	// refused as suspended rather than as already active.
	testkit.SuspendTenant(t, brokers, clk.Now(), p.OrganizationID)
	testkit.Eventually(t, 30*time.Second, "the suspension to take effect", func() bool { return start() == http.StatusForbidden })

	if err := svc.Stop(); err != nil {
		t.Fatalf("shutdown returned %v", err)
	}
}
