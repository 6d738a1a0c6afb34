package ingest

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

type singleBody struct {
	ActivityType     string  `json:"activity_type"`
	DurationSeconds  int     `json:"duration_seconds"`
	URL              *string `json:"url,omitempty"`
	Timestamp        *string `json:"timestamp,omitempty"`
	ClientActivityID *string `json:"client_activity_id,omitempty"`
}

func TestASingleActivityIsStoredAndCountedWithTheSessionsNewTotals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	sid := h.startSession(m, h.clock.Now().Add(-time.Hour))
	ts := h.clock.Now().Add(-time.Minute).UTC().Truncate(time.Microsecond)

	var got activityResponse
	status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 30,
		URL: ptr("https://example.com/x"), Timestamp: ptr(ts.Format(time.RFC3339Nano)), ClientActivityID: ptr("a-1")}, &got)
	if status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if got.Session.TotalActiveSeconds != 30 || got.Session.TotalIdleSeconds != 0 || got.Session.Version != 2 {
		t.Errorf("session totals %+v", got.Session)
	}
	if !got.Activity.Timestamp.Equal(ts) || got.Activity.ActivityType != "active" || got.Activity.DurationSeconds != 30 ||
		got.Activity.SessionID != sid || *got.Activity.ClientActivityID != "a-1" || *got.Activity.URL != "https://example.com/x" {
		t.Errorf("activity %+v", got.Activity)
	}
	if got.Session.LastActivityAt == nil || !got.Session.LastActivityAt.Equal(ts) {
		t.Errorf("last_activity_at %v, want %v", got.Session.LastActivityAt, ts)
	}

	status, raw = h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "idle", DurationSeconds: 12}, &got)
	if status != http.StatusCreated || got.Session.TotalIdleSeconds != 12 || got.Activity.ClientActivityID != nil {
		t.Fatalf("status %d: %s", status, raw)
	}
	h.assertExact(sid, 2, 30, 12, 2)
}

func TestParallelSingleActivityPostsGiveExactTotals(t *testing.T) {
	t.Parallel()
	for _, n := range []int{100, 1000} {
		t.Run(fmt.Sprintf("%d posts", n), func(t *testing.T) {
			h := newHarness(t, nil)
			m := h.member("")
			sid := h.startSession(m, h.clock.Now().Add(-time.Hour))
			bodies := make([]any, 0, n)
			var wantActive, wantIdle int64
			for i := range n {
				typ, dur := "active", 1+i%60
				if i%3 == 0 {
					typ = "idle"
					wantIdle += int64(dur)
				} else {
					wantActive += int64(dur)
				}
				// Half carry a client_activity_id, half do not: both paths count.
				body := singleBody{ActivityType: typ, DurationSeconds: dur}
				if i%2 == 0 {
					body.ClientActivityID = ptr(fmt.Sprintf("p-%d", i))
				}
				bodies = append(bodies, body)
			}
			h.postConcurrently(m.Token, "/api/sessions/"+sid+"/activity", bodies)
			h.assertExact(sid, int64(n), wantActive, wantIdle, int64(n))
		})
	}
}

func TestARepeatedClientActivityIDAnswers200WithTheStoredActivityAndUnchangedTotals(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	sid := h.startSession(m, h.clock.Now().Add(-time.Hour))
	var first, again activityResponse
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 40, ClientActivityID: ptr("same")}, &first); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	// A retry differing in content is still the stored activity.
	status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "idle", DurationSeconds: 99, ClientActivityID: ptr("same")}, &again)
	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, raw)
	}
	if again.Activity.ID != first.Activity.ID || again.Activity.DurationSeconds != 40 || again.Activity.ActivityType != "active" {
		t.Errorf("duplicate answered %+v, stored %+v", again.Activity, first.Activity)
	}
	if again.Session.TotalActiveSeconds != 40 || again.Session.TotalIdleSeconds != 0 || again.Session.Version != first.Session.Version {
		t.Errorf("duplicate changed the session: %+v", again.Session)
	}
	// Concurrent retries of one new id store it once.
	var wg sync.WaitGroup
	created := make(chan int, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, err := h.tryPost(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 5, ClientActivityID: ptr("burst")})
			if err == nil {
				created <- status
			}
		}()
	}
	wg.Wait()
	close(created)
	var n201, n200 int
	for s := range created {
		switch s {
		case http.StatusCreated:
			n201++
		case http.StatusOK:
			n200++
		}
	}
	if n201 != 1 || n200 != 19 {
		t.Errorf("%d created and %d duplicates, want 1 and 19", n201, n200)
	}
	h.assertExact(sid, 2, 45, 0, 2)
}

