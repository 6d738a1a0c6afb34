package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
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
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid := uuid.NewString()
	doc, _ := json.Marshal(authn.JWKS{Keys: []authn.JWK{authn.PublicJWK(kid, pub)}})
	jwks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(doc) }))
	defer jwks.Close()
	vars := map[string]string{
		"HTTP_ADDR": "127.0.0.1:0", "DATABASE_URL": db.URL, "REDIS_URL": testkit.RedisURL(), "REDIS_PREFIX": prefix,
		"KAFKA_BROKERS": strings.Join(brokers, ","), "JWKS_URL": jwks.URL, "LOG_LEVEL": "warn",
	}
	lookup := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }

	t.Run("Invalid configuration is refused at start-up.", func(t *testing.T) {
		bad := func(k string) (string, bool) {
			if k == "WS_PING_INTERVAL" {
				return "2m", true
			}
			return lookup(k)
		}
		if err := run(t.Context(), bad, io.Discard, nil, clock.Real); err == nil || !strings.Contains(err.Error(), "WS_PING_INTERVAL") {
			t.Fatalf("got %v", err)
		}
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() { done <- run(ctx, lookup, io.Discard, func(a net.Addr) { addrc <- a }, clock.Real) }()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("the service did not start")
	}

	signer := authn.Signer{Kid: kid, Key: priv, Issuer: "workpulse", TTL: time.Hour}
	tok, err := signer.Sign(testkit.Member("", authn.RoleAdmin), clock.Real.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := websocket.DefaultDialer.Dial("ws://"+addr.String()+"/api/ws", http.Header{"Authorization": {"Bearer " + tok}})
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
		cancel()
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
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Fatal("the service did not stop")
		}
	})
}
