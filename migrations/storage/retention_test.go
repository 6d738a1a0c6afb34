package storage_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
	// 10 December 2026: a retention of 3 months keeps October to December,
	// the installation's 11 February to December.
	clk := testkit.NewClock(time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC))
	m := &storage.Maintainer{DB: db.Owner, Clock: clk, Policy: storage.Policy{Premake: 4, Window: storage.Window(30), Retention: 11}}
	keeper, neighbour, unset := uuid.NewString(), uuid.NewString(), uuid.NewString()
	for _, org := range []string{keeper, neighbour, unset} {
		seedMonths(t, db, org, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 12)
	}
	for org, months := range map[string]int{keeper: 3, neighbour: 10} {
		if _, err := db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, retention_months) VALUES ($1, $2)", org, months); err != nil {
			t.Fatal(err)
		}
	}
	// A self-registered organization that never changed its settings:
	// auth knows it, tracking has no row of its settings.
	if _, err := db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name) VALUES ($1, 'Unset')", unset); err != nil {
		t.Fatal(err)
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
		unset:     {"2026-02", 11}, // the installation's retention
	}
	if len(got) != 3 {
		t.Errorf("retention ran for %d organizations, want all 3", len(got))
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
	if again, err := m.ApplyRetention(ctx); err != nil || len(again) != 0 {
		t.Errorf("a second pass: %v %v, want nothing due", again, err)
	}
}

func TestAnOrganizationKeepsWholeMonthsOfItsOwnCalendar(t *testing.T) {
	t.Parallel()
	zone := func(name string) *time.Location {
		l, err := time.LoadLocation(name)
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	ny, auckland, berlin, asuncion := zone("America/New_York"), zone("Pacific/Auckland"), zone("Europe/Berlin"), zone("America/Asuncion")
	day := 24 * time.Hour
	cases := []struct {
		name      string
		now       time.Time
		zone      *time.Location
		retention int
		window    time.Duration
		want      time.Time
	}{
		{"In UTC three months kept on 14 May start on 1 March.",
			time.Date(2027, 5, 14, 12, 0, 0, 0, time.UTC), time.UTC, 3, 30 * day, time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC)},
		{"In New York on the evening of 31 May, already June in UTC, May is the current month, so March's last hours stay.",
			time.Date(2027, 6, 1, 2, 0, 0, 0, time.UTC), ny, 3, 30 * day, time.Date(2027, 3, 1, 5, 0, 0, 0, time.UTC)},
		{"In New York an hour after local midnight of 1 June, April becomes the oldest month.",
			time.Date(2027, 6, 1, 5, 0, 0, 0, time.UTC), ny, 3, 30 * day, time.Date(2027, 4, 1, 4, 0, 0, 0, time.UTC)},
		{"In Berlin in summer time the oldest month starts at 22:00 UTC the day before.",
			time.Date(2027, 10, 15, 1, 30, 0, 0, time.UTC), berlin, 3, 30 * day, time.Date(2027, 7, 31, 22, 0, 0, 0, time.UTC)},
		{"In Auckland on the morning of 1 June, still 31 May in UTC, June is the current month.",
			time.Date(2027, 5, 31, 20, 0, 0, 0, time.UTC), auckland, 1, 0, time.Date(2027, 5, 31, 12, 0, 0, 0, time.UTC)},
		{"A retention of one month in Auckland across New Year starts on 31 December at 11:00 UTC.",
			time.Date(2027, 1, 20, 0, 0, 0, 0, time.UTC), auckland, 1, 10 * day, time.Date(2026, 12, 31, 11, 0, 0, 0, time.UTC)},
		{"Where the clocks jumped over midnight of 1 October the month starts at the jump.",
			time.Date(2023, 12, 15, 12, 0, 0, 0, time.UTC), asuncion, 3, 30 * day, time.Date(2023, 10, 1, 4, 0, 0, 0, time.UTC)},
		{"One month kept on the morning of 1 March still keeps the end of January the window accepts.",
			time.Date(2027, 3, 1, 6, 0, 0, 0, time.UTC), time.UTC, 1, 30 * day, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"In Auckland the window's oldest local month starts in the UTC month before it.",
			time.Date(2027, 3, 1, 6, 0, 0, 0, time.UTC), auckland, 1, 30 * day, time.Date(2026, 12, 31, 11, 0, 0, 0, time.UTC)},
		{"Twelve months kept on 5 December keep January on.",
			time.Date(2027, 12, 5, 6, 0, 0, 0, time.UTC), time.UTC, 12, 30 * day, time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := storage.RetentionKeepFrom(c.now, c.zone, c.retention, c.window); !got.Equal(c.want) {
				t.Errorf("kept from %s, want %s", got.UTC(), c.want)
			}
		})
	}
}