func TestActivityTimestampRules(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-time.Hour).UTC()
	sid := h.startSession(m, start)
	for _, tc := range []struct {
		name      string
		timestamp string
		status    int
		code      string
	}{
		{"A timestamp at the session's start is accepted.", start.Format(time.RFC3339Nano), http.StatusCreated, ""},
		{"A timestamp four minutes ahead of the server is accepted (clock drift).", h.clock.Now().Add(4 * time.Minute).Format(time.RFC3339), http.StatusCreated, ""},
		{"A timestamp before the session's start is refused.", start.Add(-time.Second).Format(time.RFC3339Nano), http.StatusBadRequest, "ACTIVITY_INVALID_TIMESTAMP"},
		{"A timestamp more than five minutes ahead is refused.", h.clock.Now().Add(6 * time.Minute).Format(time.RFC3339), http.StatusBadRequest, "ACTIVITY_INVALID_TIMESTAMP"},
		{"A timestamp that is not RFC 3339 is refused.", "yesterday", http.StatusBadRequest, "ACTIVITY_INVALID_TIMESTAMP"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 1, Timestamp: &tc.timestamp}, nil)
			if status != tc.status || (tc.code != "" && errorCode(t, raw).Error.Code != tc.code) {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	h.assertExact(sid, 2, 2, 0, 2)
}

// TestTheFutureLeewayAndTheDefaultTimestampFollowTheClockAtEveryCalendarInstant
// stands the service on each calendar instant: an activity without a
// timestamp is stored at the clock's reading, one up to five minutes ahead
// of it is accepted (into the next month or year when that is where it
// falls) and one further ahead is refused.
func TestTheFutureLeewayAndTheDefaultTimestampFollowTheClockAtEveryCalendarInstant(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	for _, inst := range testkit.CalendarInstants() {
		t.Run(inst.Name, func(t *testing.T) {
			h.clock.Set(inst.At)
			h.db.EnsureActivityMonth(t, inst.At)
			h.db.EnsureActivityMonth(t, inst.At.Add(5*time.Minute))
			m := h.member("")
			sid := h.startSession(m, inst.At.Add(-time.Hour))
			path := "/api/sessions/" + sid + "/activity"
			var got activityResponse
			if status, raw := h.post(m.Token, path, singleBody{ActivityType: "active", DurationSeconds: 2}, &got); status != http.StatusCreated || !got.Activity.Timestamp.Equal(inst.At) {
				t.Errorf("no timestamp: %d %s; want it stored at %v", status, raw, inst.At)
			}
			ahead := inst.At.Add(5 * time.Minute).Format(time.RFC3339)
			if status, raw := h.post(m.Token, path, singleBody{ActivityType: "active", DurationSeconds: 3, Timestamp: &ahead}, &got); status != http.StatusCreated || got.Activity.Timestamp.Format(time.RFC3339) != ahead {
				t.Errorf("five minutes ahead: %d %s", status, raw)
			}
			tooFar := inst.At.Add(5*time.Minute + time.Second).Format(time.RFC3339)
			if status, raw := h.post(m.Token, path, singleBody{ActivityType: "active", DurationSeconds: 4, Timestamp: &tooFar}, nil); status != http.StatusBadRequest || errorCode(t, raw).Error.Code != "ACTIVITY_INVALID_TIMESTAMP" {
				t.Errorf("five minutes and a second ahead: %d %s", status, raw)
			}
			h.assertExact(sid, 2, 5, 0, 2)
		})
	}
}

