package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

// posted is an activity the test got accepted, by client activity id.
type posted struct {
	typ string
	dur int
	at  time.Time
}

// stretch is an idle stretch and what the employee decides for it.
type stretch struct {
	from, to time.Time
	decision string
	project  *string
}

func (s stretch) body() map[string]any {
	b := map[string]any{"start_time": s.from.Format(time.RFC3339Nano), "end_time": s.to.Format(time.RFC3339Nano), "decision": s.decision}
	if s.project != nil {
		b["project_id"] = *s.project
	}
	return b
}

// project arranges a project of org, archived when archived.
func (h *harness) project(org string, archived bool) string {
	h.t.Helper()
	id := uuid.NewString()
	var at *time.Time
	if archived {
		at = ptr(h.clock.Now())
	}
	if _, err := h.db.Owner.Exec(context.Background(), "INSERT INTO tracking.projects (id, organization_id, name, created_by, archived_at) VALUES ($1, $2, $3, $4, $5)",
		id, org, "p-"+id, uuid.NewString(), at); err != nil {
		h.t.Fatal(err)
	}
	return id
}

// TestIdleDecisionsKeepTheTotalsExactUnderConcurrentPosting posts idle and
// active activity into three stretches and outside them while the
// employee keeps the first, discards the second and assigns the third
// to a project, then decides each stretch again for what arrived after
// the first decisions: the session totals are then exactly what the
// ledger of accepted activity says the decisions make of it.
func TestIdleDecisionsKeepTheTotalsExactUnderConcurrentPosting(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	start := h.clock.Now().Add(-2 * time.Hour)
	sid := h.startSession(m, start)
	proj := h.project(m.OrganizationID, false)
	stretches := []stretch{
		{start, start.Add(20 * time.Minute), DecisionKeep, nil},
		{start.Add(20 * time.Minute), start.Add(40 * time.Minute), DecisionDiscard, nil},
		{start.Add(40 * time.Minute), start.Add(60 * time.Minute), DecisionAssign, &proj},
	}
	ledger := map[string]posted{}
	var mu sync.Mutex
	// body is the i-th activity of a wave: idle and active interleaved over
	// the three stretches and the 10 minutes after them, seconds apart.
	body := func(wave string, i int) singleBody {
		at := start.Add(time.Duration(i%70)*time.Minute + time.Duration(i/70)*time.Second)
		typ := "idle"
		if i%4 == 1 {
			typ = "active"
		}
		cid := fmt.Sprintf("%s-%d", wave, i)
		mu.Lock()
		ledger[cid] = posted{typ: typ, dur: 1 + i%50, at: at}
		mu.Unlock()
		return singleBody{ActivityType: typ, DurationSeconds: 1 + i%50, Timestamp: ptr(at.Format(time.RFC3339Nano)), ClientActivityID: &cid}
	}
	before := make([]any, 0, 280)
	for i := range 280 {
		before = append(before, body("before", i))
	}
	h.postConcurrently(m.Token, "/api/sessions/"+sid+"/activity", before)

	// The decisions race a second wave of posts into the same stretches.
	during := make([]any, 0, 420)
	for i := range 420 {
		during = append(during, body("during", i))
	}
	decided := make([]idleDecisionResult, len(stretches))
	var wg sync.WaitGroup
	errs := make(chan error, len(stretches))
	for i, s := range stretches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, raw, err := h.tryPost(m.Token, "/api/sessions/"+sid+"/idle-decisions", s.body())
			if err == nil && status != http.StatusCreated {
				err = fmt.Errorf("decision %s: status %d: %s", s.decision, status, raw)
			}
			if err == nil {
				err = json.Unmarshal(raw, &decided[i])
			}
			if err != nil {
				errs <- err
			}
		}()
	}
	h.postConcurrently(m.Token, "/api/sessions/"+sid+"/activity", during)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	// Every idle activity stored before the decisions is covered by one.
	for i, s := range stretches {
		var want int64
		for cid, a := range ledger {
			if cid[:6] == "before" && a.typ == "idle" && !a.at.Before(s.from) && a.at.Before(s.to) {
				want += int64(a.dur)
			}
		}
		if got := decided[i].Decision.IdleSeconds; got < want {
			t.Errorf("the %s decision covered %d idle seconds; the activity stored before it holds %d", s.decision, got, want)
		}
	}
	h.assertDecidedExact(sid)

	// Deciding each stretch again covers what the second wave left idle.
	for _, s := range stretches {
		status, raw := h.post(m.Token, "/api/sessions/"+sid+"/idle-decisions", s.body(), nil)
		if status != http.StatusCreated && (status != http.StatusConflict || errorCode(t, raw).Error.Code != "IDLE_NOTHING_TO_DECIDE") {
			t.Fatalf("deciding the %s stretch again: status %d: %s", s.decision, status, raw)
		}
	}
	var wantActive, wantIdle int64
	for _, a := range ledger {
		in := -1
		for i, s := range stretches {
			if !a.at.Before(s.from) && a.at.Before(s.to) {
				in = i
			}
		}
		switch {
		case a.typ == "active":
			wantActive += int64(a.dur)
		case in < 0:
			wantIdle += int64(a.dur)
		case stretches[in].decision != DecisionDiscard:
			wantActive += int64(a.dur)
		}
	}
	s := h.assertDecidedExact(sid)
	if s.TotalActiveSeconds != wantActive || s.TotalIdleSeconds != wantIdle {
		t.Errorf("totals %d active / %d idle after every stretch is decided; the ledger says %d / %d",
			s.TotalActiveSeconds, s.TotalIdleSeconds, wantActive, wantIdle)
	}
	h.assertDecisionTrail(sid, m.Principal, s)
}

