package session

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestARemovedMembersActiveSessionStopsAndAnErasureDeletesTheirSessions
// applies user.removed as session's consumer does, as its role.
func TestARemovedMembersActiveSessionStopsAndAnErasureDeletesTheirSessions(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	at := time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC)
	clk := testkit.NewClock(at.Add(time.Hour))
	pool := db.Pool(t, "workpulse_session")
	org := uuid.NewString()
	kept, erased, colleague := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, user := range []string{kept, erased, colleague} {
		for _, status := range []string{"stopped", "active"} {
			end := &at
			if status == "active" {
				end = nil
			}
			if _, err := db.Owner.Exec(ctx, `INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status)
				VALUES ($1, $2, $3, $4, $5, $6)`, uuid.NewString(), org, user, at.Add(-time.Hour), end, status); err != nil {
				t.Fatal(err)
			}
		}
	}
	sessions := func(user string) (active, all int) {
		t.Helper()
		if err := db.Owner.QueryRow(ctx, "SELECT count(*) FILTER (WHERE status = 'active'), count(*) FROM tracking.work_sessions WHERE user_id = $1",
			user).Scan(&active, &all); err != nil {
			t.Fatal(err)
		}
		return active, all
	}
	stopped := func(user string) (n int) {
		t.Helper()
		if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM tracking.outbox WHERE payload->>'type' = 'session.stopped' AND key = $1",
			user).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, tc := range []struct {
		name              string
		user              string
		erase             bool
		wantActive, wantN int
	}{
		{"A removal that keeps the data stops the active session and keeps both.", kept, false, 0, 2},
		{"An erasure stops the active session and deletes both.", erased, true, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := events.New(at, "auth", events.TypeUserRemoved, org, tc.user, events.UserRemoved{UserID: tc.user, OrganizationID: org, EraseData: tc.erase})
			if err != nil {
				t.Fatal(err)
			}
			// Delivered twice: the second is absorbed.
			for range 2 {
				if err := tracking.ApplyUserEvent(ctx, pool, "session-users", MemberRemover(pool, clk), ev); err != nil {
					t.Fatal(err)
				}
			}
			if active, all := sessions(tc.user); active != tc.wantActive || all != tc.wantN {
				t.Errorf("%d active of %d sessions left; want %d of %d", active, all, tc.wantActive, tc.wantN)
			}
			if n := stopped(tc.user); n != 1 {
				t.Errorf("%d session.stopped events; want 1 for the board and the reports", n)
			}
		})
	}
	if active, all := sessions(colleague); active != 1 || all != 2 {
		t.Errorf("the colleague has %d active of %d sessions; want 1 of 2", active, all)
	}
}
