package systemtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/workpulse/workpulse/test/testkit"
)

// TestMakeDevWorksWhereNoRedisIsInstalled runs the platform on the
// in-process Redis that make dev serves when the machine has none
// (hack/with-deps.sh then says WORKPULSE_REDIS_URL=inprocess).
func TestMakeDevWorksWhereNoRedisIsInstalled(t *testing.T) {
	p := startPlatform(t, []string{"WORKPULSE_REDIS_URL=inprocess", fmt.Sprintf("DEV_REDIS_ADDR=127.0.0.1:%d", testkit.FreePort(t))}, nil)
	resp, err := http.Get(p.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var health struct{ Checks map[string]string }
	err = json.NewDecoder(resp.Body).Decode(&health)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || health.Checks["redis"] != "up" {
		t.Fatalf("health %d %v (%v)", resp.StatusCode, health.Checks, err)
	}

	c := p.Client(t)
	admin := c.Register("admin@no-redis.example", "Admin", "No Redis")
	// Login throttling keeps its counters in Redis.
	wrong := map[string]any{"email": admin.Email, "password": "not the password"}
	for range 5 {
		c.Must(http.StatusUnauthorized, "POST", "/auth/login", "", wrong)
	}
	if r := c.Must(http.StatusTooManyRequests, "POST", "/auth/login", "", wrong); r.Code() != "AUTH_TOO_MANY_ATTEMPTS" {
		t.Errorf("sixth failed login: %s", r.Code())
	}
	// Presence lives in Redis too, written by realtime's Lua scripts.
	online := func() int {
		var users []any
		c.Must(http.StatusOK, "GET", "/presence", admin.Token, nil).Into(t, &users)
		return len(users)
	}
	if n := online(); n != 0 {
		t.Errorf("%d users online before anyone connected", n)
	}
	p.Watch(t, admin)
	if !WaitFor(10*time.Second, func() bool { return online() == 1 }) {
		t.Errorf("%d users online after the admin connected, want 1", online())
	}
}
