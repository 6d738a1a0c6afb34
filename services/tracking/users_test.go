package tracking_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestARemovedMembersActivityAndDedupKeysAreErasedByIngest applies
// user.removed as ingest's consumer does, as its role: only the removed
// member's rows go, and only when the admin chose to erase them.
func TestARemovedMembersActivityAndDedupKeysAreErasedByIngest(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	at := time.Date(2027, 6, 1, 9, 0, 0, 0, time.UTC)
	db.EnsureActivityMonth(t, at)
	org, otherOrg := uuid.NewString(), uuid.NewString()
	gone, stays, elsewhere := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, m := range []struct{ org, id string }{{org, gone}, {org, stays}, {otherOrg, elsewhere}} {
		sess, act := uuid.NewString(), uuid.NewString()
		for _, row := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, status) VALUES ($1, $2, $3, $4, 'active')`,
				[]any{sess, m.org, m.id, at}},
			{`INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type, duration_seconds)
				VALUES ($1, $2, $3, $4, 'c-1', $5, 'active', 30)`, []any{act, m.org, sess, m.id, at}},
			{`INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at) VALUES ($1, 'c-1', $2, $3, $4)`,
				[]any{m.id, m.org, act, at}},
		} {
			if _, err := db.Owner.Exec(ctx, row.sql, row.args...); err != nil {
				t.Fatalf("%s: %v", row.sql, err)
			}
		}
	}
	held := func(user string) (n int) {
		t.Helper()
		if err := db.Owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM tracking.activity_logs WHERE user_id = $1)
			+ (SELECT count(*) FROM tracking.activity_dedup WHERE user_id = $1)`, user).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	pool := db.Pool(t, "workpulse_ingest")
	remove := func(eventOrg string, erase bool) {
		t.Helper()
		ev, err := events.New(at, "auth", events.TypeUserRemoved, eventOrg, gone, events.UserRemoved{UserID: gone, OrganizationID: eventOrg, EraseData: erase})
		if err != nil {
			t.Fatal(err)
		}
		// Delivered twice: the second is absorbed.
		for range 2 {
			if err := tracking.ApplyUserEvent(ctx, pool, "ingest-users", tracking.EraseActivity, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	steps := []struct {
		name  string
		apply func()
		want  map[string]int
	}{
		{"A removal that keeps the data keeps the activity and the dedup key.", func() { remove(org, false) },
			map[string]int{gone: 2, stays: 2, elsewhere: 2}},
		{"An erasure named for another organization touches nothing of this one.", func() { remove(otherOrg, true) },
			map[string]int{gone: 2, stays: 2, elsewhere: 2}},
		{"An erasure deletes the member's rows and nobody else's.", func() { remove(org, true) },
			map[string]int{gone: 0, stays: 2, elsewhere: 2}},
	}
	for _, s := range steps {
		s.apply()
		for user, want := range s.want {
			if got := held(user); got != want {
				t.Errorf("%s %s holds %d rows, want %d", s.name, user, got, want)
			}
		}
	}
}
