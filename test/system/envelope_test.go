package systemtest

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// legacy is the replaced service's success envelope.
type legacy struct {
	Success   *bool           `json:"success"`
	Data      json.RawMessage `json:"data"`
	Timestamp string          `json:"timestamp"`
	RequestID string          `json:"requestId"`
}

// TestTheLegacyEnvelopeOnEveryService runs the platform with
// API_ENVELOPE=legacy and calls a success route of every service of the
// routing table: each body is wrapped, with the request's ID and a
// millisecond timestamp, while errors, the JWKS and the OpenAPI document
// stay as they are.
func TestTheLegacyEnvelopeOnEveryService(t *testing.T) {
	p := StartPlatform(t, "API_ENVELOPE=legacy")
	c := p.Client(t)
	unwrap := func(t *testing.T, r Resp, v any) {
		t.Helper()
		var env legacy
		if err := json.Unmarshal(r.Raw, &env); err != nil || env.Success == nil || !*env.Success || env.Data == nil {
			t.Fatalf("not the legacy envelope: %d %s", r.Status, r.Raw)
		}
		if _, err := time.Parse("2006-01-02T15:04:05.000Z", env.Timestamp); err != nil {
			t.Fatalf("timestamp %q is not an ISO instant with milliseconds", env.Timestamp)
		}
		if env.RequestID == "" || env.RequestID != r.Header.Get("X-Request-Id") {
			t.Fatalf("requestId %q; the response's X-Request-Id is %q", env.RequestID, r.Header.Get("X-Request-Id"))
		}
		if v != nil {
			if err := json.Unmarshal(env.Data, v); err != nil {
				t.Fatalf("data %s: %v", env.Data, err)
			}
		}
	}
	must := func(t *testing.T, status int, method, path, token string, body any) Resp {
		t.Helper()
		r, err := c.Do(method, path, token, body)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != status {
			t.Fatalf("%s %s: %d %s; want %d", method, path, r.Status, r.Raw, status)
		}
		return r
	}

	suffix := fmt.Sprintf("%d", clock.Real.Now().UnixNano())
	var auth struct {
		AccessToken string `json:"access_token"`
	}
	unwrap(t, must(t, 201, "POST", "/auth/register", "", map[string]any{"email": "lena-" + suffix + "@example.com",
		"password": "correct horse battery", "name": "Lena Legacy", "organization_name": "Legacy Org " + suffix}), &auth)
	token := auth.AccessToken
	var session struct {
		ID string `json:"id"`
	}
	start := clock.Real.Now().UTC().Add(-10 * time.Minute)
	unwrap(t, must(t, 201, "POST", "/sessions/start", token, map[string]any{"start_time": start.Format(time.RFC3339)}), &session)

	cases := []struct {
		service, method, path string
		body                  any
		status                int
	}{
		{routes.Auth, "GET", "/users/employees", nil, 200},
		// Auth answers it in a cluster, the front door under make dev.
		{routes.Auth, "GET", "/health", nil, 200},
		{routes.Session, "GET", "/sessions/active", nil, 200},
		{routes.Session, "GET", "/projects", nil, 200},
		{routes.Ingest, "POST", "/sessions/" + session.ID + "/activity", map[string]any{"client_activity_id": "legacy-1",
			"timestamp": start.Add(time.Minute).Format(time.RFC3339), "activity_type": "active", "duration_seconds": 60}, 201},
		{routes.Report, "GET", "/reports/daily?date=" + start.Format(time.DateOnly), nil, 200},
		{routes.Report, "GET", "/alerts", nil, 200},
		{routes.Realtime, "GET", "/presence", nil, 200},
	}
	covered := map[string]bool{routes.Web: true} // the web service answers no JSON result
	for _, k := range cases {
		covered[k.service] = true
		t.Run(fmt.Sprintf("%s %s (%s) is wrapped.", k.method, k.path, k.service), func(t *testing.T) {
			unwrap(t, must(t, k.status, k.method, k.path, token, k.body), nil)
		})
	}
	for _, s := range routes.Services {
		if !covered[s.Name] {
			t.Errorf("no route of %s is checked in the legacy envelope", s.Name)
		}
	}
	t.Run("An error keeps the error envelope.", func(t *testing.T) {
		r := must(t, 404, "GET", "/sessions/00000000-0000-4000-8000-000000000000", token, nil)
		if r.Code() != "NOT_FOUND" && r.Code() != "SESSION_NOT_FOUND" {
			t.Fatalf("%s", r.Raw)
		}
	})
	t.Run("The JWKS and the OpenAPI document are documents, not wrapped.", func(t *testing.T) {
		for _, path := range []string{"/auth/.well-known/jwks.json", "/docs-json"} {
			var doc map[string]any
			must(t, 200, "GET", path, "", nil).Into(t, &doc)
			if _, wrapped := doc["success"]; wrapped {
				t.Errorf("%s is wrapped", path)
			}
		}
	})
}
