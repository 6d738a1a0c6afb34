package ingest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestASessionSaysWhetherItsLatestActivityWasActiveOrIdle posts, in
// turn, to one session: each step's post leaves the session's
// last_activity_type as the step wants it, in the post's answer, in the
// stored row and in the activity.recorded event that the board follows.
func TestASessionSaysWhetherItsLatestActivityWasActiveOrIdle(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-2 * time.Hour)
	sid := h.startSession(m, start)
	at := func(minutes int) string {
		return start.Add(time.Duration(minutes) * time.Minute).Format(time.RFC3339Nano)
	}
	single := func(typ string, minute int) any {
		return singleBody{ActivityType: typ, DurationSeconds: 30, Timestamp: ptr(at(minute)), ClientActivityID: ptr(fmt.Sprintf("s-%s-%d", typ, minute))}
	}
	bulk := func(items ...bulkBody) any { return map[string]any{"activities": items} }
	item := func(typ string, minute int) bulkBody {
		return bulkBody{ClientActivityID: fmt.Sprintf("b-%s-%d", typ, minute), Timestamp: at(minute), ActivityType: typ, DurationSeconds: 30}
	}

	steps := []struct {
		name string
		path string
		body any
		want string
	}{
		{"an active post makes it active", "/activity", single("active", 10), "active"},
		{"a later idle post makes it idle", "/activity", single("idle", 11), "idle"},
		{"an active post timed before the latest activity leaves it idle", "/activity", single("active", 5), "idle"},
		{"a later active post makes it active again", "/activity", single("active", 12), "active"},
		{"a batch whose latest item is idle makes it idle, whatever the order of its items", "/activity/bulk",
			bulk(item("idle", 20), item("active", 13), item("active", 19)), "idle"},
		{"a batch timed before the latest activity leaves it idle", "/activity/bulk", bulk(item("active", 14), item("active", 15)), "idle"},
		{"a batch whose latest item is active makes it active", "/activity/bulk", bulk(item("idle", 21), item("active", 22)), "active"},
	}
	for _, s := range steps {
		var answer struct {
			Session struct {
				LastActivityType *string `json:"last_activity_type"`
			} `json:"session"`
		}
		status, raw := h.post(m.Token, "/api/sessions/"+sid+s.path, s.body, &answer)
		if status != http.StatusCreated {
			t.Fatalf("%s: status %d: %s", s.name, status, raw)
		}
		var event *string
		if err := h.db.Owner.QueryRow(context.Background(), "SELECT payload->'data'->>'last_activity_type' FROM tracking.outbox"+
			" WHERE payload->'data'->>'session_id' = $1 ORDER BY id DESC LIMIT 1", sid).Scan(&event); err != nil {
			t.Fatal(err)
		}
		row := h.sessionRow(sid).LastActivityType
		for where, got := range map[string]*string{"the answer": answer.Session.LastActivityType, "the stored row": row, "the event": event} {
			if got == nil || *got != s.want {
				t.Errorf("%s: %s says %v, want %s", s.name, where, deref(got), s.want)
			}
		}
	}
}