// assertDecidedExact checks that the session's totals are its stored
// activity as the decisions classify it, and that each decision's numbers
// are those of the activities it pins, all idle and inside its stretch.
func (h *harness) assertDecidedExact(sid string) sessionTotals {
	h.t.Helper()
	var active, idle int64
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT
		coalesce(sum(a.duration_seconds) FILTER (WHERE a.activity_type = 'active' OR i.decision IN ('keep', 'assign')), 0),
		coalesce(sum(a.duration_seconds) FILTER (WHERE a.activity_type = 'idle' AND i.decision IS NULL), 0)
		FROM tracking.activity_logs a LEFT JOIN tracking.idle_decision_activity i ON i.activity_id = a.id WHERE a.session_id = $1`, sid).
		Scan(&active, &idle); err != nil {
		h.t.Fatal(err)
	}
	s := h.sessionRow(sid)
	if s.TotalActiveSeconds != active || s.TotalIdleSeconds != idle {
		h.t.Errorf("session totals %d active / %d idle; the stored activity as decided sums to %d / %d", s.TotalActiveSeconds, s.TotalIdleSeconds, active, idle)
	}
	var wrong int
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM tracking.idle_decisions d, LATERAL (
		SELECT count(*)::int AS n, sum(a.duration_seconds) AS secs FROM tracking.idle_decision_activity i JOIN tracking.activity_logs a ON a.id = i.activity_id
		WHERE i.decision_id = d.id AND i.decision = d.decision AND a.activity_type = 'idle' AND a.occurred_at >= d.start_time AND a.occurred_at < d.end_time) p
		WHERE d.session_id = $1 AND (d.activities, d.idle_seconds) IS DISTINCT FROM (p.n, p.secs)`, sid).
		Scan(&wrong); err != nil {
		h.t.Fatal(err)
	}
	if wrong != 0 {
		h.t.Errorf("%d decisions whose numbers are not those of the idle activity of their stretch they pin", wrong)
	}
	return sessionTotals{TotalActiveSeconds: s.TotalActiveSeconds, TotalIdleSeconds: s.TotalIdleSeconds}
}

type sessionTotals struct {
	TotalActiveSeconds int64 `json:"total_active_seconds"`
	TotalIdleSeconds   int64 `json:"total_idle_seconds"`
}

// assertDecisionTrail checks that every decision left one audit entry
// whose totals before and after differ by what it covered, chained from
// one decision to the next, and one activity.corrected event, the last of
// which carries the final totals.
func (h *harness) assertDecisionTrail(sid string, p authn.Principal, final sessionTotals) {
	h.t.Helper()
	ctx := context.Background()
	rows, err := h.db.Owner.Query(ctx, `SELECT a.actor_id::text, a.subject_id::text, a.details FROM auth.audit_log a
		WHERE a.action = 'time.idle_decided' AND a.details->>'session_id' = $1 ORDER BY a.occurred_at, (a.details->'after'->>'total_idle_seconds')::bigint DESC`, sid)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	entries := 0
	for rows.Next() {
		var actor, subject string
		var d struct {
			Decision    string           `json:"decision"`
			IdleSeconds int64            `json:"idle_seconds"`
			Activities  []map[string]any `json:"activities"`
			Before      sessionTotals    `json:"before"`
			After       sessionTotals    `json:"after"`
		}
		if err := rows.Scan(&actor, &subject, &d); err != nil {
			h.t.Fatal(err)
		}
		entries++
		kept := d.IdleSeconds
		if d.Decision == DecisionDiscard {
			kept = 0
		}
		if actor != p.UserID || subject != p.UserID || len(d.Activities) == 0 ||
			d.After.TotalIdleSeconds != d.Before.TotalIdleSeconds-d.IdleSeconds || d.After.TotalActiveSeconds != d.Before.TotalActiveSeconds+kept {
			h.t.Errorf("audit entry by %s about %s: %+v", actor, subject, d)
		}
	}
	var decisions int
	if err := h.db.Owner.QueryRow(ctx, "SELECT count(*) FROM tracking.idle_decisions WHERE session_id = $1", sid).Scan(&decisions); err != nil {
		h.t.Fatal(err)
	}
	if entries != decisions || decisions < 3 {
		h.t.Errorf("%d audit entries for %d decisions", entries, decisions)
	}
	var corrected, lastIdle, lastActive int64
	if err := h.db.Owner.QueryRow(ctx, `SELECT count(*), (array_agg((payload->'data'->>'total_idle_seconds')::bigint ORDER BY id DESC))[1],
		(array_agg((payload->'data'->>'total_active_seconds')::bigint ORDER BY id DESC))[1]
		FROM tracking.outbox WHERE payload->>'type' = $1 AND payload->'data'->>'session_id' = $2`, events.TypeActivityCorrected, sid).
		Scan(&corrected, &lastIdle, &lastActive); err != nil {
		h.t.Fatal(err)
	}
	if corrected != int64(decisions) || lastIdle != final.TotalIdleSeconds || lastActive != final.TotalActiveSeconds {
		h.t.Errorf("%d activity.corrected events (last with %d active / %d idle) for %d decisions ending at %+v", corrected, lastActive, lastIdle, decisions, final)
	}
}

