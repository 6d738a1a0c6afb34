package systemtest

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/testkit"
)

// cast is who the security tests act as.
type cast struct {
	admin, emp, colleague, foreign Member
	session, project, job          string
}

func setupCast(t *testing.T, p *Platform, c *Client) cast {
	t.Helper()
	var k cast
	k.admin = c.Register("sec-admin@a.example", "Admin A", "Org A")
	k.emp = c.Invite(k.admin, "sec-emp@a.example", "Employee A", "employee")
	k.colleague = c.Invite(k.admin, "sec-col@a.example", "Colleague A", "employee")
	k.foreign = c.Register("sec-admin@b.example", "Admin B", "Org B")
	k.session = c.StartSession(k.emp, clock.Real.Now().Add(-time.Hour)).ID
	var proj struct{ ID string }
	c.Must(201, "POST", "/projects", k.emp.Token, map[string]any{"name": "Secret project"}).Into(t, &proj)
	k.project = proj.ID
	var job struct {
		JobID string `json:"job_id"`
	}
	c.Must(202, "POST", "/jobs/trigger/idle-detection", k.admin.Token, nil).Into(t, &job)
	k.job = job.JobID
	return k
}

// teamCast is the cast in two teams of Org A: Red, the employee's, led by
// lead, and Blue, the colleague's, led by otherLead; the matrix takes the
// colleague out of scratch and deletes spare.
type teamCast struct {
	lead, otherLead           Member
	red, blue, scratch, spare string
	colleagueSession          string
}

func setupTeams(t *testing.T, c *Client, k cast) teamCast {
	t.Helper()
	var tc teamCast
	tc.lead = c.Invite(k.admin, "sec-lead@a.example", "Lead A", "manager")
	tc.otherLead = c.Invite(k.admin, "sec-lead2@a.example", "Other Lead A", "manager")
	team := func(name string) string {
		var tm struct{ ID string }
		c.Must(201, "POST", "/teams", k.admin.Token, map[string]any{"name": name}).Into(t, &tm)
		return tm.ID
	}
	put := func(team, user, role string) {
		c.Must(200, "PUT", "/teams/"+team+"/members/"+user, k.admin.Token, map[string]any{"role": role})
	}
	tc.red, tc.blue, tc.scratch, tc.spare = team("Red"), team("Blue"), team("Scratch"), team("Spare")
	put(tc.red, tc.lead.ID, "manager")
	put(tc.red, k.emp.ID, "member")
	put(tc.blue, tc.otherLead.ID, "manager")
	put(tc.blue, k.colleague.ID, "member")
	put(tc.scratch, k.colleague.ID, "member")
	// The colleague works too, so that a leak of their data to the
	// employee's manager would show in the reports.
	tc.colleagueSession = c.StartSession(k.colleague, clock.Real.Now().Add(-time.Hour)).ID
	c.Must(201, "POST", "/sessions/"+tc.colleagueSession+"/activity", k.colleague.Token,
		Heartbeats(clock.Real.Now().Add(-30*time.Minute), 1, 5, "active")[0])
	// Membership reaches the other services within a poll.
	path := "/reports/user/" + k.emp.ID
	if !WaitFor(10*time.Second, func() bool { r, err := c.Do("GET", path, tc.lead.Token, nil); return err == nil && r.Status == 200 }) {
		t.Fatal("the employee's manager cannot read the employee's report 10 s after the team was made")
	}
	return tc
}