func TestRetentionEndsOnTheOrganizationsOwnLocalMonthStart(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, zone string
		now        time.Time
		retention  int
		// keepFrom is the first instant kept; firstDay the first local
		// date whose summary is kept.
		keepFrom time.Time
		firstDay string
	}{
		{"In Auckland October begins at 11:00 UTC on 30 September, and that hour is kept with 1 October's summary.",
			"Pacific/Auckland", time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC), 3, time.Date(2026, 9, 30, 11, 0, 0, 0, time.UTC), "2026-10-01"},
		{"In New York on the evening of 30 November, already December in UTC, September is still kept from its local start.",
			"America/New_York", time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC), 3, time.Date(2026, 9, 1, 4, 0, 0, 0, time.UTC), "2026-09-01"},
		{"An organization without its own retention in Berlin keeps the installation's months from its local start.",
			"Europe/Berlin", time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC), 0, time.Date(2026, 5, 31, 22, 0, 0, 0, time.UTC), "2026-06-01"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			db := testkit.NewDB(t)
			ctx := context.Background()
			org, user := uuid.NewString(), uuid.NewString()
			if _, err := db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, time_zone, retention_months) VALUES ($1, $2, NULLIF($3, 0))", org, c.zone, c.retention); err != nil {
				t.Fatal(err)
			}
			zone, err := time.LoadLocation(c.zone)
			if err != nil {
				t.Fatal(err)
			}
			for _, at := range []time.Time{c.keepFrom.Add(-time.Second), c.keepFrom} {
				if _, err := db.Owner.Exec(ctx, "SELECT tracking.ensure_month_partition('activity_logs_shared', $1::date)", at); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Owner.Exec(ctx, `INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
					VALUES (gen_random_uuid(), $1, gen_random_uuid(), $2, $3, 'active', 1)`, org, user, at); err != nil {
					t.Fatal(err)
				}
				if _, err := db.Owner.Exec(ctx, `INSERT INTO reporting.daily_summaries (organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds, productivity_score, sessions_count, app_usage)
					VALUES ($1, $2, $3::date, 1, 1, 0, 100, 1, '[]')`, org, user, at.In(zone).Format(time.DateOnly)); err != nil {
					t.Fatal(err)
				}
			}
			m := &storage.Maintainer{DB: db.Owner, Clock: testkit.NewClock(c.now), Policy: storage.Policy{Premake: 1, Window: storage.Window(30), Retention: 7}}
			got, err := m.ApplyRetention(ctx)
			if err != nil || len(got) != 1 || !got[0].Since.Equal(c.keepFrom) {
				t.Fatalf("retention %v, %v: want one organization kept from %s", got, err, c.keepFrom)
			}
			var first time.Time
			var days []string
			if err := db.Owner.QueryRow(ctx, "SELECT min(occurred_at) FROM tracking.activity_logs WHERE organization_id = $1", org).Scan(&first); err != nil {
				t.Fatal(err)
			}
			if !first.Equal(c.keepFrom) || got[0].Deleted["tracking.activity_logs"] != 1 {
				t.Errorf("oldest activity kept %s (%d deleted), want %s with the second before it deleted", first.UTC(), got[0].Deleted["tracking.activity_logs"], c.keepFrom)
			}
			rows, err := db.Owner.Query(ctx, "SELECT date::text FROM reporting.daily_summaries WHERE organization_id = $1", org)
			if err == nil {
				days, err = pgx.CollectRows(rows, pgx.RowTo[string])
			}
			if err != nil || len(days) != 1 || days[0] != c.firstDay {
				t.Errorf("summaries kept %v (%v), want only %s", days, err, c.firstDay)
			}
		})
	}
}

