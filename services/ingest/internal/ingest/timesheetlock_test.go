package ingest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// inZone gives org the zone tz, as the tenant consumer would.
func (h *harness) inZone(org, tz string) {
	h.t.Helper()
	if _, err := h.db.Owner.Exec(context.Background(), "INSERT INTO tracking.tenants (organization_id, time_zone) VALUES ($1, $2)"+
		" ON CONFLICT (organization_id) DO UPDATE SET time_zone = EXCLUDED.time_zone", org, tz); err != nil {
		h.t.Fatal(err)
	}
}

// lock locks org's days through the date as admin and returns the lock.
func (h *harness) lock(admin member, through string) tracking.TimesheetLock {
	h.t.Helper()
	var l tracking.TimesheetLock
	if status, raw := testkit.Do(h.t, h.client, http.MethodPut, h.srv.URL+"/api/organization/timesheet-lock", admin.Token,
		map[string]any{"locked_through": through}, &l); status != http.StatusOK {
		h.t.Fatalf("lock through %s: status %d: %s", through, status, raw)
	}
	return l
}

func (h *harness) admin(org string) member {
	p := testkit.Member(org, authn.RoleAdmin)
	return member{Principal: p, Token: h.iss.Token(h.t, p)}
}

// TestALockEndsAtTheLocalMidnightAfterItsLastDayInTheOrganizationsZone
// locks one day in each zone and checks where the lock ends: at the first
// instant of the next local day, which PostgreSQL decides as it decides
// the report's days, on days that DST makes 23 or 25 hours long and where
// the clocks jump at midnight itself.
func TestALockEndsAtTheLocalMidnightAfterItsLastDayInTheOrganizationsZone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.clock.Set(time.Date(2027, 12, 1, 12, 0, 0, 0, time.UTC))
	cases := []struct {
		name, zone, through string
		until               time.Time
	}{
		{"A UTC day ends at midnight UTC.", "UTC", "2027-06-10", time.Date(2027, 6, 11, 0, 0, 0, 0, time.UTC)},
		{"Berlin's winter day ends at 23:00 UTC.", "Europe/Berlin", "2027-03-27", time.Date(2027, 3, 27, 23, 0, 0, 0, time.UTC)},
		{"Berlin's 23-hour day of the spring change ends at 22:00 UTC.", "Europe/Berlin", "2027-03-28", time.Date(2027, 3, 28, 22, 0, 0, 0, time.UTC)},
		{"Berlin's summer day before the autumn change ends at 22:00 UTC.", "Europe/Berlin", "2027-10-30", time.Date(2027, 10, 30, 22, 0, 0, 0, time.UTC)},
		{"Berlin's 25-hour day of the autumn change ends at 23:00 UTC.", "Europe/Berlin", "2027-10-31", time.Date(2027, 10, 31, 23, 0, 0, 0, time.UTC)},
		{"Santiago's clocks skip its midnight: the next day starts at 01:00 local.", "America/Santiago", "2027-09-04", time.Date(2027, 9, 5, 4, 0, 0, 0, time.UTC)},
		{"Santiago's day of the skipped midnight is 23 hours long.", "America/Santiago", "2027-09-05", time.Date(2027, 9, 6, 3, 0, 0, 0, time.UTC)},
		{"Santiago's clocks go back at midnight: the day ends after the repeated hour.", "America/Santiago", "2027-04-03", time.Date(2027, 4, 4, 4, 0, 0, 0, time.UTC)},
		{"Havana skips its midnight in March.", "America/Havana", "2027-03-13", time.Date(2027, 3, 14, 5, 0, 0, 0, time.UTC)},
		{"Auckland's day ends before the UTC day does.", "Pacific/Auckland", "2027-06-10", time.Date(2027, 6, 10, 12, 0, 0, 0, time.UTC)},
		{"An unknown zone is UTC, as the report takes it.", "Mars/Olympus_Mons", "2027-06-10", time.Date(2027, 6, 11, 0, 0, 0, 0, time.UTC)},
	}
	for _, tc := range cases {
		admin := h.admin("")
		h.inZone(admin.OrganizationID, tc.zone)
		l := h.lock(admin, tc.through)
		if l.LockedUntil == nil || !l.LockedUntil.Equal(tc.until) || *l.LockedThrough != tc.through {
			t.Errorf("%s: lock %+v, want it to end at %s", tc.name, l, tc.until)
			continue
		}
		before, at := tc.until.Add(-time.Microsecond), tc.until
		if !l.Locks(before) || l.Locks(at) || l.Locks(at.Add(time.Hour)) {
			t.Errorf("%s: locks %s %v, %s %v: want the microsecond before the end only", tc.name, before, l.Locks(before), at, l.Locks(at))
		}
		// The same instants as Go's zone database sees them: the last
		// locked microsecond is on the locked day, the end on the next.
		if loc, err := time.LoadLocation(*l.TimeZone); err == nil {
			next, _ := time.Parse(time.DateOnly, tc.through)
			if d := before.In(loc).Format(time.DateOnly); d != tc.through {
				t.Errorf("%s: the last locked instant is on %s locally", tc.name, d)
			}
			if d := at.In(loc).Format(time.DateOnly); d != next.AddDate(0, 0, 1).Format(time.DateOnly) {
				t.Errorf("%s: the first unlocked instant is on %s locally", tc.name, d)
			}
		}
	}
}

