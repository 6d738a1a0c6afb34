package systemtest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/routes"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
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
	// Mail and an OpenID Provider, so that the password reset and single sign-on routes answer
	// their successes too.
	mp := testkit.StartMailpit(t)
	p := StartPlatform(t, "API_ENVELOPE=legacy", "SMTP_HOST="+mp.SMTPHost, fmt.Sprintf("SMTP_PORT=%d", mp.SMTPPort),
		"SMTP_SECURITY=none", "SMTP_FROM=noreply@workpulse.test", "PUBLIC_URL=http://workpulse.test", "MAIL_POLL_INTERVAL=100ms",
		"SSO_ALLOW_PRIVATE_ISSUERS=true")
	op := testkit.StartOIDCProvider(t, nil, "http://workpulse.test/sso/callback")
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
	var invitation struct {
		Token string `json:"token"`
	}
	var member struct {
		User struct {
			ID string `json:"id"`
		} `json:"user"`
	}
	var team, device, hook, timeRequest struct {
		ID string `json:"id"`
	}
	// An approved entry's session, which an edit then changes.
	var reviewed struct {
		Request struct {
			SessionID string `json:"session_id"`
		} `json:"request"`
	}
	ssoDomain := "legacy-" + suffix + ".example"
	resetPassword := "correct horse battery staple reset"
	resetToken := func() string {
		msgs := mp.WaitForMessages(t, email, 1, time.Minute)
		m := regexp.MustCompile(`/reset#token=([A-Za-z0-9_-]+)`).FindStringSubmatch(msgs[len(msgs)-1].Text)
		if m == nil {
			t.Fatalf("no reset link in the mail: %s", msgs[len(msgs)-1].Text)
		}
		return m[1]
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
		{"POST", "/users/invitations", nil, map[string]any{"email": "max-" + suffix + "@example.com"}, 201, &invitation, nil},
		{"POST", "/auth/register", nil, func() any {
			return map[string]any{"email": "max-" + suffix + "@example.com", "password": password, "name": "Max Member",
				"invitation_token": invitation.Token}
		}, 201, &member, nil},
		{"POST", "/teams", nil, map[string]any{"name": "Legacy team " + suffix}, 201, &team, nil},
		{"GET", "/teams", nil, nil, 200, nil, nil},
		{"GET", "/teams/{id}", func() string { return "/teams/" + team.ID }, nil, 200, nil, nil},
		{"PATCH", "/teams/{id}", func() string { return "/teams/" + team.ID }, map[string]any{"name": "Legacy team " + suffix + " renamed"}, 200, nil, nil},
		{"PUT", "/teams/{id}/members/{userId}", func() string { return "/teams/" + team.ID + "/members/" + member.User.ID },
			map[string]any{"role": "member"}, 200, nil, nil},
		{"GET", "/teams/{id}/members", func() string { return "/teams/" + team.ID + "/members" }, nil, 200, nil, nil},
		{"DELETE", "/teams/{id}/members/{userId}", func() string { return "/teams/" + team.ID + "/members/" + member.User.ID }, nil, 204, nil, nil},
		{"DELETE", "/teams/{id}", func() string { return "/teams/" + team.ID }, nil, 204, nil, nil},
		{"DELETE", "/users/{id}", func() string { return "/users/" + member.User.ID + "?data=keep" }, nil, 204, nil, nil},
		{"POST", "/devices", nil, map[string]any{"name": "Legacy laptop"}, 201, &device, nil},
		{"GET", "/devices", nil, nil, 200, nil, nil},
		{"POST", "/devices/{id}/renew", func() string { return "/devices/" + device.ID + "/renew" }, nil, 200, nil, nil},
		{"DELETE", "/devices/{id}", func() string { return "/devices/" + device.ID }, nil, 204, nil, nil},
		{"POST", "/webhooks", nil, map[string]any{"url": "https://hooks.example.com/workpulse", "event_types": []string{"alert.raised"}}, 201, &hook, nil},
		{"GET", "/webhooks", nil, nil, 200, nil, nil},
		{"PATCH", "/webhooks/{id}", func() string { return "/webhooks/" + hook.ID }, map[string]any{"enabled": false}, 200, nil, nil},
		{"POST", "/webhooks/{id}/test", func() string { return "/webhooks/" + hook.ID + "/test" }, nil, 202, nil, nil},
		{"GET", "/webhooks/{id}/deliveries", func() string { return "/webhooks/" + hook.ID + "/deliveries" }, nil, 200, nil, nil},
		{"DELETE", "/webhooks/{id}", func() string { return "/webhooks/" + hook.ID }, nil, 204, nil, nil},
		{"PUT", "/organization/sso", nil, map[string]any{"issuer_url": op.Issuer, "client_id": op.ClientID,
			"client_secret": op.ClientSecret, "domains": []string{ssoDomain}}, 200, nil, nil},
		{"GET", "/organization/sso", nil, nil, 200, nil, nil},
		{"POST", "/auth/sso/start", nil, map[string]any{"email": "sam@" + ssoDomain}, 200, nil, nil},
		{"DELETE", "/organization/sso", nil, nil, 204, nil, nil},
		{"PUT", "/organization/redaction-rules", nil, map[string]any{"rules": []map[string]any{
			{"match": "host", "pattern": "intranet.example.com", "action": "host_only"}}}, 200, nil, nil},
		{"GET", "/organization/redaction-rules", nil, nil, 200, nil, nil},
		{"PUT", "/organization/timesheet-lock", nil, map[string]any{"locked_through": "2020-01-31"}, 200, nil, nil},
		{"GET", "/organization/timesheet-lock", nil, nil, 200, nil, nil},
		{"DELETE", "/organization/timesheet-lock", nil, nil, 200, nil, nil},
		{"PUT", "/categories/rules", nil, map[string]any{"rules": []map[string]any{
			{"match": "host", "pattern": "github.com", "category": "productive"}}}, 200, nil, nil},
		{"GET", "/categories/rules", nil, nil, 200, nil, nil},
		{"GET", "/organization", nil, nil, 200, nil, nil},
		{"PATCH", "/organization", nil, map[string]any{"time_zone": "UTC"}, 200, nil, nil},
		{"POST", "/organization/adoption-tokens", nil, map[string]any{}, 201, nil, nil},
		{"POST", "/projects", nil, map[string]any{"name": "Legacy " + suffix}, 201, &project, nil},
		{"POST", "/projects/{id}/archive", func() string { return "/projects/" + project.ID + "/archive" }, nil, 200, nil, nil},
		{"POST", "/projects/{id}/unarchive", func() string { return "/projects/" + project.ID + "/unarchive" }, nil, 200, nil, nil},
		{"GET", "/projects", nil, nil, 200, nil, nil},
		{"POST", "/sessions/start", nil, map[string]any{"start_time": start.Format(time.RFC3339)}, 201, &session, nil},
		{"GET", "/sessions/active", nil, nil, 200, nil, nil},
		{"GET", "/sessions/today", nil, nil, 200, nil, nil},
		{"GET", "/sessions", nil, nil, 200, nil, nil},
		{"GET", "/sessions/{id}", func() string { return "/sessions/" + session.ID }, nil, 200, nil, nil},
		{"POST", "/sessions/{id}/activity", func() string { return "/sessions/" + session.ID + "/activity" }, map[string]any{
			"client_activity_id": "legacy-1", "timestamp": start.Add(time.Minute).Format(time.RFC3339), "activity_type": "active",
			"duration_seconds": 60}, 201, nil, nil},
		{"POST", "/sessions/{id}/activity/bulk", func() string { return "/sessions/" + session.ID + "/activity/bulk" },
			map[string]any{"activities": Heartbeats(start.Add(2*time.Minute), 2, 5, "idle")}, 201, nil, nil},
		{"POST", "/sessions/{id}/idle-decisions", func() string { return "/sessions/" + session.ID + "/idle-decisions" },
			map[string]any{"start_time": start.Add(2 * time.Minute).Format(time.RFC3339), "end_time": start.Add(10 * time.Minute).Format(time.RFC3339),
				"decision": "keep"}, 201, nil, nil},
		{"GET", "/sessions/{id}/idle-decisions", func() string { return "/sessions/" + session.ID + "/idle-decisions" }, nil, 200, nil, nil},
		{"POST", "/time-requests", nil, map[string]any{"start_time": start.Add(-3 * time.Hour).Format(time.RFC3339),
			"end_time": start.Add(-2 * time.Hour).Format(time.RFC3339), "note": "legacy"}, 201, &timeRequest, nil},
		{"GET", "/time-requests", nil, nil, 200, nil, nil},
		{"POST", "/time-requests/{id}/approve", func() string { return "/time-requests/" + timeRequest.ID + "/approve" }, nil, 200, &reviewed, nil},
		{"POST", "/time-requests", nil, func() any {
			return map[string]any{"kind": "edit", "session_id": reviewed.Request.SessionID, "start_time": start.Add(-3*time.Hour + 10*time.Minute).Format(time.RFC3339),
				"end_time": start.Add(-2*time.Hour + 5*time.Minute).Format(time.RFC3339)}
		}, 201, &timeRequest, nil},
		{"POST", "/time-requests/{id}/approve", func() string { return "/time-requests/" + timeRequest.ID + "/approve" }, nil, 200, nil, nil},
		{"POST", "/time-requests", nil, map[string]any{"start_time": start.Add(-5 * time.Hour).Format(time.RFC3339),
			"end_time": start.Add(-4 * time.Hour).Format(time.RFC3339)}, 201, &timeRequest, nil},
		{"POST", "/time-requests/{id}/reject", func() string { return "/time-requests/" + timeRequest.ID + "/reject" }, map[string]any{"note": "no"}, 200, nil, nil},
		{"GET", "/reports/daily", func() string { return "/reports/daily?date=" + start.Format(time.DateOnly) }, nil, 200, nil, nil},
		{"GET", "/reports/user/{id}", func() string { return "/reports/user/" + auth.User.ID }, nil, 200, nil, nil},
		{"GET", "/reports/organization", nil, nil, 200, nil, nil},
		{"GET", "/reports/payroll", nil, nil, 200, nil, nil},
		{"POST", "/jobs/trigger/daily-summary", nil, nil, 202, nil, nil},
		// The session has been quiet for most of an hour: an idle alert.
		{"POST", "/jobs/trigger/idle-detection", nil, nil, 202, &job, nil},
		{"GET", "/jobs/{id}", func() string { return "/jobs/" + job.JobID }, nil, 200, nil, nil},
		{"GET", "/alerts", nil, nil, 200, &alerts, func() bool { return len(alerts) > 0 }},
		{"POST", "/alerts/{id}/resolve", func() string { return "/alerts/" + alerts[0].ID + "/resolve" }, nil, 200, &alert, nil},
		{"GET", "/users/{id}/export", func() string { return "/users/" + auth.User.ID + "/export" }, nil, 200, nil, nil},
		{"POST", "/sessions/{id}/stop", func() string { return "/sessions/" + session.ID + "/stop" }, map[string]any{}, 200, nil, nil},
		{"GET", "/presence", nil, nil, 200, nil, nil},
		{"GET", "/audit", nil, nil, 200, nil, nil},
		// Auth answers it in a cluster, the front door under make dev.
		{"GET", "/health", nil, nil, 200, nil, nil},
		// Last, since they end the sessions the steps above ran in: each
		// is followed by a fresh sign-in.
		{"POST", "/users/me/password", nil, map[string]any{"current_password": password, "new_password": newPassword}, 200, &auth, nil},
		{"POST", "/auth/logout-all", nil, nil, 204, nil, nil},
		{"POST", "/auth/login", nil, map[string]any{"email": email, "password": newPassword}, 200, &auth, nil},
		{"POST", "/auth/logout", nil, nil, 204, nil, nil},
		{"POST", "/auth/login", nil, map[string]any{"email": email, "password": newPassword}, 200, &auth, nil},
		{"POST", "/auth/password-reset", nil, map[string]any{"email": email}, 202, nil, nil},
		{"POST", "/auth/password-reset/confirm", nil, func() any { return map[string]any{"token": resetToken(), "new_password": resetPassword} }, 204, nil, nil},
		{"POST", "/auth/login", nil, map[string]any{"email": email, "password": resetPassword}, 200, &auth, nil},
	}
	// Documents and transports, not results: checked below or by the
	// realtime tests.
	covered := map[string]bool{"GET /auth/.well-known/jwks.json": true, "GET /ws": true, "GET /socket.io/": true, "POST /socket.io/": true,
		// Its success needs a person through the provider's login form with the start's cookie:
		// TestTheWebAppSignsPeopleInThroughTheirOrganizationsProvider does that in a browser.
		"POST /auth/sso/callback": true}
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
			// A 204, and the password reset's 202 (the same empty answer whether the email has an
			// account or not), have no body to wrap.
			if k.status == http.StatusNoContent || k.spec == "/auth/password-reset" {
				if r := must(t, k.status, k.method, path, tok(), body); len(r.Raw) != 0 {
					t.Fatalf("a %d with a body: %s", k.status, r.Raw)
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
	for _, o := range apiOperations(t) {
		if !covered[o.String()] {
			t.Errorf("%s, in the API's document, is not checked in the legacy envelope", o)
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