func TestARetentionPassDeletesOnlyForTheOrganizationsHoldingExpiredRows(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	// 10 December 2026 with the installation's 11 months: kept from 1
	// February, in UTC.
	pool, statements := operatorPool(t, db)
	m := &storage.Maintainer{DB: pool, Clock: testkit.NewClock(time.Date(2026, 12, 10, 8, 0, 0, 0, time.UTC)),
		Policy: storage.Policy{Premake: 4, Window: storage.Window(30), Retention: 11}}
	expired := map[string]string{ // each table's rows dated before 1 February
		"tracking.activity_logs":    "occurred_at < '2026-02-01'",
		"tracking.activity_dedup":   "occurred_at < '2026-02-01'",
		"tracking.work_sessions":    "end_time < '2026-02-01'",
		"reporting.daily_summaries": "date < '2026-02-01'",
		"reporting.alerts":          "created_at < '2026-02-01'",
		"auth.audit_log":            "occurred_at < '2026-02-01'",
	}
	// Quiet organizations hold their kept months only; each of the others
	// holds one expired row, in one table. All are self-registered.
	register := func(org string) {
		if _, err := db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name) VALUES ($1, 'Registered')", org); err != nil {
			t.Fatal(err)
		}
	}
	var quiet []string
	for range 3 {
		org := uuid.NewString()
		register(org)
		seedMonths(t, db, org, time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC), 11)
		quiet = append(quiet, org)
	}
	expiredIn := map[string]string{}
	for table := range expired {
		org := uuid.NewString()
		register(org)
		seedMonths(t, db, org, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), 12)
		for other, where := range expired {
			if other != table {
				if _, err := db.Owner.Exec(ctx, "DELETE FROM "+other+" WHERE organization_id = $1 AND "+where, org); err != nil {
					t.Fatal(err)
				}
			}
		}
		expiredIn[org] = table
	}

	got, err := m.ApplyRetention(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(expiredIn) {
		t.Errorf("retention deleted for %d organizations, want the %d holding an expired row: %v", len(got), len(expiredIn), got)
	}
	for _, r := range got {
		table, ok := expiredIn[r.OrganizationID]
		if !ok {
			t.Errorf("retention ran deletes for %s, which holds nothing expired", r.OrganizationID)
		}
		for tbl, n := range r.Deleted {
			if want := map[bool]int64{true: 1}[tbl == table]; n != want {
				t.Errorf("the organization whose only expired row is in %s: %d deleted from %s, want %d", table, n, tbl, want)
			}
		}
	}
	for _, org := range quiet {
		for table, n := range rowsOf(t, db, org) {
			if n != 11 {
				t.Errorf("a quiet organization has %d rows left in %s, want its 11", n, table)
			}
		}
	}

	// With nothing due the pass costs the same few statements however many
	// organizations there are: the list, then the one asking which are due.
	statements.n.Store(0)
	if again, err := m.ApplyRetention(ctx); err != nil || len(again) != 0 {
		t.Errorf("a second pass: %v %v, want nothing to delete", again, err)
	}
	if n := statements.n.Load(); n > 8 {
		t.Errorf("a pass over %d organizations with nothing due sent %d statements, want at most 8", len(quiet)+len(expiredIn), n)
	}
}