// TestABulkUploadStraddlingTheLockIsRejectedItemByItemBeforeItsEnd uploads
// a Berlin member's offline batch from 23:58 to 00:02 local across the
// last locked day's end: the items before local midnight are DAY_LOCKED on
// their own, those from midnight on are stored, and the totals are the
// stored ones exactly.
func TestABulkUploadStraddlingTheLockIsRejectedItemByItemBeforeItsEnd(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	h.inZone(m.OrganizationID, "Europe/Berlin")
	admin := h.admin(m.OrganizationID)
	// 14 June ends at 22:00 UTC in Berlin's summer.
	end := time.Date(2027, 6, 14, 22, 0, 0, 0, time.UTC)
	sid := h.startSession(m, end.Add(-time.Hour))
	h.lock(admin, "2027-06-14")
	items, _, _ := batch("straddle", 0, 5, end.Add(-2*time.Minute))
	for i := range items {
		items[i].Timestamp = end.Add(time.Duration(i-2) * time.Minute).Add(-time.Microsecond * time.Duration(min(i, 2)%2)).Format(time.RFC3339Nano)
	}
	// Items 0 and 1 are at 23:58 and 23:59:59.999999 local, 2..4 at 00:00, 00:01, 00:02.
	var res bulkResult
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", map[string]any{"activities": items}, &res); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if res.Uploaded != 3 || len(res.Rejected) != 2 {
		t.Fatalf("uploaded %d, rejected %+v: want the 3 items from midnight stored and 2 rejected", res.Uploaded, res.Rejected)
	}
	var active, idle int64
	for i, it := range items {
		if i < 2 {
			if r := res.Rejected[i]; r.Index != i || r.Code != "DAY_LOCKED" || *r.ClientActivityID != it.ClientActivityID ||
				!strings.Contains(r.Message, "2027-06-14 (Europe/Berlin)") {
				t.Errorf("rejection %d: %+v, want DAY_LOCKED naming the lock", i, r)
			}
			continue
		}
		if it.ActivityType == "active" {
			active += int64(it.DurationSeconds)
		} else {
			idle += int64(it.DurationSeconds)
		}
	}
	h.assertExact(sid, 3, active, idle, 1)
	var claimed int
	if err := h.db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM tracking.activity_dedup WHERE user_id = $1 AND occurred_at < $2",
		m.UserID, end).Scan(&claimed); err != nil || claimed != 0 {
		t.Errorf("%d locked items claimed (%v)", claimed, err)
	}
}

