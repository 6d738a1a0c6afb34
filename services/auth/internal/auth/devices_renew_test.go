package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/auth/internal/auth"
	"github.com/workpulse/workpulse/services/platform/apierr"
)

// renew renews device id with token and returns the answer.
func (e *env) renew(id, token string) response {
	e.t.Helper()
	return e.do("POST", "/api/devices/"+id+"/renew", token, nil)
}

// later advances the clock by d, and the signing keys with it, as the
// service's key refresh does.
func (e *env) later(d time.Duration) {
	e.t.Helper()
	e.clock.Advance(d)
	if err := e.keys.Refresh(context.Background()); err != nil {
		e.t.Fatal(err)
	}
}

func TestARenewedDeviceTokenReplacesTheOldOneEverywhereAndIsAudited(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@renew.example", "Renewco")
	workerTok, worker := e.join(adminTok, "worker@renew.example", "employee")
	id, old := e.device(workerTok, "Agent")
	e.later(300 * 24 * time.Hour)
	now := e.clock.Now().UTC().Truncate(time.Second)

	r := e.renew(id, old)
	if r.Status != 200 || r.Body["id"] != id || r.Body["name"] != "Agent" {
		t.Fatalf("renew: %d %s", r.Status, r.Raw)
	}
	fresh := r.Body["token"].(string)
	if expires, _ := time.Parse(time.RFC3339, r.Body["expires_at"].(string)); !expires.Equal(now.Add(365 * 24 * time.Hour)) {
		t.Fatalf("the renewed device expires at %v; want a year from the renewal", expires)
	}
	if used, _ := r.Body["last_used_at"].(string); used != now.Format(time.RFC3339) {
		t.Fatalf("the agent's renewal is not its last use: %s", r.Raw)
	}
	c := claims(t, fresh)
	if c["did"] != id || c["sub"] != worker || c["role"] != "employee" || c["ver"] != float64(1) {
		t.Fatalf("the renewed token's claims: %v", c)
	}

	other := e.poll()
	if _, err := other.VerifyTracking(context.Background(), old); !errors.Is(err, apierr.ErrTokenRevoked) {
		t.Fatalf("another service after the poll takes the old token: %v", err)
	}
	if _, err := other.VerifyTracking(context.Background(), fresh); err != nil {
		t.Fatalf("another service refuses the renewed token: %v", err)
	}
	if r := e.renew(id, old); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
		t.Fatalf("the old token renews again: %d %s", r.Status, r.Raw)
	}
	// Their sign-ins expired meanwhile.
	workerTok, adminTok = e.login(t, "worker@renew.example"), e.login(t, "boss@renew.example")
	list := e.do("GET", "/api/devices", workerTok, nil)
	if len(list.List) != 1 || list.List[0]["id"] != id || list.List[0]["token"] != nil {
		t.Fatalf("the device list after the renewal: %s", list.Raw)
	}

	entry := entryOf(t, e.auditLog(adminTok), "device.renewed")
	d := entry["details"].(map[string]any)
	if entry["actor_id"] != worker || entry["subject_id"] != id || d["by"] != "device" || d["user_id"] != worker || d["name"] != "Agent" {
		t.Fatalf("the renewal's audit entry: %v", entry)
	}
}

func TestADeviceTokenRenewsShortlyAfterItsExpiryButNotPastTheGrace(t *testing.T) {
	tests := []struct {
		name   string
		after  time.Duration // past the token's expiry
		status int
		code   string
	}{
		{"A day past its expiry the agent renews.", 24 * time.Hour, 200, ""},
		{"Just within the grace it still renews.", auth.DeviceRenewGrace - time.Minute, 200, ""},
		{"Past the grace it does not: its user registers it again.", auth.DeviceRenewGrace + time.Minute, 401, "AUTH_TOKEN_EXPIRED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, map[string]string{"DEVICE_TOKEN_TTL": "720h"})
			tok, _ := e.register("boss@grace.example", "Graceco")
			id, deviceTok := e.device(tok, "Agent")
			e.later(720*time.Hour + tt.after)
			if _, err := e.poll().VerifyTracking(context.Background(), deviceTok); !errors.Is(err, apierr.ErrTokenExpired) {
				t.Fatalf("the expired token still tracks: %v", err)
			}
			if r := e.renew(id, deviceTok); r.Status != tt.status || r.code() != tt.code {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
}

func TestOnlyTheDeviceItselfOrItsUserRenewsIt(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@renewers.example", "Renewers")
	workerTok, _ := e.join(adminTok, "worker@renewers.example", "employee")
	peerTok, _ := e.join(adminTok, "peer@renewers.example", "employee")
	strangerTok, _ := e.register("boss@strangers.example", "Strangers")
	_, siblingTok := e.device(workerTok, "Desktop")
	tests := []struct {
		name   string
		caller func(deviceTok string) string
		status int
		code   string
	}{
		{"The agent renews with its own token.", func(tok string) string { return tok }, 200, ""},
		{"Its user renews it with their own sign-in.", func(string) string { return workerTok }, 200, ""},
		{"Another device of the same user does not.", func(string) string { return siblingTok }, 404, "DEVICE_NOT_FOUND"},
		{"An admin does not: the new token would be the admin's to hold.", func(string) string { return adminTok }, 404, "DEVICE_NOT_FOUND"},
		{"Another employee does not.", func(string) string { return peerTok }, 404, "DEVICE_NOT_FOUND"},
		{"An admin of another organization does not.", func(string) string { return strangerTok }, 404, "DEVICE_NOT_FOUND"},
		{"Nobody signed in does not.", func(string) string { return "" }, 401, "AUTH_INVALID_TOKEN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, tok := e.device(workerTok, "Laptop")
			if r := e.renew(id, tt.caller(tok)); r.Status != tt.status || r.code() != tt.code {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			// A refused renewal leaves the token working.
			_, err := e.poll().VerifyTracking(context.Background(), tok)
			if renewed := tt.status == 200; renewed != errors.Is(err, apierr.ErrTokenRevoked) {
				t.Fatalf("the device's token after the renewal (%v): %v", renewed, err)
			}
		})
	}
	if r := e.renew("not-a-uuid", workerTok); r.Status != 404 || r.code() != "DEVICE_NOT_FOUND" {
		t.Fatalf("a malformed id: %d %s", r.Status, r.Raw)
	}
}

func TestARevokedDeviceDoesNotRenew(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.register("boss@revokedrenew.example", "Revokedrenew")
	id, deviceTok := e.device(tok, "Agent")
	renewed := e.renew(id, deviceTok).Body["token"].(string)
	if r := e.do("DELETE", "/api/devices/"+id, tok, nil); r.Status != 204 {
		t.Fatalf("revoke: %d %s", r.Status, r.Raw)
	}
	e.poll()
	if r := e.renew(id, renewed); r.Status != 401 || r.code() != "AUTH_TOKEN_REVOKED" {
		t.Fatalf("the revoked device's agent renews: %d %s", r.Status, r.Raw)
	}
	if r := e.renew(id, tok); r.Status != 404 || r.code() != "DEVICE_NOT_FOUND" {
		t.Fatalf("the revoked device's user renews it: %d %s", r.Status, r.Raw)
	}
	if _, err := e.poll().VerifyTracking(context.Background(), renewed); !errors.Is(err, apierr.ErrTokenRevoked) {
		t.Fatalf("the revoked device's renewed token: %v", err)
	}
}
