package ingest

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestYesterdaysOfflineBatchOnTheFirstOfAMonthIsStored posts, just after
// midnight on 1 September, a batch of 31 August's work and the minutes
// since: neither month has storage yet, and both are made on the spot.
func TestYesterdaysOfflineBatchOnTheFirstOfAMonthIsStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	h.clock.Set(time.Date(2027, 9, 1, 0, 30, 0, 0, time.UTC))
	m := h.member("")
	sid := h.startSession(m, time.Date(2027, 8, 31, 18, 0, 0, 0, time.UTC))
	items, active, idle := batch("offline", 0, 20, time.Date(2027, 8, 31, 18, 0, 0, 0, time.UTC))
	items = append(items, bulkBody{ClientActivityID: "after-midnight", Timestamp: "2027-09-01T00:20:00Z", ActivityType: "active", DurationSeconds: 60})
	var res bulkResult
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", items, &res); status != http.StatusCreated || res.Uploaded != 21 || len(res.Rejected) != 0 {
		t.Fatalf("status %d: %s", status, raw)
	}
	h.assertExact(sid, 21, active+60, idle, 1)
}

// TestAnItemOlderThanTheWindowIsRejectedOnItsOwnWhileTheRestIsStored
// uploads a batch with one item 40 days old: that item is ACTIVITY_TOO_OLD,
// the others are stored, and the upload as a whole succeeds.
func TestAnItemOlderThanTheWindowIsRejectedOnItsOwnWhileTheRestIsStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	now := h.clock.Now()
	m := h.member("")
	sid := h.startSession(m, now.AddDate(0, 0, -45))
	old := now.AddDate(0, 0, -40)
	items, active, idle := batch("recent", 0, 5, now.Add(-time.Hour))
	items = append(items[:2], append([]bulkBody{{ClientActivityID: "forty-days", Timestamp: old.Format(time.RFC3339), ActivityType: "active", DurationSeconds: 30}}, items[2:]...)...)
	var res bulkResult
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", items, &res); status != http.StatusCreated || res.Uploaded != 5 {
		t.Fatalf("status %d: %s", status, raw)
	}
	if len(res.Rejected) != 1 || res.Rejected[0].Index != 2 || res.Rejected[0].Code != "ACTIVITY_TOO_OLD" ||
		*res.Rejected[0].ClientActivityID != "forty-days" || !strings.Contains(res.Rejected[0].Message, "too old") {
		t.Errorf("rejected %+v: want item 2 ACTIVITY_TOO_OLD, saying it is too old", res.Rejected)
	}
	h.assertExact(sid, 5, active, idle, 1)
	var claimed bool
	if err := h.db.Owner.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM tracking.activity_dedup WHERE client_activity_id = 'forty-days')").Scan(&claimed); err != nil || claimed {
		t.Errorf("the rejected item's id is claimed (%v): a later upload could never store it", err)
	}
}

func TestASingleActivityOlderThanTheWindowIsTooOldAndTheBoundIsTheWindowsStart(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"ACTIVITY_WINDOW_DAYS": "20"})
	now := h.clock.Now()
	m := h.member("")
	sid := h.startSession(m, now.AddDate(0, 0, -25))
	path := "/api/sessions/" + sid + "/activity"
	tooOld := now.Add(-20*24*time.Hour - time.Second).Format(time.RFC3339)
	status, raw := h.post(m.Token, path, singleBody{ActivityType: "active", DurationSeconds: 5, Timestamp: &tooOld}, nil)
	if e := errorCode(t, raw); status != http.StatusBadRequest || e.Error.Code != "ACTIVITY_TOO_OLD" || !strings.Contains(e.Error.Message, "20 days") {
		t.Errorf("20 days and a second back: status %d: %s", status, raw)
	}
	edge := now.Add(-20 * 24 * time.Hour).Format(time.RFC3339)
	if status, raw := h.post(m.Token, path, singleBody{ActivityType: "active", DurationSeconds: 5, Timestamp: &edge}, nil); status != http.StatusCreated {
		t.Errorf("exactly 20 days back: status %d: %s", status, raw)
	}
	h.assertExact(sid, 1, 5, 0, 1)
}