func TestInvalidSingleActivitiesAreRefusedWithTheirCodes(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	sid := h.startSession(m, h.clock.Now().Add(-time.Hour))
	for _, tc := range []struct {
		name string
		body string
		code string
	}{
		{"An unknown activity type is ACTIVITY_INVALID_TYPE.", `{"activity_type":"typing","duration_seconds":5}`, "ACTIVITY_INVALID_TYPE"},
		{"A zero duration is VALIDATION_FAILED.", `{"activity_type":"active","duration_seconds":0}`, "VALIDATION_FAILED"},
		{"A duration over an hour is VALIDATION_FAILED.", `{"activity_type":"active","duration_seconds":3601}`, "VALIDATION_FAILED"},
		{"A fractional duration is VALIDATION_FAILED.", `{"activity_type":"active","duration_seconds":1.5}`, "VALIDATION_FAILED"},
		{"A missing duration is VALIDATION_FAILED.", `{"activity_type":"active"}`, "VALIDATION_FAILED"},
		{"An empty client_activity_id is VALIDATION_FAILED.", `{"activity_type":"active","duration_seconds":5,"client_activity_id":""}`, "VALIDATION_FAILED"},
		{"An unknown field is VALIDATION_FAILED.", `{"activity_type":"active","duration_seconds":5,"user_id":"x"}`, "VALIDATION_FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", []byte(tc.body), nil)
			if status != http.StatusBadRequest || errorCode(t, raw).Error.Code != tc.code {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	h.assertExact(sid, 0, 0, 0, 0)
}

func TestAnotherUsersOrOrganizationsSessionAnswers404(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	owner := h.member("")
	sid := h.startSession(owner, h.clock.Now().Add(-time.Hour))
	colleague := h.member(owner.OrganizationID)
	stranger := h.member("")
	for _, tc := range []struct {
		name  string
		token string
		path  string
	}{
		{"A colleague in the same organization gets 404.", colleague.Token, "/api/sessions/" + sid + "/activity"},
		{"A member of another organization gets 404.", stranger.Token, "/api/sessions/" + sid + "/activity"},
		{"A colleague's bulk upload gets 404.", colleague.Token, "/api/sessions/" + sid + "/activity/bulk"},
		{"A session ID that is not a UUID gets 404.", owner.Token, "/api/sessions/not-a-uuid/activity"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := any(singleBody{ActivityType: "active", DurationSeconds: 5})
			if len(tc.path) > 5 && tc.path[len(tc.path)-5:] == "/bulk" {
				body = []bulkBody{{ClientActivityID: "x", Timestamp: h.clock.Now().Format(time.RFC3339), ActivityType: "active", DurationSeconds: 5}}
			}
			status, raw := h.post(tc.token, tc.path, body, nil)
			if status != http.StatusNotFound || errorCode(t, raw).Error.Code != "SESSION_NOT_FOUND" {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	status, _ := h.post("not-a-token", "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 5}, nil)
	if status != http.StatusUnauthorized {
		t.Errorf("no token: status %d", status)
	}
	h.assertExact(sid, 0, 0, 0, 0)
}

func TestAStoppedSessionAnswers409(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	sid := h.startSession(m, h.clock.Now().Add(-time.Hour))
	h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 7, ClientActivityID: ptr("before-stop")}, nil)
	h.stop(m, sid)
	for _, tc := range []struct {
		name string
		path string
		body any
	}{
		{"A single activity is refused.", "/activity", singleBody{ActivityType: "active", DurationSeconds: 5}},
		{"A bulk upload is refused.", "/activity/bulk", []bulkBody{{ClientActivityID: "late", Timestamp: h.clock.Now().Format(time.RFC3339), ActivityType: "active", DurationSeconds: 5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.post(m.Token, "/api/sessions/"+sid+tc.path, tc.body, nil)
			if status != http.StatusConflict || errorCode(t, raw).Error.Code != "ACTIVITY_SESSION_STOPPED" {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	// A retry of what was stored before the stop is still a duplicate.
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 7, ClientActivityID: ptr("before-stop")}, nil); status != http.StatusOK {
		t.Errorf("retry after stop: status %d: %s", status, raw)
	}
	h.assertExact(sid, 1, 7, 0, 2)
}

// stop stops a session with the session service's own statement.
func (h *harness) stop(m member, sid string) (tracking.Session, error) {
	h.t.Helper()
	var s tracking.Session
	err := pg.InOrg(context.Background(), h.sessionPool, m.OrganizationID, func(tx pgx.Tx) error {
		var err error
		s, err = tracking.StopSession(context.Background(), tx, sid, m.UserID, nil, h.clock.Now())
		return err
	})
	return s, err
}
