package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestTheRunningServiceStartsSessionsRelaysFollowsTenantsAndShutsDownCleanly
// runs session as it is deployed: tokens checked against a JWKS URL, its
// own outbox relay and tenant consumer.
func TestTheRunningServiceStartsSessionsRelaysFollowsTenantsAndShutsDownCleanly(t *testing.T) {
	tr := testkit.StartTracker(t, run, time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC), nil)
	p, token, base := tr.Member, tr.Token, tr.URL
	start := func() int {
		status, _ := testkit.Do(t, http.DefaultClient, http.MethodPost, base+"/api/sessions/start", token, nil, nil)
		return status
	}
	if code := start(); code != http.StatusCreated {
		t.Fatalf("start through the running service: %d", code)
	}
	_, metricsBody := testkit.Do(t, http.DefaultClient, http.MethodGet, base+"/metrics", "", nil, nil)
	if !strings.Contains(string(metricsBody), `workpulse_sessions_active{service="session"} 1`) {
		t.Fatal("/metrics does not count the one active session")
	}

	testkit.WaitEvent(t, tr.Brokers, events.TopicSessions, 10*time.Second, func(e events.Envelope) bool {
		return e.Type == events.TypeSessionStarted && e.OrganizationID == p.OrganizationID
	})

	// Its tenant consumer learns of a suspension: a second start is then
	// refused as suspended rather than as already active.
	tr.FollowsSuspension(t, start)
}