func TestAuthorizationMatrix(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	k := setupCast(t, p, c)
	tc := setupTeams(t, c, k)
	today := clock.Real.Now().UTC().Format(time.DateOnly)
	beat := func() any { return Heartbeats(clock.Real.Now().Add(-10*time.Minute), 1, 5, "active")[0] }
	bulk := func() any {
		return map[string]any{"activities": Heartbeats(clock.Real.Now().Add(-20*time.Minute), 2, 5, "idle")}
	}
	invite := func() any {
		return map[string]any{"email": fmt.Sprintf("x%d@example.com", clock.Real.Now().UnixNano())}
	}
	unique := func() any { return map[string]any{"name": fmt.Sprintf("p%d", clock.Real.Now().UnixNano())} }
	body := func(v map[string]any) func() any { return func() any { return v } }
	none := func() any { return nil }
	device := func() any { return map[string]any{"name": fmt.Sprintf("agent %d", clock.Real.Now().UnixNano())} }
	colleaguesDevice, _ := registerDevice(t, c, k.colleague, "Colleague's laptop")
	actors := []string{"anonymous", "employee", "colleague", "manager of the employee's team", "manager of another team", "admin", "other org's admin"}
	token := map[string]string{"anonymous": "", "employee": k.emp.Token, "colleague": k.colleague.Token,
		"manager of the employee's team": tc.lead.Token, "manager of another team": tc.otherLead.Token,
		"admin": k.admin.Token, "other org's admin": k.foreign.Token}
	// Whose data each actor must never be shown, whatever the endpoint.
	hidden := map[string]string{"employee": k.colleague.ID, "colleague": k.emp.ID,
		"manager of the employee's team": k.colleague.ID, "manager of another team": k.emp.ID, "other org's admin": k.admin.Org}
	userRange := "?startDate=" + today + "&endDate=" + today
	// fresh is a new member in the actor's place: in their organization
	// with their role and, for a team's member or manager, in their team.
	// Rows that sign the caller out, change their password or remove a
	// member act through fresh members, so that no cell changes an account
	// another cell (or row) uses.
	fresh := func(actor string) Member {
		if actor == "anonymous" {
			return Member{}
		}
		email := fmt.Sprintf("sec-fresh-%d@example.com", clock.Real.Now().UnixNano())
		switch actor {
		case "other org's admin":
			return c.Invite(k.foreign, email, "Fresh B", "admin")
		case "admin":
			return c.Invite(k.admin, email, "Fresh A", "admin")
		}
		team, teamRole, role := map[string]string{"employee": tc.red, "colleague": tc.blue, "manager of the employee's team": tc.red,
			"manager of another team": tc.blue}[actor], "member", "employee"
		if strings.HasPrefix(actor, "manager") {
			teamRole, role = "manager", "manager"
		}
		m := c.Invite(k.admin, email, "Fresh A", role)
		c.Must(200, "PUT", "/teams/"+team+"/members/"+m.ID, k.admin.Token, map[string]any{"role": teamRole})
		return m
	}
	// asFresh acts as a fresh member in the actor's place.
	asFresh := func(path string) func(string) (string, string) {
		return func(actor string) (string, string) { return fresh(actor).Token, path }
	}
	// removeFresh removes a fresh employee of Org A, so that every actor's
	// cell, the other organization's admin's too, names a member who exists.
	removeFresh := func(actor string) (string, string) {
		target := c.Invite(k.admin, fmt.Sprintf("sec-target-%d@a.example", clock.Real.Now().UnixNano()), "Target A", "employee")
		return token[actor], "/users/" + target.ID + "?data=keep"
	}
	password := body(map[string]any{"current_password": "correct horse battery", "new_password": "another long password"})
	// entry is a manual time entry hours before the employee's session,
	// each call's an hour earlier than the last (entries never overlap).
	entries := 0
	entry := func() any {
		entries++
		end := clock.Real.Now().Add(-time.Duration(2+entries) * time.Hour)
		return map[string]any{"start_time": end.Add(-30 * time.Minute).Format(time.RFC3339), "end_time": end.Format(time.RFC3339)}
	}
	// reviewFresh has each cell review a pending entry the employee filed
	// for it.
	reviewFresh := func(verdict string) func(string) (string, string) {
		return func(actor string) (string, string) {
			var tr struct{ ID string }
			c.Must(201, "POST", "/time-requests", k.emp.Token, entry()).Into(t, &tr)
			return token[actor], "/time-requests/" + tr.ID + "/" + verdict
		}
	}
	// signer signs in through the routes that take no token, with every
	// actor's token beside the request (or none).
	signer := c.Invite(k.admin, "sec-signer@a.example", "Signer A", "employee")
	signIn := body(map[string]any{"email": signer.Email, "password": "correct horse battery"})
	newOrganization := func() any {
		return map[string]any{"email": fmt.Sprintf("sec-new-%d@c.example", clock.Real.Now().UnixNano()), "password": "correct horse battery",
			"name": "New Admin", "organization_name": "New Org"}
	}
	acceptInvitation := func() any {
		email := fmt.Sprintf("sec-invited-%d@a.example", clock.Real.Now().UnixNano())
		var inv struct{ Token string }
		c.Must(201, "POST", "/users/invitations", k.admin.Token, map[string]any{"email": email, "role": "employee"}).Into(t, &inv)
		return map[string]any{"email": email, "password": "correct horse battery", "name": "Invited A", "invitation_token": inv.Token}
	}
	refreshToken := func() any {
		var b struct {
			RefreshToken string `json:"refresh_token"`
		}
		c.Must(200, "POST", "/auth/login", "", signIn()).Into(t, &b)
		return map[string]any{"refresh_token": b.RefreshToken}
	}
	unknownEmail := func() any {
		return map[string]any{"email": fmt.Sprintf("sec-nobody-%d@a.example", clock.Real.Now().UnixNano()), "password": "correct horse battery"}
	}
	hookBody := body(map[string]any{"url": "https://hooks.example.com/workpulse", "event_types": []string{"alert.raised"}})
	var hook struct{ ID string }
	c.Must(201, "POST", "/webhooks", k.admin.Token, hookBody()).Into(t, &hook)
	// deleteFreshHook has each cell delete an endpoint of Org A's made for it.
	deleteFreshHook := func(actor string) (string, string) {
		var h struct{ ID string }
		c.Must(201, "POST", "/webhooks", k.admin.Token, hookBody()).Into(t, &h)
		return token[actor], "/webhooks/" + h.ID
	}
	// idle covers the idle heartbeats of the bulk row just before.
	idle := func() any {
		now := clock.Real.Now()
		return map[string]any{"start_time": now.Add(-30 * time.Minute).Format(time.RFC3339), "end_time": now.Add(-12 * time.Minute).Format(time.RFC3339),
			"decision": "keep"}
	}
	rows := []struct {
		method, path string
		body         func() any
		want         [7]int // by actor, in the order above
		// as, when set, gives each cell its own token and path.
		as func(actor string) (token, path string)
	}{
		{"GET", "/auth/.well-known/jwks.json", none, [7]int{200, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/organization", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"PATCH", "/organization", body(map[string]any{"idle_threshold_seconds": 0}), [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"POST", "/organization/adoption-tokens", none, [7]int{401, 403, 403, 403, 403, 201, 201}, nil},
		{"GET", "/users/me", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"PATCH", "/users/me", body(map[string]any{"name": "Renamed Fresh"}), [7]int{401, 200, 200, 200, 200, 200, 200}, asFresh("/users/me")},
		{"GET", "/users/employees", none, [7]int{401, 403, 403, 200, 200, 200, 200}, nil},
		{"GET", "/users", none, [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"PATCH", "/users/" + k.emp.ID, body(map[string]any{"active": true}), [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		// Only the member and an admin export a member's data; not even the
		// manager of their team.
		{"GET", "/users/" + k.emp.ID + "/export", none, [7]int{401, 200, 403, 403, 403, 200, 404}, nil},
		{"POST", "/users/invitations", invite, [7]int{401, 403, 403, 403, 403, 201, 201}, nil},
		{"DELETE", "/users/{fresh member}", none, [7]int{401, 403, 403, 403, 403, 204, 404}, removeFresh},
		// Anyone may ask for a reset; this platform sends no mail, and a
		// made-up link's token is refused alike for everyone.
		{"POST", "/auth/password-reset", body(map[string]any{"email": k.emp.Email}), [7]int{503, 503, 503, 503, 503, 503, 503}, nil},
		{"POST", "/auth/password-reset/confirm", body(map[string]any{"token": "made-up", "new_password": "long enough"}), [7]int{400, 400, 400, 400, 400, 400, 400}, nil},
		// The routes that take no token answer alike whatever token comes
		// along, and about the credentials sent, never the token's holder.
		{"POST", "/auth/register", newOrganization, [7]int{201, 201, 201, 201, 201, 201, 201}, nil},
		{"POST", "/auth/register", acceptInvitation, [7]int{201, 201, 201, 201, 201, 201, 201}, nil},
		{"POST", "/auth/register", body(map[string]any{"email": "sec-forged@a.example", "password": "correct horse battery", "name": "Forged",
			"invitation_token": "made-up"}), [7]int{400, 400, 400, 400, 400, 400, 400}, nil},
		{"POST", "/auth/login", signIn, [7]int{200, 200, 200, 200, 200, 200, 200}, nil},
		{"POST", "/auth/login", unknownEmail, [7]int{401, 401, 401, 401, 401, 401, 401}, nil},
		{"POST", "/auth/refresh", refreshToken, [7]int{200, 200, 200, 200, 200, 200, 200}, nil},
		{"POST", "/auth/refresh", body(map[string]any{"refresh_token": "made-up"}), [7]int{401, 401, 401, 401, 401, 401, 401}, nil},
		// Neither organization has single sign-on, and a callback without
		// its browser's sign-in is refused.
		{"POST", "/auth/sso/start", body(map[string]any{"email": "someone@a.example"}), [7]int{404, 404, 404, 404, 404, 404, 404}, nil},
		{"POST", "/auth/sso/start", body(map[string]any{"organization_id": k.admin.Org}), [7]int{404, 404, 404, 404, 404, 404, 404}, nil},
		{"POST", "/auth/sso/callback", body(map[string]any{"code": "made-up", "state": "made-up"}), [7]int{400, 400, 400, 400, 400, 400, 400}, nil},
		{"GET", "/health", none, [7]int{200, 200, 200, 200, 200, 200, 200}, nil},
		{"POST", "/teams", unique, [7]int{401, 403, 403, 403, 403, 201, 201}, nil},
		{"GET", "/teams", none, [7]int{401, 403, 403, 200, 200, 200, 200}, nil},
		{"GET", "/teams/" + tc.red, none, [7]int{401, 403, 403, 200, 404, 200, 404}, nil},
		{"PATCH", "/teams/" + tc.red, body(map[string]any{"name": "Red"}), [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		{"GET", "/teams/" + tc.red + "/members", none, [7]int{401, 403, 403, 200, 404, 200, 404}, nil},
		{"PUT", "/teams/" + tc.red + "/members/" + k.emp.ID, body(map[string]any{"role": "member"}), [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		{"DELETE", "/teams/" + tc.scratch + "/members/" + k.colleague.ID, none, [7]int{401, 403, 403, 403, 403, 204, 404}, nil},
		{"DELETE", "/teams/" + tc.spare, none, [7]int{401, 403, 403, 403, 403, 204, 404}, nil},
		{"POST", "/projects", unique, [7]int{401, 201, 201, 201, 201, 201, 201}, nil},
		{"GET", "/projects", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"POST", "/projects/" + k.project + "/archive", none, [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		{"POST", "/projects/" + k.project + "/unarchive", none, [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		{"GET", "/sessions/active", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/sessions/today", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/sessions/" + k.session, none, [7]int{401, 200, 404, 200, 404, 200, 404}, nil},
		{"GET", "/sessions/" + tc.colleagueSession, none, [7]int{401, 404, 200, 404, 200, 200, 404}, nil},
		{"GET", "/sessions?user_id=" + k.emp.ID, none, [7]int{401, 200, 403, 200, 403, 200, 200}, nil},
		{"POST", "/sessions/start", none, [7]int{401, 409, 409, 201, 201, 201, 201}, nil},
		{"POST", "/sessions/" + k.session + "/activity", beat, [7]int{401, 201, 404, 404, 404, 404, 404}, nil},
		{"POST", "/sessions/" + k.session + "/activity/bulk", bulk, [7]int{401, 201, 404, 404, 404, 404, 404}, nil},
		// Only the session's owner decides its idle time; whoever sees the
		// session sees the decisions.
		{"POST", "/sessions/" + k.session + "/idle-decisions", idle, [7]int{401, 201, 404, 404, 404, 404, 404}, nil},
		{"GET", "/sessions/" + k.session + "/idle-decisions", none, [7]int{401, 200, 404, 200, 404, 200, 404}, nil},
		{"GET", "/reports/daily?date=" + today, none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/reports/user/" + k.emp.ID + userRange, none, [7]int{401, 200, 403, 200, 403, 200, 404}, nil},
		{"GET", "/reports/user/" + k.colleague.ID + userRange, none, [7]int{401, 403, 200, 403, 200, 200, 404}, nil},
		{"GET", "/reports/organization" + userRange, none, [7]int{401, 403, 403, 200, 200, 200, 200}, nil},
		{"GET", "/reports/payroll" + userRange, none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/alerts", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/alerts?user_id=" + k.emp.ID, none, [7]int{401, 200, 403, 200, 403, 200, 200}, nil},
		{"POST", "/alerts/" + k.session + "/resolve", none, [7]int{401, 404, 404, 404, 404, 404, 404}, nil},
		{"POST", "/jobs/trigger/idle-detection", none, [7]int{401, 403, 403, 403, 403, 202, 202}, nil},
		{"POST", "/jobs/trigger/daily-summary", none, [7]int{401, 403, 403, 403, 403, 202, 202}, nil},
		{"GET", "/jobs/" + k.job, none, [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		{"GET", "/presence", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/ws", none, [7]int{401, 426, 426, 426, 426, 426, 426}, nil},
		{"POST", "/devices", device, [7]int{401, 201, 201, 201, 201, 201, 201}, nil},
		{"GET", "/devices", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"GET", "/devices?user_id=" + k.colleague.ID, none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		// Only the colleague renews their own device (an admin does not).
		{"POST", "/devices/" + colleaguesDevice + "/renew", none, [7]int{401, 404, 200, 404, 404, 404, 404}, nil},
		// The colleague revokes their own device; whoever comes after finds none.
		{"DELETE", "/devices/" + colleaguesDevice, none, [7]int{401, 404, 204, 404, 404, 404, 404}, nil},
		{"GET", "/audit", none, [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"GET", "/organization/redaction-rules", none, [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"GET", "/organization/timesheet-lock", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		// A lock far in the past refuses nothing the other rows post.
		{"PUT", "/organization/timesheet-lock", body(map[string]any{"locked_through": "2020-01-31"}), [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"DELETE", "/organization/timesheet-lock", none, [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"GET", "/categories/rules", none, [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"PUT", "/organization/redaction-rules", body(map[string]any{"rules": []map[string]any{
			{"match": "host", "pattern": "matrix.invalid", "action": "host_only"}}}), [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"PUT", "/categories/rules", body(map[string]any{"rules": []map[string]any{
			{"match": "host", "pattern": "matrix.invalid", "category": "neutral"}}}), [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"GET", "/webhooks", none, [7]int{401, 403, 403, 403, 403, 200, 200}, nil},
		{"POST", "/webhooks", hookBody, [7]int{401, 403, 403, 403, 403, 201, 201}, nil},
		{"PATCH", "/webhooks/" + hook.ID, body(map[string]any{"enabled": true}), [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		{"GET", "/webhooks/" + hook.ID + "/deliveries", none, [7]int{401, 403, 403, 403, 403, 200, 404}, nil},
		{"POST", "/webhooks/" + hook.ID + "/test", none, [7]int{401, 403, 403, 403, 403, 202, 404}, nil},
		{"DELETE", "/webhooks/{fresh endpoint}", none, [7]int{401, 403, 403, 403, 403, 204, 404}, deleteFreshHook},
		// Neither organization has single sign-on; a configuration that
		// does not validate stores nothing.
		{"GET", "/organization/sso", none, [7]int{401, 403, 403, 403, 403, 404, 404}, nil},
		{"PUT", "/organization/sso", body(map[string]any{"issuer_url": "not a url", "client_id": "web", "domains": []string{"a.example"}}),
			[7]int{401, 403, 403, 403, 403, 400, 400}, nil},
		{"DELETE", "/organization/sso", none, [7]int{401, 403, 403, 403, 403, 404, 404}, nil},
		{"POST", "/auth/logout", none, [7]int{401, 204, 204, 204, 204, 204, 204}, asFresh("/auth/logout")},
		{"POST", "/auth/logout-all", none, [7]int{401, 204, 204, 204, 204, 204, 204}, asFresh("/auth/logout-all")},
		{"POST", "/users/me/password", password, [7]int{401, 200, 200, 200, 200, 200, 200}, asFresh("/users/me/password")},
		{"POST", "/time-requests", entry, [7]int{401, 201, 201, 201, 201, 201, 201}, nil},
		{"GET", "/time-requests", none, [7]int{401, 200, 200, 200, 200, 200, 200}, nil},
		{"POST", "/time-requests/{employee's}/approve", none, [7]int{401, 403, 403, 200, 404, 200, 404}, reviewFresh("approve")},
		{"POST", "/time-requests/{employee's}/reject", none, [7]int{401, 403, 403, 200, 404, 200, 404}, reviewFresh("reject")},
		{"POST", "/sessions/" + k.session + "/stop", none, [7]int{401, 0, 404, 404, 404, 404, 404}, nil}, // the owner's stop runs last
	}
	// writes names what each operation that may write changes (tables, or
	// a SELECT of what a refusal must leave alone where other work goes on
	// in the same table): a refused call must change none of it.
	writes := map[string][]string{
		"PATCH /organization":                 {"auth.organizations"},
		"POST /organization/adoption-tokens":  {"auth.adoption_tokens"},
		"PATCH /users/me":                     {"auth.users"},
		"PATCH /users/{id}":                   {"auth.users"},
		"DELETE /users/{id}":                  {"auth.users"},
		"POST /users/invitations":             {"auth.invitations"},
		"POST /users/me/password":             {"auth.users"},
		"POST /auth/register":                 {"auth.organizations", "auth.users", "auth.invitations"},
		"POST /auth/login":                    {"auth.sessions", "auth.refresh_tokens"},
		"POST /auth/refresh":                  {"auth.refresh_tokens"},
		"POST /auth/logout":                   {"auth.sessions"},
		"POST /auth/logout-all":               {"auth.users"},
		"POST /auth/password-reset":           {"auth.password_resets", "auth.mail_outbox"},
		"POST /auth/password-reset/confirm":   {"auth.users", "auth.password_resets"},
		"POST /auth/sso/start":                {"auth.sso_logins"},
		"POST /auth/sso/callback":             {"auth.sso_logins", "auth.users"},
		"PUT /organization/sso":               {"auth.sso_configs", "auth.sso_domains"},
		"DELETE /organization/sso":            {"auth.sso_configs", "auth.sso_domains"},
		"POST /teams":                         {"auth.teams"},
		"PATCH /teams/{id}":                   {"auth.teams"},
		"DELETE /teams/{id}":                  {"auth.teams"},
		"PUT /teams/{id}/members/{userId}":    {"auth.team_members"},
		"DELETE /teams/{id}/members/{userId}": {"auth.team_members"},
		"POST /devices":                       {"auth.devices"},
		"POST /devices/{id}/renew":            {"auth.devices"},
		"DELETE /devices/{id}":                {"auth.devices"},
		"POST /projects":                      {"tracking.projects"},
		"POST /projects/{id}/archive":         {"tracking.projects"},
		"POST /projects/{id}/unarchive":       {"tracking.projects"},
		"POST /sessions/start":                {"tracking.work_sessions"},
		"POST /sessions/{id}/stop":            {"tracking.work_sessions"},
		"POST /sessions/{id}/activity":        {"tracking.activity_logs", "tracking.work_sessions"},
		"POST /sessions/{id}/activity/bulk":   {"tracking.activity_logs", "tracking.work_sessions"},
		"POST /sessions/{id}/idle-decisions":  {"tracking.idle_decisions", "tracking.work_sessions"},
		"POST /time-requests":                 {"tracking.time_requests"},
		"POST /time-requests/{id}/approve":    {"tracking.time_requests", "tracking.work_sessions", "tracking.activity_logs"},
		"POST /time-requests/{id}/reject":     {"tracking.time_requests"},
		"PUT /organization/redaction-rules":   {"tracking.url_redaction"},
		"PUT /organization/timesheet-lock":    {"tracking.timesheet_locks"},
		"DELETE /organization/timesheet-lock": {"tracking.timesheet_locks"},
		"POST /alerts/{id}/resolve":           {"SELECT count(*) FROM reporting.alerts WHERE resolved_at IS NOT NULL"},
		"POST /jobs/trigger/daily-summary":    {"SELECT count(*) FROM reporting.jobs"},
		"POST /jobs/trigger/idle-detection":   {"SELECT count(*) FROM reporting.jobs"},
		"PUT /categories/rules":               {"reporting.category_rules"},
		"POST /webhooks":                      {"reporting.webhook_endpoints"},
		"PATCH /webhooks/{id}":                {"reporting.webhook_endpoints"},
		"DELETE /webhooks/{id}":               {"reporting.webhook_endpoints"},
		"POST /webhooks/{id}/test":            {"SELECT count(*) FROM reporting.webhook_deliveries"},
	}
	// holder is whose token each actor sends: a route that takes none
	// answers about the credentials sent, never about the token's holder.
	holder := map[string]string{"employee": k.emp.ID, "colleague": k.colleague.ID, "manager of the employee's team": tc.lead.ID,
		"manager of another team": tc.otherLead.ID, "admin": k.admin.ID, "other org's admin": k.foreign.ID}
	ops := apiOperations(t)
	db := p.PG.Conn(t)
	covered := map[string]bool{}
	cells := 0
	for _, row := range rows {
		op, ok := operationOf(ops, row.method, row.path)
		if !ok {
			t.Fatalf("%s %s is no operation of the API's document", row.method, row.path)
		}
		covered[op.String()] = true
		sources := writes[op.String()]
		if row.method != "GET" && sources == nil {
			t.Fatalf("%s writes; the matrix must name what, so that its refusals are checked to change nothing", op)
		}
		// still: the last cell was refused and changed nothing, so the
		// sources hold still for the next one.
		still := false
		for i, actor := range actors {
			want := row.want[i]
			if want == 0 {
				continue
			}
			t.Run(fmt.Sprintf("%s %s as %s answers %d", row.method, row.path, actor, want), func(t *testing.T) {
				tok, path := token[actor], row.path
				if row.as != nil {
					tok, path = row.as(actor)
				}
				b := row.body()
				check := want >= 400 && sources != nil
				var before string
				switch {
				case check && still:
					before = fingerprint(t, db, sources)
				case check:
					before = settled(t, db, sources)
				}
				still = false
				r, err := c.Do(row.method, path, tok, b)
				if err != nil {
					t.Fatal(err)
				}
				if r.Status != want {
					t.Fatalf("got %d %s", r.Status, r.Raw)
				}
				if want >= 400 && !strings.Contains(string(r.Raw), `"success":false`) {
					t.Fatalf("a %d without the error envelope: %s", want, r.Raw)
				}
				if check {
					if after := fingerprint(t, db, sources); after != before {
						t.Fatalf("the refused call changed %v", sources)
					}
					still = true
				}
				if op.public {
					if h := holder[actor]; h != "" && strings.Contains(string(r.Raw), h) {
						t.Fatalf("a route that takes no token answered about the token's holder (%s): %s", h, r.Raw)
					}
					return
				}
				// Projects are the organization's, and name their creators.
				shared := strings.HasPrefix(row.path, "/projects")
				if h := hidden[actor]; want < 300 && h != "" && !shared && strings.Contains(string(r.Raw), h) {
					t.Fatalf("%s was shown what they may not see (%s): %s", actor, h, r.Raw)
				}
			})
			cells++
		}
	}
	// Socket.IO: the handshake and the long polls are anyone's; the
	// CONNECT packet's token decides, as the CONNECT_ERROR's code says.
	base := strings.TrimSuffix(p.URL, "/api")
	for _, actor := range actors {
		want := "connected"
		if actor == "anonymous" {
			want = "AUTH_INVALID_TOKEN"
		}
		t.Run(fmt.Sprintf("GET and POST /socket.io/ as %s: %s", actor, want), func(t *testing.T) {
			packets := socketIOConnect(t, base, token[actor])
			if got := socketIOAnswer(t, packets); got != want {
				t.Fatalf("the CONNECT got %s: %q", got, packets)
			}
			if h := hidden[actor]; h != "" && strings.Contains(packets, h) {
				t.Fatalf("%s was sent what they may not see (%s): %q", actor, h, packets)
			}
		})
		cells++
	}
	covered["GET /socket.io/"], covered["POST /socket.io/"] = true, true
	for _, o := range ops {
		if !covered[o.String()] {
			t.Errorf("%s, in the API's document, has no row in the matrix", o)
		}
	}
	c.Must(200, "POST", "/sessions/"+k.session+"/stop", k.emp.Token, map[string]any{})
	t.Logf("%d matrix cells checked", cells+1)
}

// b64 is base64url without padding, as in JWTs.
func b64(v any) string {
	raw, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestTokenAttacksAreRefusedByEveryService(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	k := setupCast(t, p, c)

	// The real signing key, read from the database, forges tokens that are
	// valid in every respect but the one under test.
	var kid string
	var seed []byte
	if err := p.PG.Conn(t).QueryRow(context.Background(),
		"SELECT kid, private_key FROM auth.signing_keys WHERE retire_at > now() ORDER BY retire_at LIMIT 1").Scan(&kid, &seed); err != nil {
		t.Fatal(err)
	}
	real := authn.Signer{Kid: kid, Key: ed25519.NewKeyFromSeed(seed), Issuer: "workpulse", TTL: time.Hour}
	who := authn.Principal{UserID: k.admin.ID, Email: k.admin.Email, OrganizationID: k.admin.Org, Role: "admin"}
	sign := func(s authn.Signer, at time.Time) string {
		tok, err := s.Sign(who, at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	claims := map[string]any{"sub": who.UserID, "organization_id": who.OrganizationID, "role": "admin", "iss": "workpulse",
		"iat": clock.Real.Now().Unix(), "exp": clock.Real.Now().Add(time.Hour).Unix()}
	pub := real.Key.Public().(ed25519.PublicKey)
	hs256 := func(key []byte) string {
		head := b64(map[string]string{"alg": "HS256", "kid": kid, "typ": "JWT"}) + "." + b64(claims)
		m := hmac.New(sha256.New, key)
		m.Write([]byte(head))
		return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}
	stranger := real
	_, stranger.Key, _ = ed25519.GenerateKey(rand.Reader)
	wrongKid := stranger
	wrongKid.Kid = "no-such-kid"
	wrongIssuer := real
	wrongIssuer.Issuer = "someone-else"
	valid := sign(real, clock.Real.Now())
	attacks := map[string]string{
		"alg none":                              b64(map[string]string{"alg": "none", "kid": kid}) + "." + b64(claims) + ".",
		"HS256 keyed with the public key":       hs256(pub),
		"HS256 keyed with the JWK's x":          hs256([]byte(base64.RawURLEncoding.EncodeToString(pub))),
		"another key under the real kid":        sign(stranger, clock.Real.Now()),
		"an unknown kid":                        sign(wrongKid, clock.Real.Now()),
		"expired":                               sign(real, clock.Real.Now().Add(-2*time.Hour)),
		"not valid yet":                         sign(real, clock.Real.Now().Add(time.Hour)),
		"another issuer":                        sign(wrongIssuer, clock.Real.Now()),
		"garbage":                               "garbage.garbage.garbage",
		"a valid token with its signature cut":  valid[:strings.LastIndex(valid, ".")+1],
		"a valid token with a tampered payload": strings.Split(valid, ".")[0] + "." + b64(map[string]any{"sub": who.UserID, "organization_id": k.foreign.Org, "role": "admin", "iss": "workpulse", "exp": clock.Real.Now().Add(time.Hour).Unix()}) + "." + strings.Split(valid, ".")[2],
	}
	endpoints := []struct{ service, method, path string }{
		{"auth", "GET", "/users/employees"},
		{"session", "GET", "/sessions/active"},
		{"ingest", "POST", "/sessions/" + k.session + "/activity"},
		{"report", "GET", "/alerts"},
		{"realtime", "GET", "/presence"},
		{"realtime", "GET", "/ws"},
	}
	for _, e := range endpoints {
		if r, _ := c.Do(e.method, e.path, valid, nil); r.Status == 401 {
			t.Fatalf("the control token was refused by %s: %s", e.service, r.Raw)
		}
		for name, tok := range attacks {
			t.Run(fmt.Sprintf("%s refuses %s", e.service, name), func(t *testing.T) {
				r, err := c.Do(e.method, e.path, tok, nil)
				if err != nil || r.Status != 401 {
					t.Fatalf("got %v %d %s; want 401", err, r.Status, r.Raw)
				}
				if code := r.Code(); code != "AUTH_INVALID_TOKEN" && code != "AUTH_TOKEN_EXPIRED" {
					t.Fatalf("code %q", code)
				}
			})
		}
	}
}

func TestInputAttacksGetClearErrorsAndChangeNothing(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	k := setupCast(t, p, c)
	db := p.PG.Conn(t)
	snapshot := func() string {
		var s string
		if err := db.QueryRow(context.Background(), `SELECT format('%s/%s/%s/%s/%s/%s',
			(SELECT count(*) FROM auth.users), (SELECT count(*) FROM auth.organizations), (SELECT count(*) FROM tracking.projects),
			(SELECT count(*) FROM tracking.activity_logs), (SELECT sum(total_active_seconds + total_idle_seconds) FROM tracking.work_sessions),
			(SELECT count(*) FROM tracking.work_sessions))`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	long := strings.Repeat("A", 100_000)
	sqlish := `x'); DROP TABLE tracking.work_sessions; --`
	nested := strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000)
	at := func(ts time.Time, dur int) map[string]any {
		return map[string]any{"activity_type": "active", "duration_seconds": dur, "timestamp": ts.UTC().Format(time.RFC3339)}
	}
	huge := make([]map[string]any, 5000)
	for i := range huge {
		huge[i] = map[string]any{"client_activity_id": fmt.Sprint(i), "activity_type": "active", "duration_seconds": 1, "timestamp": clock.Real.Now().UTC().Format(time.RFC3339)}
	}
	act := "/sessions/" + k.session + "/activity"
	cases := []struct {
		name, method, path, token string
		body                      any
	}{
		{"A very long email at registration", "POST", "/auth/register", "", map[string]any{"email": long + "@x.io", "password": "correct horse", "name": "Nn", "organization_name": "O"}},
		{"SQL in the email at login", "POST", "/auth/login", "", map[string]any{"email": sqlish, "password": "correct horse"}},
		{"A very long project name", "POST", "/projects", k.emp.Token, map[string]any{"name": long}},
		{"A project name of whitespace", "POST", "/projects", k.emp.Token, map[string]any{"name": "   "}},
		{"Deeply nested JSON", "POST", "/projects", k.emp.Token, nested},
		{"Invalid UTF-8", "POST", "/projects", k.emp.Token, []byte("{\"name\":\"\xff\xfe\"}")},
		{"A body that is not JSON", "POST", "/sessions/start", k.emp.Token, "start_time=now"},
		{"A negative duration", "POST", act, k.emp.Token, at(clock.Real.Now().Add(-time.Minute), -30)},
		{"An enormous duration", "POST", act, k.emp.Token, at(clock.Real.Now().Add(-time.Minute), 1<<40)},
		{"A duration that is a string", "POST", act, k.emp.Token, map[string]any{"activity_type": "active", "duration_seconds": "30"}},
		{"An unknown activity type", "POST", act, k.emp.Token, map[string]any{"activity_type": "'; DELETE FROM tracking.activity_logs; --", "duration_seconds": 30}},
		{"A timestamp far in the future", "POST", act, k.emp.Token, at(clock.Real.Now().AddDate(50, 0, 0), 30)},
		{"A timestamp far in the past", "POST", act, k.emp.Token, at(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), 30)},
		{"A malformed timestamp", "POST", act, k.emp.Token, map[string]any{"activity_type": "active", "duration_seconds": 30, "timestamp": "yesterday"}},
		{"A very long URL", "POST", act, k.emp.Token, map[string]any{"activity_type": "active", "duration_seconds": 30, "url": "https://x.io/" + long}},
		{"A huge bulk array", "POST", act + "/bulk", k.emp.Token, map[string]any{"activities": huge}},
		{"A bulk that is a number", "POST", act + "/bulk", k.emp.Token, "42"},
		{"A session id that is SQL", "POST", "/sessions/" + "1%27%20OR%20%271%27%3D%271" + "/activity", k.emp.Token, at(clock.Real.Now(), 30)},
		{"A report range that is backwards", "GET", "/reports/organization?startDate=2026-02-01&endDate=2026-01-01", k.admin.Token, nil},
		{"A report date that is SQL", "GET", "/reports/daily?date=" + "2026-01-01%27%3B--", k.emp.Token, nil},
		{"An alert filter of an unknown type", "GET", "/alerts?type=%27%20OR%201%3D1", k.admin.Token, nil},
	}
	before := snapshot()
	for _, cs := range cases {
		t.Run(cs.name+" is refused with a 4xx envelope", func(t *testing.T) {
			r, err := c.Do(cs.method, cs.path, cs.token, cs.body)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status < 400 || r.Status >= 500 || !strings.Contains(string(r.Raw), `"success":false`) || r.Code() == "" {
				t.Fatalf("got %d %.300s; want a 4xx in the error envelope", r.Status, r.Raw)
			}
		})
	}
	if after := snapshot(); after != before {
		t.Fatalf("refused requests changed data: before %s, after %s", before, after)
	}
	t.Logf("%d malicious inputs refused; nothing changed", len(cases))
}

func TestRowLevelSecurityHidesTenantRowsFromEveryServiceRole(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	k := setupCast(t, p, c)
	c.Agent(k.emp, NewLedger()).Single(k.session, Heartbeats(clock.Real.Now().Add(-5*time.Minute), 1, 30, "active")[0])
	db := p.PG.Conn(t)
	ctx := context.Background()
	rows, err := db.Query(ctx, `SELECT r.rolname, format('%I.%I', n.nspname, t.relname)
		FROM pg_class t JOIN pg_namespace n ON n.oid = t.relnamespace CROSS JOIN pg_roles r
		WHERE t.relrowsecurity AND t.relkind IN ('r', 'p') AND n.nspname IN ('auth', 'tracking', 'reporting')
		  AND r.rolname LIKE 'workpulse\_%' AND has_table_privilege(r.rolname, t.oid, 'SELECT')
		ORDER BY 1, 2`)
	if err != nil {
		t.Fatal(err)
	}
	type grant struct{ role, table string }
	grants, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (grant, error) {
		var g grant
		return g, r.Scan(&g.role, &g.table)
	})
	if err != nil || len(grants) < 10 {
		t.Fatalf("found %d (role, tenant table) pairs (%v); want every service role's tenant tables", len(grants), err)
	}
	count := func(g grant, org string) int {
		var n int
		err := pgx.BeginFunc(ctx, db, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SET LOCAL ROLE "+pgx.Identifier{g.role}.Sanitize()); err != nil {
				return err
			}
			if org != "" {
				if _, err := tx.Exec(ctx, "SELECT set_config('app.org_id', $1, true)", org); err != nil {
					return err
				}
			}
			return tx.QueryRow(ctx, "SELECT count(*) FROM "+g.table).Scan(&n)
		})
		if err != nil {
			t.Fatalf("%s reading %s: %v", g.role, g.table, err)
		}
		return n
	}
	visibleWithOrg := 0
	for _, g := range grants {
		if n := count(g, ""); n != 0 {
			t.Errorf("%s sees %d rows of %s with no organization set", g.role, n, g.table)
		}
		if n := count(g, "00000000-0000-4000-8000-000000000000"); n != 0 {
			t.Errorf("%s sees %d rows of %s with another organization set", g.role, n, g.table)
		}
		if count(g, k.admin.Org) > 0 {
			visibleWithOrg++
		}
	}
	if visibleWithOrg == 0 {
		t.Fatal("no role sees any row even with the right organization set: the check proves nothing")
	}
	t.Logf("%d (role, table) pairs checked; %d show rows only with the right organization", len(grants), visibleWithOrg)
}

// TestADeactivatedMembersTokenIsRefusedByEveryServiceWithinSeconds uses an
// employee's token on every service, has the admin deactivate them, and
// uses it again: it worked until it expired (24 hours by default then).
func TestADeactivatedMembersTokenIsRefusedByEveryServiceWithinSeconds(t *testing.T) {
	p := StartPlatform(t)
	c := p.Client(t)
	k := setupCast(t, p, c)
	today := clock.Real.Now().UTC().Format(time.DateOnly)
	beat := func() any { return Heartbeats(clock.Real.Now().Add(-10*time.Minute), 1, 5, "active")[0] }
	endpoints := []struct {
		service, method, path string
		body                  func() any
	}{
		{"auth", "GET", "/users/me", nil},
		{"session", "GET", "/sessions/active", nil},
		{"ingest", "POST", "/sessions/" + k.session + "/activity", beat},
		{"report", "GET", "/reports/daily?date=" + today, nil},
		{"realtime", "GET", "/presence", nil},
		{"realtime", "GET", "/ws", nil},
	}
	call := func(i int) Resp {
		var body any
		if endpoints[i].body != nil {
			body = endpoints[i].body()
		}
		r, err := c.Do(endpoints[i].method, endpoints[i].path, k.emp.Token, body)
		if err != nil {
			t.Fatalf("%s: %v", endpoints[i].service, err)
		}
		return r
	}
	for i, e := range endpoints {
		if r := call(i); r.Status == 401 || r.Status == 403 {
			t.Fatalf("before the deactivation %s refused the token: %d %s", e.service, r.Status, r.Raw)
		}
	}
	c.Must(200, "PATCH", "/users/"+k.emp.ID, k.admin.Token, map[string]any{"active": false})
	start := clock.Start()
	for i, e := range endpoints {
		testkit.Eventually(t, 5*time.Second, e.service+" refuses the deactivated member", func() bool {
			r := call(i)
			return r.Status == 403 && r.Code() == "AUTH_ACCOUNT_DISABLED"
		})
	}
	t.Logf("every service refused the token %s after the deactivation", start.Elapsed())
}
