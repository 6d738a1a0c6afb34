package main

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
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
	tok, err := signer.Sign(testkit.Member("", authn.RoleAdmin), clock.Real.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(svc.URL, "http")+"/api/ws", http.Header{"Authorization": {"Bearer " + tok}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	for {
		var m struct{ Event string }
		if err := c.ReadJSON(&m); err != nil {
			t.Fatalf("waiting for session:state: %v", err)
		}
		if m.Event == "session:state" {
			break
		}
	}

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
