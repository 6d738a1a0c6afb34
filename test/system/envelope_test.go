package systemtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api"
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
// API_ENVELOPE=legacy and calls every success route of the API's document
// through the routing table: each body is wrapped, with the request's ID and a
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
	email := "lena-" + suffix + "@example.com"
	var auth struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		User         struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	var session, alert, job, project struct {
		ID    string `json:"id"`
		JobID string `json:"job_id"`
	}
	var alerts []struct {
		ID string `json:"id"`
	}
	start := clock.Real.Now().UTC().Add(-time.Hour)
	tok := func() string { return auth.AccessToken }
	password, newPassword := "correct horse battery", "correct horse battery staple"
	// Every success route of the API, in an order that makes the ids the
	// later ones name; into receives the unwrapped data. A body given as a
	// func is built when its step runs, from what earlier steps returned.
	// A 204 has no body to wrap.
	steps := []struct {
		method, spec string
		path         func() string
		body         any
		status       int
		into         any
		wait         func() bool
	}{
		{"POST", "/auth/register", nil, map[string]any{"email": email, "password": "correct horse battery", "name": "Lena Legacy",
			"organization_name": "Legacy Org " + suffix}, 201, &auth, nil},
		{"POST", "/auth/login", nil, map[string]any{"email": email, "password": password}, 200, nil, nil},
		{"POST", "/auth/refresh", nil, func() any { return map[string]any{"refresh_token": auth.RefreshToken} }, 200, &auth, nil},
		{"GET", "/users/me", nil, nil, 200, nil, nil},
		{"PATCH", "/users/me", nil, map[string]any{"name": "Lena L. Legacy"}, 200, nil, nil},
		{"GET", "/users", nil, nil, 200, nil, nil},
		// The same role again: a change that revokes nothing.
		{"PATCH", "/users/{id}", func() string { return "/users/" + auth.User.ID }, map[string]any{"role": "admin"}, 200, nil, nil},
		{"GET", "/users/employees", nil, nil, 200, nil, nil},
		{"POST", "/users/invitations", nil, map[string]any{"email": "max-" + suffix + "@example.com"}, 201, nil, nil},
		{"GET", "/organization", nil, nil, 200, nil, nil},
		{"PATCH", "/organization", nil, map[string]any{"time_zone": "UTC"}, 200, nil, nil},
		{"POST", "/organization/adoption-tokens", nil, map[string]any{}, 201, nil, nil},
		{"POST", "/projects", nil, map[string]any{"name": "Legacy " + suffix}, 201, &project, nil},
		{"POST", "/projects/{id}/archive", func() string { return "/projects/" + project.ID + "/archive" }, nil, 200, nil, nil},
		{"POST", "/projects/{id}/unarchive", func() string { return "/projects/" + project.ID + "/unarchive" }, nil, 200, nil, nil},
		{"GET", "/projects", nil, nil, 200, nil, nil},
		{"POST", "/sessions/start", nil, map[string]any{"start_time": start.Format(time.RFC3339)}, 201, &session, nil},
		{"GET", "/sessions/active", nil, nil, 200, nil, nil},
		{"GET", "/sessions", nil, nil, 200, nil, nil},
		{"GET", "/sessions/{id}", func() string { return "/sessions/" + session.ID }, nil, 200, nil, nil},
		{"POST", "/sessions/{id}/activity", func() string { return "/sessions/" + session.ID + "/activity" }, map[string]any{
			"client_activity_id": "legacy-1", "timestamp": start.Add(time.Minute).Format(time.RFC3339), "activity_type": "active",
			"duration_seconds": 60}, 201, nil, nil},
		{"POST", "/sessions/{id}/activity/bulk", func() string { return "/sessions/" + session.ID + "/activity/bulk" },
			map[string]any{"activities": Heartbeats(start.Add(2*time.Minute), 2, 5, "idle")}, 201, nil, nil},
		{"GET", "/reports/daily", func() string { return "/reports/daily?date=" + start.Format(time.DateOnly) }, nil, 200, nil, nil},
		{"GET", "/reports/user/{id}", func() string { return "/reports/user/" + auth.User.ID }, nil, 200, nil, nil},
		{"GET", "/reports/organization", nil, nil, 200, nil, nil},
		{"POST", "/jobs/trigger/daily-summary", nil, nil, 202, nil, nil},
		// The session has been quiet for most of an hour: an idle alert.
		{"POST", "/jobs/trigger/idle-detection", nil, nil, 202, &job, nil},
		{"GET", "/jobs/{id}", func() string { return "/jobs/" + job.JobID }, nil, 200, nil, nil},
		{"GET", "/alerts", nil, nil, 200, &alerts, func() bool { return len(alerts) > 0 }},
		{"POST", "/alerts/{id}/resolve", func() string { return "/alerts/" + alerts[0].ID + "/resolve" }, nil, 200, &alert, nil},
		{"POST", "/sessions/{id}/stop", func() string { return "/sessions/" + session.ID + "/stop" }, map[string]any{}, 200, nil, nil},
		{"GET", "/presence", nil, nil, 200, nil, nil},
		// Auth answers it in a cluster, the front door under make dev.
		{"GET", "/health", nil, nil, 200, nil, nil},
		// Last, since they end the sessions the steps above ran in: each
		// is followed by a fresh sign-in.
		{"POST", "/users/me/password", nil, map[string]any{"current_password": password, "new_password": newPassword}, 200, &auth, nil},
		{"POST", "/auth/logout-all", nil, nil, 204, nil, nil},
		{"POST", "/auth/login", nil, map[string]any{"email": email, "password": newPassword}, 200, &auth, nil},
		{"POST", "/auth/logout", nil, nil, 204, nil, nil},
		{"POST", "/auth/login", nil, map[string]any{"email": email, "password": newPassword}, 200, &auth, nil},
	}
	// Documents and transports, not results: checked below or by the
	// realtime tests.
	covered := map[string]bool{"GET /auth/.well-known/jwks.json": true, "GET /ws": true, "GET /socket.io/": true, "POST /socket.io/": true}
	for _, k := range steps {
		covered[k.method+" "+k.spec] = true
		path := k.spec
		if k.path != nil {
			path = k.path()
		}
		route, ok := routes.Lookup("/api" + path)
		if !ok {
			t.Fatalf("%s is in no route of the routing table", path)
		}
		body := k.body
		if build, ok := body.(func() any); ok {
			body = build()
		}
		t.Run(fmt.Sprintf("%s %s (%s) is wrapped.", k.method, k.spec, route.Service), func(t *testing.T) {
			if k.status == http.StatusNoContent {
				if r := must(t, k.status, k.method, path, tok(), body); len(r.Raw) != 0 {
					t.Fatalf("a 204 with a body: %s", r.Raw)
				}
				return
			}
			if k.wait == nil {
				unwrap(t, must(t, k.status, k.method, path, tok(), body), k.into)
				return
			}
			if !WaitFor(2*time.Minute, func() bool { unwrap(t, must(t, k.status, k.method, path, tok(), body), k.into); return k.wait() }) {
				t.Fatalf("%s %s never showed what the next routes need", k.method, path)
			}
		})
	}
	raw, err := api.OpenAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(raw, &spec); err != nil {
		t.Fatal(err)
	}
	for path, ops := range spec.Paths {
		for method := range ops {
			if op := strings.ToUpper(method) + " " + path; slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, strings.ToUpper(method)) && !covered[op] {
				t.Errorf("%s, in the API's document, is not checked in the legacy envelope", op)
			}
		}
	}
	t.Run("An error keeps the error envelope.", func(t *testing.T) {
		r := must(t, 404, "GET", "/sessions/00000000-0000-4000-8000-000000000000", auth.AccessToken, nil)
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