// TestALockSetElsewhereRefusesTheNextBulkUploadThoughThisReplicaReadItBefore
// has this replica read the organization's lock (none), then another
// replica lock the day: the readings of single posts may be a minute old,
// but a bulk upload checks the lock in its transaction.
func TestALockSetElsewhereRefusesTheNextBulkUploadThoughThisReplicaReadItBefore(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	now := h.clock.Now()
	sid := h.startSession(m, now.Add(-30*time.Hour))
	yesterday := now.Add(-24 * time.Hour)
	before, beforeActive, beforeIdle := batch("before", 0, 2, yesterday)
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", before, nil); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if _, err := h.db.Owner.Exec(context.Background(), `INSERT INTO tracking.timesheet_locks (organization_id, locked_through, locked_until, time_zone,
		locked_by, locked_at) VALUES ($1, $2::date, $2::date + 1, 'UTC', $3, $4)`, m.OrganizationID, yesterday.Format(time.DateOnly), m.UserID, now); err != nil {
		t.Fatal(err)
	}
	locked, _, _ := batch("after", 0, 3, yesterday)
	today, todayActive, todayIdle := batch("today", 0, 1, now.Add(-time.Minute))
	var res bulkResult
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", append(locked, today...), &res); status != http.StatusCreated ||
		res.Uploaded != 1 || len(res.Rejected) != 3 || res.Rejected[0].Code != "DAY_LOCKED" {
		t.Fatalf("status %d: %s", status, raw)
	}
	h.assertExact(sid, 3, beforeActive+todayActive, beforeIdle+todayIdle, 2)
}

// TestEveryChangeOfTimeInALockedDayIsRefusedAndTheNextDayIsNot posts single
// activities, files and approves manual entries and decides idle time on
// both sides of the lock's end.
func TestEveryChangeOfTimeInALockedDayIsRefusedAndTheNextDayIsNot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	h.inZone(c.emp.OrganizationID, "Pacific/Auckland")
	// 13 June ends at 12:00 UTC in Auckland's winter (+12).
	end := time.Date(2027, 6, 13, 12, 0, 0, 0, time.UTC)
	sid := h.startSession(c.emp, end.Add(-time.Hour))
	h.post(c.emp.Token, "/api/sessions/"+sid+"/activity/bulk", []bulkBody{
		{ClientActivityID: "idle-locked", Timestamp: end.Add(-10 * time.Minute).Format(time.RFC3339Nano), ActivityType: "idle", DurationSeconds: 60},
		{ClientActivityID: "idle-open", Timestamp: end.Add(10 * time.Minute).Format(time.RFC3339Nano), ActivityType: "idle", DurationSeconds: 60},
	}, nil)
	pending := h.requestEntry(c.emp, end.Add(-3*time.Hour), end.Add(-2*time.Hour), nil)
	rejectable := h.requestEntry(c.emp, end.Add(-5*time.Hour), end.Add(-4*time.Hour), nil)
	h.lock(c.admin, "2027-06-13")

	ts := func(t time.Time) *string { s := t.Format(time.RFC3339Nano); return &s }
	path := "/api/sessions/" + sid
	cases := []struct {
		name   string
		token  string
		path   string
		body   any
		status int
	}{
		{"A single activity a second before the end is refused.", c.emp.Token, path + "/activity",
			singleBody{ActivityType: "active", DurationSeconds: 1, Timestamp: ts(end.Add(-time.Second))}, http.StatusConflict},
		{"A single activity at the end is stored.", c.emp.Token, path + "/activity",
			singleBody{ActivityType: "active", DurationSeconds: 1, Timestamp: ts(end)}, http.StatusCreated},
		{"A manual entry starting in the locked day is refused.", c.emp.Token, "/api/time-requests",
			entryBody(end.Add(-time.Minute), end.Add(time.Hour), nil), http.StatusConflict},
		{"A manual entry from the end on is filed.", c.lead.Token, "/api/time-requests",
			entryBody(end.Add(2*time.Hour), end.Add(3*time.Hour), nil), http.StatusCreated},
		{"Approving an entry of the locked day is refused.", c.lead.Token, "/api/time-requests/" + pending.ID + "/approve", nil, http.StatusConflict},
		{"Rejecting one changes no time and is allowed.", c.lead.Token, "/api/time-requests/" + rejectable.ID + "/reject", nil, http.StatusOK},
		{"Deciding idle time of the locked day is refused.", c.emp.Token, path + "/idle-decisions",
			stretch{end.Add(-20 * time.Minute), end.Add(20 * time.Minute), DecisionDiscard, nil}.body(), http.StatusConflict},
		{"Deciding idle time from the end on is allowed.", c.emp.Token, path + "/idle-decisions",
			stretch{end, end.Add(20 * time.Minute), DecisionDiscard, nil}.body(), http.StatusCreated},
	}
	for _, tc := range cases {
		status, raw := h.post(tc.token, tc.path, tc.body, nil)
		if status != tc.status {
			t.Errorf("%s: status %d %s, want %d", tc.name, status, raw, tc.status)
			continue
		}
		if e := errorCode(t, raw); status == http.StatusConflict &&
			(e.Error.Code != "DAY_LOCKED" || !strings.Contains(e.Error.Message, "locked up to and including 2027-06-13 (Pacific/Auckland)")) {
			t.Errorf("%s: %s, want DAY_LOCKED naming the lock", tc.name, raw)
		}
	}
	// The locked day's activity is as it was: the idle minute undecided.
	var lockedIdle int64
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM tracking.activity_logs a WHERE a.session_id = $1 AND a.occurred_at < $2
		AND NOT EXISTS (SELECT 1 FROM tracking.idle_decision_activity d WHERE d.activity_id = a.id)`, sid, end).Scan(&lockedIdle); err != nil || lockedIdle != 1 {
		t.Errorf("%d undecided activities in the locked day (%v), want the 1 idle minute", lockedIdle, err)
	}
}