func TestAnIdleDecisionIsRefusedWithAClearReason(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	m := h.member("")
	colleague := h.member(m.OrganizationID)
	start := h.clock.Now().Add(-time.Hour)
	sid := h.startSession(m, start)
	h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", []bulkBody{
		{ClientActivityID: "i-1", Timestamp: start.Add(time.Minute).Format(time.RFC3339Nano), ActivityType: "idle", DurationSeconds: 60},
		{ClientActivityID: "a-1", Timestamp: start.Add(2 * time.Minute).Format(time.RFC3339Nano), ActivityType: "active", DurationSeconds: 60},
	}, nil)
	archived, strangers := h.project(m.OrganizationID, true), h.project(uuid.NewString(), false)
	whole := stretch{start, start.Add(time.Hour), DecisionKeep, nil}
	with := func(f func(*stretch)) map[string]any { s := whole; f(&s); return s.body() }
	cases := []struct {
		name   string
		token  string
		body   map[string]any
		status int
		code   string
	}{
		{"A decision without its kind is refused.", m.Token, map[string]any{"start_time": whole.from, "end_time": whole.to}, 400, "VALIDATION_FAILED"},
		{"A stretch that ends before it starts is refused.", m.Token, with(func(s *stretch) { s.from, s.to = s.to, s.from }), 400, "VALIDATION_FAILED"},
		{"A stretch longer than a day is refused.", m.Token, with(func(s *stretch) { s.to = s.from.Add(25 * time.Hour) }), 400, "VALIDATION_FAILED"},
		{"Assigning needs a project.", m.Token, with(func(s *stretch) { s.decision = DecisionAssign }), 400, "VALIDATION_FAILED"},
		{"A project goes with assign only.", m.Token, with(func(s *stretch) { s.project = &archived }), 400, "VALIDATION_FAILED"},
		{"An archived project takes no assigned time.", m.Token, with(func(s *stretch) { s.decision, s.project = DecisionAssign, &archived }), 409, "PROJECT_ARCHIVED"},
		{"Another organization's project is not found.", m.Token, with(func(s *stretch) { s.decision, s.project = DecisionAssign, &strangers }), 404, "PROJECT_NOT_FOUND"},
		{"A colleague cannot decide for the session's owner.", colleague.Token, whole.body(), 404, "SESSION_NOT_FOUND"},
		{"A stretch without idle activity has nothing to decide.", m.Token, with(func(s *stretch) { s.from = start.Add(2 * time.Minute) }), 409, "IDLE_NOTHING_TO_DECIDE"},
	}
	for _, tc := range cases {
		status, raw := h.post(tc.token, "/api/sessions/"+sid+"/idle-decisions", tc.body, nil)
		if status != tc.status || errorCode(t, raw).Error.Code != tc.code {
			t.Errorf("%s: status %d %s, want %d %s", tc.name, status, raw, tc.status, tc.code)
		}
	}
	h.assertExact(sid, 2, 60, 60, 1)

	// The owner's decision counts once; the same stretch again has nothing left.
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/idle-decisions", whole.body(), nil); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/idle-decisions", whole.body(), nil); status != http.StatusConflict {
		t.Fatalf("the same stretch again: status %d: %s", status, raw)
	}
	if s := h.sessionRow(sid); s.TotalActiveSeconds != 120 || s.TotalIdleSeconds != 0 {
		t.Errorf("totals %d / %d after keeping the only idle minute, want 120 / 0", s.TotalActiveSeconds, s.TotalIdleSeconds)
	}
	var list struct {
		Decisions []IdleDecision `json:"decisions"`
	}
	if status, raw := testkit.Do(t, h.client, http.MethodGet, h.srv.URL+"/api/sessions/"+sid+"/idle-decisions", m.Token, nil, &list); status != http.StatusOK || len(list.Decisions) != 1 ||
		list.Decisions[0].IdleSeconds != 60 || list.Decisions[0].Activities != 1 {
		t.Errorf("the owner's listing: status %d: %s", status, raw)
	}
	if status, _ := testkit.Do(t, h.client, http.MethodGet, h.srv.URL+"/api/sessions/"+sid+"/idle-decisions", colleague.Token, nil, nil); status != http.StatusNotFound {
		t.Errorf("a colleague's listing answered %d, want 404", status)
	}
}
