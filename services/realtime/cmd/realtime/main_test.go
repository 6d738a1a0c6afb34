package main

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestRun runs the service as main does and stops it as SIGTERM would.
func TestRun(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	_, prefix := testkit.Redis(t)
	brokers := testkit.Kafka(t)
	jwksURL, signer := testkit.JWKS(t)
	vars := map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testkit.RedisURL(), "REDIS_PREFIX": prefix,
		"KAFKA_BROKERS": strings.Join(brokers, ","), "JWKS_URL": jwksURL, "LOG_LEVEL": "warn"}

	t.Run("Invalid configuration is refused at start-up.", func(t *testing.T) {
		testkit.RefusesSetting(t, run, vars, "WS_PING_INTERVAL", "2m")
	})

	svc := testkit.StartService(t, run, vars)
	c := connect(t, svc.URL, signer, testkit.Member("", authn.RoleAdmin))

	t.Run("Stopping the service closes its clients with 1001.", func(t *testing.T) {
		stopped := make(chan error, 1)
		go func() { stopped <- svc.Stop() }()
		_ = c.SetReadDeadline(clock.Real.Now().Add(15 * time.Second))
		var ce *websocket.CloseError
		for {
			_, _, err := c.ReadMessage()
			if err == nil {
				continue
			}
			if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
				t.Fatalf("got %v, want a 1001 close frame", err)
			}
			break
		}
		if err := <-stopped; err != nil {
			t.Fatalf("run: %v", err)
		}
	})
}

// TestAReadyReplicaDeliversTheFirstEventAfterReadiness starts the service
// as a rollout does, connects a dashboard the moment /readyz answers 200,
// as the Service sends clients to a pod from then on, and publishes one
// event: the dashboard must get it. A replica's group is its own and starts
// at the end of the topics, so readiness must wait until the group has
// joined and its starting offsets are fixed.
func TestAReadyReplicaDeliversTheFirstEventAfterReadiness(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	_, prefix := testkit.Redis(t)
	cluster := testkit.KafkaCluster(t)
	// Kafka's default: a new group's first member waits that long to join.
	testkit.DelayFirstJoins(cluster, 3*time.Second)
	brokers := cluster.ListenAddrs()
	jwksURL, signer := testkit.JWKS(t)
	writer := kafkax.NewWriter(brokers)
	t.Cleanup(func() { _ = writer.Close() })
	vars := map[string]string{"DATABASE_URL": db.URL, "REDIS_URL": testkit.RedisURL(), "REDIS_PREFIX": prefix,
		"KAFKA_BROKERS": strings.Join(brokers, ","), "JWKS_URL": jwksURL, "LOG_LEVEL": "warn"}

	svc := testkit.StartService(t, run, vars)
	testkit.Eventually(t, 30*time.Second, "/readyz to answer 200", func() bool {
		resp, err := http.Get(svc.URL + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	admin := testkit.Member("", authn.RoleAdmin)
	c := connect(t, svc.URL, signer, admin)

	now := clock.Real.Now().UTC()
	s := events.Session{SessionID: uuid.NewString(), OrganizationID: admin.OrganizationID, UserID: admin.UserID,
		Status: "active", StartTime: now, LastActivityAt: &now, Version: 1, TotalActiveSeconds: 30}
	env, err := events.New(now, "test", events.TypeActivityRecorded, admin.OrganizationID, s.SessionID,
		events.ActivityRecorded{Session: s, Stored: 1, ActiveSeconds: 30})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(env)
	topic, _ := events.TopicFor(env.Type)
	if err := writer.WriteMessages(t.Context(), kafka.Message{Topic: topic, Key: []byte(env.Key), Value: b}); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(clock.Real.Now().Add(10 * time.Second))
	until(t, c, "session:update")
}

// connect opens p's WebSocket to the service at url and reads up to its
// session:state, the end of the connection's start-up.
func connect(t *testing.T, url string, signer authn.Signer, p authn.Principal) *websocket.Conn {
	t.Helper()
	tok, err := signer.Sign(p, clock.Real.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(url, "http")+"/api/ws", http.Header{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	until(t, c, "session:state")
	return c
}

// until reads c's messages until one named event arrives.
func until(t *testing.T, c *websocket.Conn, event string) {
	t.Helper()
	for {
		var m struct{ Event string }
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for %s: %v", event, err)
		}
		if m.Event == event {
			return
		}
	}
}