// TestAnOrganizationsOwnWindowIsFollowedAndItsMissingMonthMadeOnTheSpot
// gives one organization a window of 60 days: its 40-day-old activity is
// stored, into a month made on the spot, where another's is too old.
func TestAnOrganizationsOwnWindowIsFollowedAndItsMissingMonthMadeOnTheSpot(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	now := h.clock.Now()
	long, short := h.member(""), h.member("")
	if _, err := h.db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, activity_window_days) VALUES ($1, 60)", long.OrganizationID); err != nil {
		t.Fatal(err)
	}
	old := now.AddDate(0, 0, -40) // 6 May 2027; May's month is dropped first
	if _, err := h.db.Owner.Exec(ctx, "DROP TABLE tracking.activity_logs_shared_"+old.Format("2006_01")); err != nil {
		t.Fatal(err)
	}
	ts := old.Format(time.RFC3339)
	for _, tc := range []struct {
		name   string
		m      member
		status int
		code   string
	}{
		{"An organization with a window of 60 days stores it.", long, http.StatusCreated, ""},
		{"An organization with the installation's 30 days refuses it.", short, http.StatusBadRequest, "ACTIVITY_TOO_OLD"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sid := h.startSession(tc.m, now.AddDate(0, 0, -50))
			status, raw := h.post(tc.m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 7, Timestamp: &ts, ClientActivityID: ptr("old")}, nil)
			if status != tc.status || (tc.code != "" && errorCode(t, raw).Error.Code != tc.code) {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
}

// TestAMissingMonthInsideTheWindowIsMadeOnTheSpot drops last month's
// storage (maintenance behind, or a month made by hand and removed):
// neither a single post nor a batch into it fails.
func TestAMissingMonthInsideTheWindowIsMadeOnTheSpot(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		post func(h *harness, m member, sid string, last time.Time) (int, []byte)
	}{
		{"A single post into the month is stored.", func(h *harness, m member, sid string, last time.Time) (int, []byte) {
			ts := last.Format(time.RFC3339)
			return h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 5, Timestamp: &ts, ClientActivityID: ptr("old")}, nil)
		}},
		{"A batch with an item in the month is stored whole.", func(h *harness, m member, sid string, last time.Time) (int, []byte) {
			return h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", []bulkBody{
				{ClientActivityID: "now", Timestamp: h.clock.Now().UTC().Format(time.RFC3339), ActivityType: "idle", DurationSeconds: 5},
				{ClientActivityID: "old", Timestamp: last.Format(time.RFC3339), ActivityType: "active", DurationSeconds: 5},
			}, nil)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			m := h.member("")
			last := h.clock.Now().UTC().AddDate(0, 0, -20) // 26 May 2027
			sid := h.startSession(m, last.Add(-time.Hour))
			if _, err := h.db.Owner.Exec(context.Background(), "DROP TABLE tracking.activity_logs_shared_"+last.Format("2006_01")); err != nil {
				t.Fatal(err)
			}
			if status, raw := tc.post(h, m, sid, last); status != http.StatusCreated {
				t.Fatalf("status %d: %s", status, raw)
			}
			count, active, _ := h.storedSums(sid)
			if s := h.sessionRow(sid); s.TotalActiveSeconds != 5 || active != 5 || count < 1 {
				t.Errorf("session %+v, %d stored with %d active seconds: want last month's 5 seconds stored", s, count, active)
			}
		})
	}
}

// TestARetryAfterRetentionDroppedItsMonthIsStillADuplicate: the month's
// ids stay claimed after retention, and a late retry names the activity it
// was instead of making its month again.
func TestARetryAfterRetentionDroppedItsMonthIsStillADuplicate(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	last := h.clock.Now().UTC().AddDate(0, 0, -20)
	sid := h.startSession(m, last.Add(-time.Hour))
	ts := last.Format(time.RFC3339)
	body := singleBody{ActivityType: "active", DurationSeconds: 5, Timestamp: &ts, ClientActivityID: ptr("single-old")}
	var stored, again activityResponse
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", body, &stored); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if _, err := h.db.Owner.Exec(context.Background(), "DROP TABLE tracking.activity_logs_shared_"+last.Format("2006_01")); err != nil {
		t.Fatal(err)
	}
	status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", body, &again)
	if status != http.StatusOK || again.Activity.ID != stored.Activity.ID || !again.Activity.Timestamp.Equal(stored.Activity.Timestamp) || again.Session.TotalActiveSeconds != 5 {
		t.Errorf("retry after retention: status %d: %s", status, raw)
	}
}
