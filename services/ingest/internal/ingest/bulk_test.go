package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/pg"
)

type bulkBody struct {
	ClientActivityID string  `json:"client_activity_id"`
	Timestamp        string  `json:"timestamp"`
	ActivityType     string  `json:"activity_type"`
	DurationSeconds  int     `json:"duration_seconds"`
	URL              *string `json:"url,omitempty"`
}

// batch makes n valid items with ids prefix-from..prefix-(from+n-1) and
// returns their active and idle seconds.
func batch(prefix string, from, n int, base time.Time) ([]bulkBody, int64, int64) {
	items := make([]bulkBody, 0, n)
	var active, idle int64
	for i := from; i < from+n; i++ {
		typ, dur := "active", 1+i%90
		if i%4 == 0 {
			typ = "idle"
			idle += int64(dur)
		} else {
			active += int64(dur)
		}
		items = append(items, bulkBody{ClientActivityID: fmt.Sprintf("%s-%d", prefix, i), ActivityType: typ, DurationSeconds: dur,
			Timestamp: base.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano)})
	}
	return items, active, idle
}

func TestTheSameBatchUploadedTwiceCountsOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-2 * time.Hour)
	sid := h.startSession(m, start)
	items, active, idle := batch("b", 0, 1000, start)

	var first, second bulkResult
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", map[string]any{"activities": items}, &first); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if first.Uploaded != 1000 || first.Duplicates != 0 || len(first.Rejected) != 0 {
		t.Errorf("first upload: uploaded %d, duplicates %d, rejected %v", first.Uploaded, first.Duplicates, first.Rejected)
	}
	if first.Session.TotalActiveSeconds != active || first.Session.TotalIdleSeconds != idle {
		t.Errorf("first upload answered totals %d/%d, want %d/%d", first.Session.TotalActiveSeconds, first.Session.TotalIdleSeconds, active, idle)
	}
	// The bare-array form of the same batch.
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", items, &second); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if second.Uploaded != 0 || second.Duplicates != 1000 || second.Session.Version != first.Session.Version {
		t.Errorf("second upload: uploaded %d, duplicates %d, version %d (was %d)", second.Uploaded, second.Duplicates, second.Session.Version, first.Session.Version)
	}
	h.assertExact(sid, 1000, active, idle, 1)
}

func TestOverlappingBatchesUploadedConcurrentlyCountEachActivityOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-3 * time.Hour)
	sid := h.startSession(m, start)
	// Eight batches of 500 over 0..2249, each overlapping its neighbours.
	const batches, size, step = 8, 500, 250
	bodies := make([]any, batches)
	for b := range batches {
		items, _, _ := batch("o", b*step, size, start)
		bodies[b] = map[string]any{"activities": items}
	}
	results := make([]bulkResult, batches)
	for b, raw := range h.postConcurrently(m.Token, "/api/sessions/"+sid+"/activity/bulk", bodies) {
		if err := json.Unmarshal(raw, &results[b]); err != nil {
			t.Fatal(err)
		}
	}
	distinct := (batches-1)*step + size
	_, active, idle := batch("o", 0, distinct, start)
	uploaded, duplicates, changes := 0, 0, 0
	for _, r := range results {
		uploaded += r.Uploaded
		duplicates += r.Duplicates
		if r.Uploaded > 0 {
			// A batch its neighbours covered entirely changes nothing.
			changes++
		}
	}
	if uploaded != distinct || duplicates != batches*size-distinct {
		t.Errorf("uploaded %d and duplicates %d, want %d and %d", uploaded, duplicates, distinct, batches*size-distinct)
	}
	h.assertExact(sid, int64(distinct), active, idle, int64(changes))
}

func TestInvalidItemsOfABatchAreRejectedOneByOneWhileTheRestIsStored(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-time.Hour).UTC()
	sid := h.startSession(m, start)
	ok := start.Add(time.Minute).Format(time.RFC3339)
	body := `[
		{"client_activity_id":"good-1","timestamp":"` + ok + `","activity_type":"active","duration_seconds":10},
		{"client_activity_id":"bad-type","timestamp":"` + ok + `","activity_type":"typing","duration_seconds":10},
		{"client_activity_id":"bad-duration","timestamp":"` + ok + `","activity_type":"active","duration_seconds":0},
		{"client_activity_id":"early","timestamp":"` + start.Add(-time.Minute).Format(time.RFC3339) + `","activity_type":"active","duration_seconds":10},
		{"client_activity_id":"future","timestamp":"` + h.clock.Now().Add(time.Hour).Format(time.RFC3339) + `","activity_type":"active","duration_seconds":10},
		{"timestamp":"` + ok + `","activity_type":"active","duration_seconds":10},
		{"client_activity_id":"not-a-time","timestamp":"soon","activity_type":"idle","duration_seconds":10},
		{"client_activity_id":"wrong-kind","timestamp":"` + ok + `","activity_type":"idle","duration_seconds":"ten"},
		"not an object",
		{"client_activity_id":"good-2","timestamp":"` + ok + `","activity_type":"idle","duration_seconds":20,"url":"https://example.com"},
		{"client_activity_id":"good-1","timestamp":"` + ok + `","activity_type":"active","duration_seconds":10},
		{"client_activity_id":"extra","timestamp":"` + ok + `","activity_type":"active","duration_seconds":10,"mood":"happy"}
	]`
	var res bulkResult
	status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", []byte(body), &res)
	if status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if res.Uploaded != 2 || res.Duplicates != 1 {
		t.Errorf("uploaded %d, duplicates %d; want 2 and 1", res.Uploaded, res.Duplicates)
	}
	want := map[int]struct{ cid, code string }{
		1: {"bad-type", "ACTIVITY_INVALID_TYPE"}, 2: {"bad-duration", "VALIDATION_FAILED"}, 3: {"early", "ACTIVITY_INVALID_TIMESTAMP"},
		4: {"future", "ACTIVITY_INVALID_TIMESTAMP"}, 5: {"", "VALIDATION_FAILED"}, 6: {"not-a-time", "ACTIVITY_INVALID_TIMESTAMP"},
		7: {"wrong-kind", "VALIDATION_FAILED"}, 8: {"", "VALIDATION_FAILED"}, 11: {"extra", "VALIDATION_FAILED"},
	}
	if len(res.Rejected) != len(want) {
		t.Errorf("rejected %+v", res.Rejected)
	}
	for _, r := range res.Rejected {
		w, ok := want[r.Index]
		cid := ""
		if r.ClientActivityID != nil {
			cid = *r.ClientActivityID
		}
		if !ok || w.cid != cid || w.code != r.Code || r.Message == "" {
			t.Errorf("rejected item %d (%s) %s: %s", r.Index, cid, r.Code, r.Message)
		}
	}
	h.assertExact(sid, 2, 10, 20, 1)
}

