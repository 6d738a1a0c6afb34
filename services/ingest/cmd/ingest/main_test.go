package main

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestTheRunningServiceRecordsRelaysFollowsTenantsAndShutsDownCleanly runs
// ingest as it is deployed: tokens checked against a JWKS URL, its own
// outbox relay and tenant consumer, probes and metrics.
func TestTheRunningServiceRecordsRelaysFollowsTenantsAndShutsDownCleanly(t *testing.T) {
	at := time.Date(2027, 6, 15, 9, 30, 0, 0, time.UTC)
	// The clock's month has storage, as the operator would have made it.
	tr := testkit.StartTracker(t, run, at, func(db *testkit.DB) { db.EnsureActivityMonth(t, at) })
	db, clk, p, token, base := tr.DB, tr.Clock, tr.Member, tr.Token, tr.URL
	sid := uuid.NewString()
	if _, err := db.Owner.Exec(context.Background(), "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active')",
		sid, p.OrganizationID, p.UserID, clk.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	post := func() int {
		status, _ := testkit.Do(t, http.DefaultClient, http.MethodPost, base+"/api/sessions/"+sid+"/activity", token, []byte(`{"activity_type":"active","duration_seconds":9}`), nil)
		return status
	}
	if code := post(); code != http.StatusCreated {
		t.Fatalf("activity through the running service: %d", code)
	}
	for _, path := range []string{"/livez", "/readyz", "/metrics"} {
		resp, err := http.Get(base + path)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %v %v", path, err, resp)
		}
		resp.Body.Close()
	}

	// The service's own relay publishes activity.recorded.
	testkit.WaitEvent(t, tr.Brokers, events.TopicActivity, 10*time.Second, func(e events.Envelope) bool {
		return e.Type == events.TypeActivityRecorded && e.OrganizationID == p.OrganizationID
	})

	// Its tenant consumer learns of a suspension.
	tr.FollowsSuspension(t, post)
}
