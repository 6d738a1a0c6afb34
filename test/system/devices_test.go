package systemtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// registerDevice registers a desktop agent of m and returns its id and
// device token.
func registerDevice(t *testing.T, c *Client, m Member, name string) (id, token string) {
	t.Helper()
	var d struct{ ID, Token string }
	c.Must(201, "POST", "/devices", m.Token, map[string]any{"name": name}).Into(t, &d)
	return d.ID, d.Token
}

func TestADeviceTokenTracksItsUsersWorkIsRefusedElsewhereAndStopsWithinSecondsOfItsRenewalAndRevocation(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	k := setupCast(t, p, c)
	// The colleague has no session yet; the agent starts one.
	deviceID, tok := registerDevice(t, c, k.colleague, "Work laptop")
	today := clock.Real.Now().UTC().Format(time.DateOnly)

	var s Session
	c.Must(201, "POST", "/sessions/start", tok, map[string]any{"start_time": clock.Real.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}).Into(t, &s)
	if s.UserID != k.colleague.ID {
		t.Fatalf("the device's session belongs to %s; want its user %s", s.UserID, k.colleague.ID)
	}
	beat := func() any { return Heartbeats(clock.Real.Now().Add(-10*time.Minute), 1, 5, "active")[0] }
	bulk := func() any {
		return map[string]any{"activities": Heartbeats(clock.Real.Now().Add(-20*time.Minute), 2, 5, "idle")}
	}
	none := func() any { return nil }
	rows := []struct {
		method, path string
		body         func() any
		want         int
	}{
		{"POST", "/sessions/" + s.ID + "/activity", beat, 201},
		{"POST", "/sessions/" + s.ID + "/activity/bulk", bulk, 201},
		{"GET", "/sessions/active", none, 200},
		{"GET", "/sessions/" + s.ID, none, 200},
		{"GET", "/sessions", none, 200},
		{"GET", "/sessions/" + k.session, none, 404}, // another member's
		{"GET", "/sessions?user_id=" + k.emp.ID, none, 403},
		{"GET", "/users", none, 403},
		{"GET", "/users/me", none, 403},
		{"GET", "/users/employees", none, 403},
		{"GET", "/organization", none, 403},
		{"GET", "/devices", none, 403},
		{"POST", "/devices", func() any { return map[string]any{"name": "sneaky"} }, 403},
		{"POST", "/auth/logout-all", none, 403},
		{"GET", "/projects", none, 403},
		{"GET", "/reports/daily?date=" + today, none, 403},
		{"GET", "/alerts", none, 403},
		{"GET", "/presence", none, 403},
		{"GET", "/ws", none, 403},
	}
	for _, row := range rows {
		t.Run(fmt.Sprintf("%s %s with a device token answers %d", row.method, row.path, row.want), func(t *testing.T) {
			r, err := c.Do(row.method, row.path, tok, row.body())
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != row.want {
				t.Fatalf("got %d %s", r.Status, r.Raw)
			}
			if row.want == 403 && r.Code() != "AUTH_INSUFFICIENT_PERMISSIONS" {
				t.Fatalf("refused with %s, not in the envelope's permission code: %s", r.Code(), r.Raw)
			}
		})
	}

	testkit.Eventually(t, 5*time.Second, "the device list shows the agent's last use", func() bool {
		var devices []struct {
			ID         string     `json:"id"`
			LastUsedAt *time.Time `json:"last_used_at"`
		}
		c.Must(200, "GET", "/devices", k.colleague.Token, nil).Into(t, &devices)
		return len(devices) == 1 && devices[0].ID == deviceID && devices[0].LastUsedAt != nil
	})

	// refused waits until session and ingest refuse tok as revoked.
	refused := func(tok, why string) {
		t.Helper()
		start := clock.Start()
		for _, row := range rows[:3] {
			testkit.Eventually(t, 5*time.Second, row.path+" refuses the "+why, func() bool {
				r, err := c.Do(row.method, row.path, tok, row.body())
				return err == nil && r.Status == 401 && r.Code() == "AUTH_TOKEN_REVOKED"
			})
		}
		t.Logf("session and ingest refused the %s %s after", why, start.Elapsed())
	}

	// The agent renews its token with the token itself.
	var renewed struct{ Token string }
	c.Must(200, "POST", "/devices/"+deviceID+"/renew", tok, nil).Into(t, &renewed)
	refused(tok, "device token renewed away")
	for _, row := range rows[:3] {
		c.Must(row.want, row.method, row.path, renewed.Token, row.body())
	}

	c.Must(204, "DELETE", "/devices/"+deviceID, k.admin.Token, nil)
	refused(renewed.Token, "revoked device's token")
	// Its user's own sign-in is untouched.
	c.Must(200, "GET", "/sessions/active", k.colleague.Token, nil)
}
