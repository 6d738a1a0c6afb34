package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/test/testkit"
)

// seedMonths stores, for org, one of each kind of row per month from
// first for n months: an activity with its dedup key, a stopped session,
// a summary, an alert and an audit log entry, all dated on the 15th at
// noon.
func seedMonths(t *testing.T, db *testkit.DB, org string, first time.Time, n int) {
	t.Helper()
	ctx := context.Background()
	user := uuid.NewString()
	for i := range n {
		at := first.AddDate(0, i, 14).Add(12 * time.Hour)
		if _, err := db.Owner.Exec(ctx, "SELECT tracking.ensure_month_partition('activity_logs_shared', $1::date)", at); err != nil {
			t.Fatal(err)
		}
		sess, act := uuid.NewString(), uuid.NewString()
		for _, row := range []struct {
			sql  string
			args []any
		}{
			{`INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status)
			  VALUES ($1, $2, $3, $4, $4::timestamptz + interval '1 hour', 'stopped')`, []any{sess, org, user, at}},
			{`INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type, duration_seconds)
			  VALUES ($1::uuid, $2, $3, $4, $1::text, $5, 'active', 30)`, []any{act, org, sess, user, at}},
			{`INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)
			  VALUES ($1, $2::text, $3, $2::uuid, $4)`, []any{user, act, org, at}},
			{`INSERT INTO reporting.daily_summaries (organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds, productivity_score, sessions_count, app_usage)
			  VALUES ($1, $2, $3::timestamptz::date, 30, 30, 0, 100, 1, '[]')`, []any{org, user, at}},
			{`INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message, local_date, created_at)
			  VALUES (gen_random_uuid(), $1, $2, $3, 'overtime', 'x', $4::timestamptz::date, $4)`, []any{org, user, sess, at}},
			{`INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id)
			  VALUES (gen_random_uuid(), $1, $2, $3, 'user.role_changed', 'user', $3)`, []any{org, at, user}},
		} {
			if _, err := db.Owner.Exec(ctx, row.sql, row.args...); err != nil {
				t.Fatalf("%s: %v", row.sql, err)
			}
		}
	}
}

// rowsOf counts org's rows in each table retention deletes from.
func rowsOf(t *testing.T, db *testkit.DB, org string) map[string]int64 {
	t.Helper()
	out := map[string]int64{}
	for _, table := range []string{"tracking.activity_logs", "tracking.activity_dedup", "tracking.work_sessions", "reporting.daily_summaries", "reporting.alerts", "auth.audit_log"} {
		var n int64
		if err := db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM "+table+" WHERE organization_id = $1", org).Scan(&n); err != nil {
			t.Fatal(err)
		}
		out[table] = n
	}
	return out
}

func TestRetentionDeletesExactlyTheMonthsAnOrganizationNoLongerKeepsAndNothingOfAnother(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	// 10 December 2026: a retention of 3 months keeps October to December.
	clk := testkit.NewClock(time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC))
	m := &storage.Maintainer{DB: db.Owner, Clock: clk, Policy: storage.Policy{Premake: 4, Window: storage.Window(30)}}
	keeper, neighbour, unset := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, org := range []string{keeper, neighbour, unset} {
		seedMonths(t, db, org, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 12)
	}
	for org, months := range map[string]int{keeper: 3, neighbour: 10} {
		if _, err := db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, retention_months) VALUES ($1, $2)", org, months); err != nil {
			t.Fatal(err)
		}
	}

	got, err := m.ApplyRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct {
		cutoff string
		left   int64
	}{
		keeper:    {"2026-10", 3},
		neighbour: {"2026-03", 10},
		unset:     {"", 12}, // the installation's retention: not this pass's
	}
	if len(got) != 2 {
		t.Errorf("retention ran for %d organizations, want the 2 with their own", len(got))
	}
	for _, r := range got {
		if r.Cutoff.String() != want[r.OrganizationID].cutoff {
			t.Errorf("%s: cutoff %s, want %s", r, r.Cutoff, want[r.OrganizationID].cutoff)
		}
		for table, n := range r.Deleted {
			if n != 12-want[r.OrganizationID].left {
				t.Errorf("%s: %d deleted from %s, want %d", r.OrganizationID, n, table, 12-want[r.OrganizationID].left)
			}
		}
	}
	for org, w := range want {
		for table, n := range rowsOf(t, db, org) {
			if n != w.left {
				t.Errorf("organization keeping %q: %d rows left in %s, want %d", w.cutoff, n, table, w.left)
			}
		}
	}
	if again, err := m.ApplyRetention(ctx); err != nil || again[0].Deleted["tracking.activity_logs"] != 0 {
		t.Errorf("a second pass: %v %v, want nothing deleted", again, err)
	}
}

func TestRetentionNeverDeletesInsideTheAcceptedWindow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		now       time.Time
		retention int
		window    int
		want      string
	}{
		{"One month kept on 1 March still keeps the end of January the window accepts.", time.Date(2027, 3, 1, 6, 0, 0, 0, time.UTC), 1, 30, "2027-01"},
		{"One month kept mid-month keeps the current month only.", time.Date(2027, 3, 20, 6, 0, 0, 0, time.UTC), 1, 10, "2027-03"},
		{"Twelve months kept on 5 December keep January on.", time.Date(2027, 12, 5, 6, 0, 0, 0, time.UTC), 12, 30, "2027-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := storage.RetentionCutoff(c.now, c.retention, storage.Window(c.window)); got.String() != c.want {
				t.Errorf("cutoff %s, want %s", got, c.want)
			}
		})
	}
}