// TestOnlyAnAdminLocksAndEveryLockAndUnlockIsAudited walks a lock through
// its life: refused to a manager and for a day not yet over, set, moved
// later and earlier, removed; every member reads it; each change is one
// audit entry with the lock before and after.
func TestOnlyAnAdminLocksAndEveryLockAndUnlockIsAudited(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	h.inZone(c.emp.OrganizationID, "America/New_York")
	put := func(token, through string) (int, []byte) {
		return testkit.Do(t, h.client, http.MethodPut, h.srv.URL+"/api/organization/timesheet-lock", token, map[string]any{"locked_through": through}, nil)
	}
	// 09:30 UTC on 15 June is 05:30 on 15 June in New York.
	for _, tc := range []struct {
		name, token, through string
		status               int
	}{
		{"A manager cannot lock.", c.lead.Token, "2027-06-10", http.StatusForbidden},
		{"An employee cannot lock.", c.emp.Token, "2027-06-10", http.StatusForbidden},
		{"Today is not over and cannot be locked.", c.admin.Token, "2027-06-15", http.StatusBadRequest},
		{"A date must be a date.", c.admin.Token, "June 10", http.StatusBadRequest},
	} {
		if status, raw := put(tc.token, tc.through); status != tc.status {
			t.Errorf("%s: status %d %s, want %d", tc.name, status, raw, tc.status)
		}
	}
	if status, _ := testkit.Do(t, h.client, http.MethodDelete, h.srv.URL+"/api/organization/timesheet-lock", c.lead.Token, nil, nil); status != http.StatusForbidden {
		t.Errorf("a manager's unlock answered %d", status)
	}
	for _, through := range []string{"2027-06-10", "2027-06-14", "2027-06-12"} {
		h.lock(c.admin, through)
		h.clock.Advance(time.Second)
	}
	var seen tracking.TimesheetLock
	if status, raw := testkit.Do(t, h.client, http.MethodGet, h.srv.URL+"/api/organization/timesheet-lock", c.emp.Token, nil, &seen); status != http.StatusOK ||
		seen.LockedThrough == nil || *seen.LockedThrough != "2027-06-12" || !seen.LockedUntil.Equal(time.Date(2027, 6, 13, 4, 0, 0, 0, time.UTC)) ||
		*seen.TimeZone != "America/New_York" || *seen.LockedBy != c.admin.UserID {
		t.Errorf("an employee reads the lock: status %d: %s", status, raw)
	}
	if status, raw := testkit.Do(t, h.client, http.MethodDelete, h.srv.URL+"/api/organization/timesheet-lock", c.admin.Token, nil, &seen); status != http.StatusOK || seen.LockedThrough != nil {
		t.Errorf("unlock: status %d: %s", status, raw)
	}
	// Removing no lock changes nothing and records nothing.
	if status, raw := testkit.Do(t, h.client, http.MethodDelete, h.srv.URL+"/api/organization/timesheet-lock", c.admin.Token, nil, nil); status != http.StatusOK {
		t.Errorf("unlock again: status %d: %s", status, raw)
	}
	rows, err := h.db.Owner.Query(context.Background(), `SELECT action || ' ' || coalesce(details->'before'->>'locked_through', '-') || ' -> ' ||
		coalesce(details->'after'->>'locked_through', '-') FROM auth.audit_log WHERE organization_id = $1 AND actor_id = $2 ORDER BY occurred_at, id`,
		c.emp.OrganizationID, c.admin.UserID)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		got = append(got, s)
	}
	want := []string{"timesheet.locked - -> 2027-06-10", "timesheet.locked 2027-06-10 -> 2027-06-14", "timesheet.unlocked 2027-06-14 -> 2027-06-12",
		"timesheet.unlocked 2027-06-12 -> -"}
	if strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
