package session

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
)

// TestStartsAndStopsInALockedDayAreRefused locks an organization's days
// through 13 June (UTC) as ingest would, and starts and stops sessions on
// both sides of the lock's end.
func TestStartsAndStopsInALockedDayAreRefused(t *testing.T) {
	h := newHarness(t)
	starter, stopper, _ := h.team(authn.RoleEmployee, authn.RoleEmployee)
	end := time.Date(2027, 6, 14, 0, 0, 0, 0, time.UTC)
	ctx := context.Background()
	if _, err := h.db.Owner.Exec(ctx, `INSERT INTO tracking.timesheet_locks (organization_id, locked_through, locked_until, time_zone, locked_by, locked_at)
		VALUES ($1, '2027-06-13', $2, 'UTC', $3, $4)`, starter.OrganizationID, end, uuid.NewString(), h.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// A session of the locked day still running, as one left open overnight.
	open := uuid.NewString()
	if _, err := h.db.Owner.Exec(ctx, "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active')",
		open, stopper.OrganizationID, stopper.UserID, end.Add(-3*time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		token  string
		path   string
		body   any
		status int
	}{
		{"A start a second before the lock's end is refused.", starter.Token, "/api/sessions/start", map[string]any{"start_time": rfc(end.Add(-time.Second))}, http.StatusConflict},
		{"A stop a second before the lock's end is refused.", stopper.Token, "/api/sessions/" + open + "/stop", map[string]any{"end_time": rfc(end.Add(-time.Second))}, http.StatusConflict},
		{"A start at the lock's end is allowed.", starter.Token, "/api/sessions/start", map[string]any{"start_time": rfc(end)}, http.StatusCreated},
		{"A stop at the lock's end is allowed, though the session started in a locked day.", stopper.Token, "/api/sessions/" + open + "/stop",
			map[string]any{"end_time": rfc(end)}, http.StatusOK},
	} {
		status, raw := h.do(http.MethodPost, tc.token, tc.path, tc.body, nil)
		if status != tc.status {
			t.Errorf("%s: status %d %s, want %d", tc.name, status, raw, tc.status)
			continue
		}
		if status == http.StatusConflict && (errorCode(t, raw) != "DAY_LOCKED" || !strings.Contains(string(raw), "locked up to and including 2027-06-13 (UTC)")) {
			t.Errorf("%s: %s, want DAY_LOCKED naming the lock", tc.name, raw)
		}
	}
}
