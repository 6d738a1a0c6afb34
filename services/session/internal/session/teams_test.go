package session

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/tracking"
)

func TestAManagerSeesTheSessionsOfTheirTeamsMembersOnly(t *testing.T) {
	h := newHarness(t)
	lead := h.member("", authn.RoleManager)
	org := lead.OrganizationID
	ann, outsider := h.member(org, authn.RoleEmployee), h.member(org, authn.RoleEmployee)
	h.teams.Manage(t, org, lead.UserID, ann.UserID)
	session := func(m member) string {
		id := uuid.NewString()
		start := harnessInstant.Add(-2 * time.Hour)
		if _, err := h.db.Owner.Exec(context.Background(), "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status) VALUES ($1, $2, $3, $4, $5, 'stopped')",
			id, org, m.UserID, start, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	annSession, outsiderSession := session(ann), session(outsider)

	for _, tc := range []struct {
		name, token, path string
		status            int
	}{
		{"A manager lists the sessions of a member of their team.", lead.Token, "/api/sessions?user_id=" + ann.UserID, http.StatusOK},
		{"A manager may not list the sessions of someone outside their teams.", lead.Token, "/api/sessions?user_id=" + outsider.UserID, http.StatusForbidden},
		{"A manager reads a session of a member of their team.", lead.Token, "/api/sessions/" + annSession, http.StatusOK},
		{"A manager does not find a session of someone outside their teams.", lead.Token, "/api/sessions/" + outsiderSession, http.StatusNotFound},
		{"An employee does not find a colleague's session.", ann.Token, "/api/sessions/" + outsiderSession, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, raw := h.do(http.MethodGet, tc.token, tc.path, nil, nil); status != tc.status {
				t.Fatalf("status %d: %s", status, raw)
			}
		})
	}
	var page sessionPage
	if status, raw := h.do(http.MethodGet, lead.Token, "/api/sessions?user_id="+ann.UserID, nil, &page); status != http.StatusOK || len(page.Sessions) != 1 || page.Sessions[0].ID != annSession {
		t.Fatalf("the team member's sessions: %d %s", status, raw)
	}

	var today []tracking.Session
	if status, raw := h.do(http.MethodGet, lead.Token, "/api/sessions/today", nil, &today); status != http.StatusOK || len(today) != 1 || today[0].ID != annSession {
		t.Fatalf("the manager's board of today: %d %s", status, raw)
	}

	// Ann leaves the team: from the next poll her sessions are hidden again.
	h.teams.Manage(t, org, lead.UserID)
	if status, raw := h.do(http.MethodGet, lead.Token, "/api/sessions/"+annSession, nil, nil); status != http.StatusNotFound {
		t.Fatalf("a former team member's session: %d %s", status, raw)
	}
}