func TestABatchThatIsNotABatchIsRefusedWhole(t *testing.T) {
	t.Parallel()
	h := newHarness(t, map[string]string{"MAX_BULK_ACTIVITIES": "3"})
	m := h.member("")
	sid := h.startSession(m, h.clock.Now().Add(-time.Hour))
	items, _, _ := batch("x", 0, 4, h.clock.Now().Add(-time.Minute))
	for _, tc := range []struct {
		name string
		body any
	}{
		{"More items than MAX_BULK_ACTIVITIES are refused.", items},
		{"An empty batch is refused.", []bulkBody{}},
		{"An object without activities is refused.", map[string]any{"items": items[:1]}},
		{"Malformed JSON is refused.", []byte(`[{"client_activity_id":`)},
		{"A JSON string is refused.", []byte(`"activities"`)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", tc.body, nil)
			if status != http.StatusBadRequest || errorCode(t, raw).Error.Code != "VALIDATION_FAILED" {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	h.assertExact(sid, 0, 0, 0, 0)
}

// A batch is written first as if none of its items were claimed before; an
// item posted on its own earlier makes that write fail whole, and the batch
// is written again item by item against the claims.
func TestABatchHoldingAnItemPostedSinglyBeforeStoresTheRestOnce(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-time.Hour)
	sid := h.startSession(m, start)
	items, active, idle := batch("s", 0, 10, start)
	single := items[3]
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: single.ActivityType, DurationSeconds: single.DurationSeconds,
		Timestamp: &single.Timestamp, ClientActivityID: &single.ClientActivityID}, nil); status != http.StatusCreated {
		t.Fatalf("single post: status %d: %s", status, raw)
	}
	var res bulkResult
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", map[string]any{"activities": items}, &res); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if res.Uploaded != 9 || res.Duplicates != 1 || len(res.Rejected) != 0 {
		t.Errorf("uploaded %d, duplicates %d, rejected %v; want 9, 1, none", res.Uploaded, res.Duplicates, res.Rejected)
	}
	if res.Session.TotalActiveSeconds != active || res.Session.TotalIdleSeconds != idle {
		t.Errorf("answered totals %d/%d, want %d/%d", res.Session.TotalActiveSeconds, res.Session.TotalIdleSeconds, active, idle)
	}
	h.assertExact(sid, 10, active, idle, 2)
	// Two events, the single post's and the batch's, the latter with the
	// final totals.
	if got := h.eventTotals(sid); len(got) != 2 || got[1] != active {
		t.Errorf("events' active totals %v, want two ending with %d", got, active)
	}
}

// Both statements a batch may be written with run under row-level security:
// in a transaction of one organization, neither writes a row of another.
func TestABatchsStatementsWriteNoRowOfAnotherOrganization(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-time.Hour)
	sid := h.startSession(m, start)
	other := uuid.NewString()
	ctx := context.Background()
	for name, stmt := range map[string]string{"new items": recordNewBulkSQL, "claimed items": recordBulkSQL} {
		t.Run(name, func(t *testing.T) {
			err := pg.InOrg(ctx, h.pool, m.OrganizationID, func(tx pgx.Tx) error {
				_, err := tx.Exec(ctx, stmt, sid, m.UserID, other, []pgtype.UUID{pg.NewUUID()}, []string{"x-" + name}, []time.Time{start.Add(time.Minute)},
					[]string{"active"}, []int32{10}, []*string{nil}, pg.NewUUID(), h.clock.Now().Format(time.RFC3339Nano),
					events.TopicActivity, events.TypeActivityRecorded, source)
				return err
			})
			if pg.SQLState(err) != "42501" {
				t.Fatalf("a batch's rows written under another organization: err = %v; want an RLS violation (42501)", err)
			}
		})
	}
	h.assertExact(sid, 0, 0, 0, 0)
}
