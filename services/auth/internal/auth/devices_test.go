package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
)

// device registers a desktop agent with the caller's token and returns
// its id and device token.
func (e *env) device(token, name string) (id, deviceToken string) {
	e.t.Helper()
	r := e.do("POST", "/api/devices", token, map[string]any{"name": name})
	if r.Status != 201 {
		e.t.Fatalf("register device %s: %d %s", name, r.Status, r.Raw)
	}
	return r.Body["id"].(string), r.Body["token"].(string)
}

func TestADeviceTokenReachesTheTrackingRoutesOnly(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@devices.example", "Devco")
	id, tok := e.device(adminTok, "  Laptop  ")

	c := claims(t, tok)
	if c["scope"] != authn.ScopeDevice || c["did"] != id || c["role"] != authn.RoleEmployee || c["sub"] != admin["id"] {
		t.Fatalf("device token claims: %v", c)
	}
	if life := time.Duration(c["exp"].(float64)-c["iat"].(float64)) * time.Second; life != 365*24*time.Hour {
		t.Fatalf("device token lasts %v; want a year", life)
	}
	for _, path := range []string{"/api/organization", "/api/users/me", "/api/users", "/api/devices"} {
		if r := e.do("GET", path, tok, nil); r.Status != 403 || r.code() != "AUTH_INSUFFICIENT_PERMISSIONS" {
			t.Errorf("GET %s with a device token: %d %s", path, r.Status, r.Raw)
		}
	}
	if r := e.do("POST", "/api/devices", tok, map[string]any{"name": "another"}); r.Status != 403 {
		t.Errorf("a device token registering a device: %d %s", r.Status, r.Raw)
	}
	other := e.poll()
	p, err := other.VerifyTracking(context.Background(), tok)
	if err != nil || p.DeviceID != id || p.UserID != admin["id"] || p.IsAdmin() {
		t.Fatalf("a tracking route of another service: %+v, %v", p, err)
	}
	if _, err := other.Verify(context.Background(), tok); !errors.Is(err, authn.ErrDeviceScope) {
		t.Fatalf("another service's other routes: %v", err)
	}

	r := e.do("GET", "/api/devices", adminTok, nil)
	if r.Status != 200 || len(r.List) != 1 || r.List[0]["name"] != "Laptop" || r.List[0]["token"] != nil || r.List[0]["last_used_at"] != nil {
		t.Fatalf("device list: %d %s", r.Status, r.Raw)
	}
}

func TestBadDeviceRegistrationsAreRefusedInTheEnvelope(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.register("boss@baddevices.example", "Devco")
	tests := []struct {
		name string
		body any
	}{
		{"A device without a name is refused.", map[string]any{}},
		{"A name of spaces is refused.", map[string]any{"name": "   "}},
		{"A name longer than a hundred characters is refused.", map[string]any{"name": string(make([]byte, 101))}},
		{"An unknown field is refused.", map[string]any{"name": "Laptop", "role": "admin"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do("POST", "/api/devices", tok, tt.body); r.Status != 400 || r.code() != "VALIDATION_FAILED" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
		})
	}
	if r := e.do("GET", "/api/devices", tok, nil); r.Status != 200 || len(r.List) != 0 {
		t.Fatalf("devices after refusals: %d %s", r.Status, r.Raw)
	}
}

func TestDevicesAreRevokedByTheirUserOrTheirAdminAndRefusedEverywhereAtTheNextPoll(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@revoke.example", "Revco")
	workerTok, worker := e.join(adminTok, "worker@revoke.example", "employee")
	peerTok, _ := e.join(adminTok, "peer@revoke.example", "employee")
	strangerTok, _ := e.register("boss@elsewhere.example", "Elsewhere")
	tests := []struct {
		name     string
		revoker  string
		status   int
		revoked  bool
		listedBy string
	}{
		{"The device's user revokes it.", workerTok, 204, true, workerTok},
		{"The user's admin revokes it.", adminTok, 204, true, adminTok},
		{"Another employee cannot, and is told no such device exists.", peerTok, 404, false, workerTok},
		{"An admin of another organization cannot either.", strangerTok, 404, false, adminTok},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, tok := e.device(workerTok, "Agent")
			r := e.do("DELETE", "/api/devices/"+id, tt.revoker, nil)
			if r.Status != tt.status {
				t.Fatalf("revoke: %d %s", r.Status, r.Raw)
			}
			other := e.poll()
			_, err := other.VerifyTracking(context.Background(), tok)
			if tt.revoked != errors.Is(err, apierr.ErrTokenRevoked) {
				t.Fatalf("the device token after the poll: %v", err)
			}
			listed := false
			for _, d := range e.do("GET", "/api/devices?user_id="+worker, tt.listedBy, nil).List {
				listed = listed || d["id"] == id
			}
			if listed == tt.revoked {
				t.Fatalf("listed %v after revocation %v", listed, tt.revoked)
			}
		})
	}
	if r := e.do("DELETE", "/api/devices/not-a-uuid", workerTok, nil); r.Status != 404 || r.code() != "DEVICE_NOT_FOUND" {
		t.Fatalf("a malformed id: %d %s", r.Status, r.Raw)
	}
}

