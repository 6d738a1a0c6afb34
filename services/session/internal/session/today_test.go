package session

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/tracking"
)

// TestTodaysSessionsAreTheOrganizationsDayInItsZoneAndTheRunningOnes
// stands the clock at 05:30 in New York (09:30 UTC): "today" began at
// 04:00 UTC there, so a session of 03:30 UTC is yesterday's, and a session
// running since two days ago is on the board all the same.
func TestTodaysSessionsAreTheOrganizationsDayInItsZoneAndTheRunningOnes(t *testing.T) {
	h := newHarness(t)
	m, admin, stranger := h.team(authn.RoleEmployee, authn.RoleAdmin)
	colleague := h.member(m.OrganizationID, authn.RoleEmployee)
	ctx := context.Background()
	if _, err := h.db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, time_zone) VALUES ($1, 'America/New_York')", m.OrganizationID); err != nil {
		t.Fatal(err)
	}
	day := time.Date(2027, 6, 15, 0, 0, 0, 0, time.UTC)
	insert := func(who member, start time.Time, status string) string {
		t.Helper()
		id := uuid.NewString()
		var end *time.Time
		if status == tracking.StatusStopped {
			e := start.Add(20 * time.Minute)
			end = &e
		}
		if _, err := h.db.Owner.Exec(ctx, "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status) VALUES ($1, $2, $3, $4, $5, $6)",
			id, who.OrganizationID, who.UserID, start, end, status); err != nil {
			t.Fatal(err)
		}
		return id
	}
	var mine, theirs, admins []string
	for i := range 3 {
		mine = append(mine, insert(m, day.Add(4*time.Hour+time.Duration(i)*30*time.Minute), tracking.StatusStopped))
		admins = append(admins, insert(admin, day.Add(4*time.Hour+time.Duration(i)*25*time.Minute), tracking.StatusStopped))
	}
	insert(m, day.Add(3*time.Hour+30*time.Minute), tracking.StatusStopped)
	theirs = append(theirs, insert(colleague, day.AddDate(0, 0, -2), tracking.StatusActive))
	insert(colleague, day.AddDate(0, 0, -1), tracking.StatusStopped)
	strangersOwn := insert(stranger, day.Add(5*time.Hour), tracking.StatusStopped)

	// list walks every page of limit and returns the sessions' ids in order.
	list := func(token string, limit string) []string {
		t.Helper()
		var ids []string
		cursor := ""
		for range 20 {
			var got []tracking.Session
			status, next := h.getPage(token, "/api/sessions/today?limit="+limit+cursor, &got)
			if status != http.StatusOK {
				t.Fatalf("status %d", status)
			}
			for _, s := range got {
				ids = append(ids, s.ID)
			}
			if next == "" {
				return ids
			}
			cursor = "&cursor=" + next
		}
		t.Fatal("the pages never end")
		return nil
	}
	// The listing's order is by person, then by session.
	everyone := slices.Concat(mine, theirs, admins)
	owner := map[string]string{}
	for _, id := range mine {
		owner[id] = m.UserID
	}
	for _, id := range admins {
		owner[id] = admin.UserID
	}
	owner[theirs[0]] = colleague.UserID
	slices.SortFunc(everyone, func(a, b string) int {
		if c := strings.Compare(owner[a], owner[b]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	slices.Sort(mine)
	strangers := []string{strangersOwn}

	for _, tc := range []struct {
		name  string
		token string
		limit string
		want  []string
	}{
		{"An admin gets the organization's sessions of today and the running one in one page.", admin.Token, "500", everyone},
		{"An admin walking pages of two gets the same sessions in the same order.", admin.Token, "2", everyone},
		{"An employee gets only their own sessions of today.", m.Token, "500", mine},
		{"An admin of another organization gets only that organization's session, of its UTC day.", stranger.Token, "500", strangers},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := list(tc.token, tc.limit)
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v; want %v", got, tc.want)
			}
		})
	}
	for _, tc := range []struct {
		name, query string
	}{
		{"A limit over 500 is refused.", "?limit=501"},
		{"A cursor this API did not return is refused.", "?cursor=zzz"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, raw := h.do(http.MethodGet, admin.Token, "/api/sessions/today"+tc.query, nil, nil); status != http.StatusBadRequest || errorCode(t, raw) != "VALIDATION_FAILED" {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
}