func TestAnEmployeeListsOnlyTheirOwnDevicesAndAnAdminAllOfTheOrganizations(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@list.example", "Listco")
	workerTok, worker := e.join(adminTok, "worker@list.example", "employee")
	e.device(adminTok, "Boss desktop")
	e.device(workerTok, "Worker laptop")
	tests := []struct {
		name  string
		token string
		query string
		users []string
	}{
		{"An employee sees their own.", workerTok, "", []string{worker}},
		{"An employee asking for another's still sees their own.", workerTok, "?user_id=" + admin["id"].(string), []string{worker}},
		{"An admin sees the organization's, by name.", adminTok, "", []string{admin["id"].(string), worker}},
		{"An admin narrows the list to one member.", adminTok, "?user_id=" + worker, []string{worker}},
		{"An admin pages through the list.", adminTok, "?limit=1", []string{admin["id"].(string)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", "/api/devices"+tt.query, tt.token, nil)
			if r.Status != 200 || len(r.List) != len(tt.users) {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			for i, u := range tt.users {
				if r.List[i]["user_id"] != u {
					t.Fatalf("device %d belongs to %v; want %s", i, r.List[i]["user_id"], u)
				}
			}
		})
	}
	if r := e.do("GET", "/api/devices?user_id=nobody", adminTok, nil); r.Status != 400 || r.code() != "VALIDATION_FAILED" {
		t.Fatalf("a malformed user_id: %d %s", r.Status, r.Raw)
	}
}

func TestADeviceTokenOutlivesRoleChangesButNotItsUsersDeactivation(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, _ := e.register("boss@outlive.example", "Outlive")
	workerTok, worker := e.join(adminTok, "worker@outlive.example", "employee")
	_, tok := e.device(workerTok, "Agent")
	steps := []struct {
		name   string
		change map[string]any
		want   error
	}{
		{"A promotion leaves the agent working.", map[string]any{"role": "manager"}, nil},
		{"A demotion leaves it working too.", map[string]any{"role": "employee"}, nil},
		{"A deactivation stops it.", map[string]any{"active": false}, apierr.ErrAccountDisabled},
		{"A reactivation brings it back.", map[string]any{"active": true}, nil},
	}
	for _, st := range steps {
		if r := e.do("PATCH", "/api/users/"+worker, adminTok, st.change); r.Status != 200 {
			t.Fatalf("%s: %d %s", st.name, r.Status, r.Raw)
		}
		if _, err := e.poll().VerifyTracking(context.Background(), tok); !errors.Is(err, st.want) {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
}

func TestADeviceTokenStaysVerifiableAfterItsSigningKeyRetires(t *testing.T) {
	e := newEnv(t, map[string]string{"JWT_KEY_ROTATION": "24h"})
	tok, _ := e.register("boss@rotate.example", "Rotate")
	_, deviceTok := e.device(tok, "Agent")
	// Past the key's retirement and the access tokens' lifetime: a key
	// kept only that long would have left the JWKS.
	for range 10 {
		e.clock.Advance(24 * time.Hour)
		if err := e.keys.Refresh(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.poll().VerifyTracking(context.Background(), deviceTok); err != nil {
		t.Fatalf("a device token ten key rotations later: %v", err)
	}
}

func TestADevicesLastUseIsWrittenAtMostOnceAMinute(t *testing.T) {
	e := newEnv(t, nil)
	tok, _ := e.register("boss@lastuse.example", "Lastuse")
	id, _ := e.device(tok, "Agent")
	use := authn.NewDeviceUse(authn.PGDeviceUse{DB: e.db.Pool(t, "workpulse_ingest")}, e.clock)
	first := e.clock.Now().UTC().Truncate(time.Second)
	steps := []struct {
		name    string
		advance time.Duration
		want    time.Time
	}{
		{"The first use is written.", 0, first},
		{"A use half a minute later is not.", 30 * time.Second, first},
		{"A use a minute after the first write is.", 30 * time.Second, first.Add(time.Minute)},
	}
	for _, st := range steps {
		e.clock.Advance(st.advance)
		use.Note(context.Background(), id)
		r := e.do("GET", "/api/devices", tok, nil)
		if len(r.List) != 1 {
			t.Fatalf("%s: %d %s", st.name, r.Status, r.Raw)
		}
		got, _ := time.Parse(time.RFC3339Nano, r.List[0]["last_used_at"].(string))
		if !got.Equal(st.want) {
			t.Fatalf("%s: last used %v; want %v", st.name, got, st.want)
		}
	}
}
