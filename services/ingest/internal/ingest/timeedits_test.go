package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// trackedSession arranges a stopped session of m over [from, to) whose
// agent posted acts, through the API, and stopped it at to.
func (h *harness) trackedSession(m member, from, to time.Time, acts []posted) string {
	h.t.Helper()
	sid := h.startSession(m, from)
	bodies := make([]any, len(acts))
	for i, a := range acts {
		cid := fmt.Sprintf("%s-%d", sid, i)
		bodies[i] = singleBody{ActivityType: a.typ, DurationSeconds: a.dur, Timestamp: ptr(a.at.Format(time.RFC3339Nano)), ClientActivityID: &cid}
	}
	h.postConcurrently(m.Token, "/api/sessions/"+sid+"/activity", bodies)
	if err := pg.InOrg(context.Background(), h.sessionPool, m.OrganizationID, func(tx pgx.Tx) error {
		_, err := tracking.StopSession(context.Background(), tx, sid, m.UserID, &to, h.clock.Now())
		return err
	}); err != nil {
		h.t.Fatal(err)
	}
	return sid
}

func editBody(sid string, from, to time.Time, project *string) map[string]any {
	b := entryBody(from, to, project)
	b["kind"], b["session_id"] = KindEdit, sid
	return b
}

// requestEdit files an edit of sid as m and returns it.
func (h *harness) requestEdit(m member, sid string, from, to time.Time, project *string) TimeRequest {
	h.t.Helper()
	var tr TimeRequest
	if status, raw := testkit.Do(h.t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests", m.Token, editBody(sid, from, to, project), &tr); status != http.StatusCreated {
		h.t.Fatalf("edit request: status %d: %s", status, raw)
	}
	return tr
}

// everyMinute is an activity of typ each minute of [from, to), of dur
// seconds.
func everyMinute(typ string, dur int, from, to time.Time) []posted {
	var acts []posted
	for at := from; at.Before(to); at = at.Add(time.Minute) {
		acts = append(acts, posted{typ: typ, dur: dur, at: at})
	}
	return acts
}

func TestAnApprovedEditGivesTheSessionItsProjectAndBoundsAndExactlyTheirTime(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	proj := h.project(c.emp.OrganizationID, false)
	// 07:00-08:00: active 40 s each minute, idle 20 s each minute of
	// 07:30-08:00.
	from := time.Date(2027, 6, 15, 7, 0, 0, 0, time.UTC)
	to := from.Add(time.Hour)
	acts := append(everyMinute("active", 40, from, to), everyMinute("idle", 20, from.Add(30*time.Minute), to)...)
	sid := h.trackedSession(c.emp, from, to, acts)
	before := h.sessionRow(sid)

	// The edit drops 07:00-07:10:30 and adds 08:00-08:20:17 on the project.
	newFrom, newTo := from.Add(10*time.Minute+30*time.Second), to.Add(20*time.Minute+17*time.Second)
	tr := h.requestEdit(c.emp, sid, newFrom, newTo, &proj)
	if tr.Kind != KindEdit || tr.Status != RequestPending || tr.SessionID == nil || *tr.SessionID != sid {
		t.Fatalf("a new edit: %+v", tr)
	}
	if s := h.sessionRow(sid); s.Version != before.Version || s.TotalActiveSeconds != before.TotalActiveSeconds {
		t.Fatalf("a pending edit changed the session: %+v", s)
	}
	// The reviewer lists entries and edits apart.
	h.clock.Advance(time.Second)
	entry := h.requestEntry(c.emp, from.Add(-3*time.Hour), from.Add(-2*time.Hour), nil)
	for _, tc := range []struct {
		name, query string
		want        []string
	}{
		{"Edits alone.", "?kind=edit", []string{tr.ID}},
		{"Entries alone.", "?kind=entry&status=pending", []string{entry.ID}},
		{"Both, newest first.", "", []string{entry.ID, tr.ID}},
	} {
		var l struct {
			Requests []TimeRequest `json:"requests"`
		}
		if status, raw := testkit.Do(t, h.client, http.MethodGet, h.srv.URL+"/api/time-requests"+tc.query, c.lead.Token, nil, &l); status != http.StatusOK {
			t.Fatalf("%s: status %d: %s", tc.name, status, raw)
		}
		var got []string
		for _, r := range l.Requests {
			got = append(got, r.ID)
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: listed %v, want %v", tc.name, got, tc.want)
		}
	}
	if status, raw := testkit.Do(t, h.client, http.MethodGet, h.srv.URL+"/api/time-requests?kind=move", c.lead.Token, nil, nil); status != 400 ||
		errorCode(t, raw).Error.Code != "VALIDATION_FAILED" {
		t.Errorf("an unknown kind listed: status %d %s", status, raw)
	}
	var res timeReviewResult
	if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+tr.ID+"/approve", c.lead.Token, nil, &res); status != http.StatusOK {
		t.Fatalf("approve: status %d: %s", status, raw)
	}
	// Minutes 07:11..07:59 keep their 40 s (49 of them), 07:30..07:59
	// their 20 s idle (30); the 20 min 17 s gained are active.
	wantActive, wantIdle := int64(49*40+20*60+17), int64(30*20)
	s := res.Session
	if s == nil || s.ID != sid || !s.StartTime.Equal(newFrom) || s.EndTime == nil || !s.EndTime.Equal(newTo) || s.ProjectID == nil ||
		*s.ProjectID != proj || s.TotalActiveSeconds != wantActive || s.TotalIdleSeconds != wantIdle {
		t.Fatalf("the edited session %+v, want %s..%s on the project with %d active / %d idle seconds", s, newFrom, newTo, wantActive, wantIdle)
	}
	h.assertExact(sid, -1, 0, 0, -1)
	if a, idle := h.memberSeconds(c.emp.UserID); a != wantActive || idle != wantIdle {
		t.Errorf("the member's stored activity %d / %d, want %d / %d", a, idle, wantActive, wantIdle)
	}
	var outside int
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT count(*) FROM tracking.activity_logs WHERE session_id = $1
		AND (occurred_at < $2 OR occurred_at >= $3)`, sid, newFrom, newTo).Scan(&outside); err != nil || outside != 0 {
		t.Errorf("%d activities outside the new bounds (%v)", outside, err)
	}
	// A retry of a dropped activity by the agent stays a duplicate.
	cid := fmt.Sprintf("%s-%d", sid, 0)
	if status, raw := h.post(c.emp.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 40,
		Timestamp: ptr(from.Format(time.RFC3339Nano)), ClientActivityID: &cid}, nil); status != http.StatusOK {
		t.Errorf("the agent's retry of a dropped activity: status %d: %s", status, raw)
	}
	h.assertExact(sid, -1, 0, 0, -1)

	var ev events.ActivityCorrected
	var raw []byte
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT payload->'data' FROM tracking.outbox WHERE payload->>'type' = $1
		AND payload->'data'->>'decision_id' = $2`, events.TypeActivityCorrected, tr.ID).Scan(&raw); err != nil {
		t.Fatalf("the approval's activity.corrected event: %v", err)
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Decision != events.CorrectionSessionEdit || !ev.FirstAt.Equal(from) || !ev.LastAt.Equal(newTo) ||
		ev.TotalActiveSeconds != wantActive || ev.TotalIdleSeconds != wantIdle {
		t.Errorf("activity.corrected %s", raw)
	}
	var details struct {
		Before, After TimeRequest
		SessionBefore tracking.SessionState `json:"session_before"`
		SessionAfter  tracking.SessionState `json:"session_after"`
		Removed       map[string]int64
		Added         int64 `json:"added_active_seconds"`
	}
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT details FROM auth.audit_log WHERE action = 'time.approved' AND subject_id = $1`,
		c.emp.UserID).Scan(&raw); err != nil {
		t.Fatalf("the approval's audit entry: %v", err)
	}
	if err := json.Unmarshal(raw, &details); err != nil {
		t.Fatal(err)
	}
	if details.Before.Status != RequestPending || details.After.Status != RequestApproved || details.SessionBefore.TotalActiveSeconds != 60*40 ||
		!details.SessionBefore.StartTime.Equal(from) || details.SessionAfter.TotalActiveSeconds != wantActive || details.SessionAfter.ProjectID == nil ||
		details.Removed["activities"] != 11 || details.Removed["active_seconds"] != 11*40 || details.Removed["idle_seconds"] != 0 || details.Added != 20*60+17 {
		t.Errorf("the approval's audit details: %s", raw)
	}
}

func TestAnEditIsRefusedWithAClearReasonAtRequestAndAtApproval(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	day := time.Date(2027, 6, 14, 0, 0, 0, 0, time.UTC)
	at := func(hour, minute int) time.Time {
		return day.Add(time.Duration(hour)*time.Hour + time.Duration(minute)*time.Minute)
	}
	first := h.trackedSession(c.emp, at(9, 0), at(10, 0), everyMinute("active", 30, at(9, 0), at(10, 0)))
	second := h.trackedSession(c.emp, at(11, 0), at(12, 0), everyMinute("idle", 30, at(11, 0), at(12, 0)))
	today := h.trackedSession(c.emp, h.clock.Now().Add(-3*time.Hour), h.clock.Now().Add(-2*time.Hour), nil)
	running := h.startSession(c.emp, h.clock.Now().Add(-time.Hour))
	stranger := h.member(c.emp.OrganizationID)
	theirs := h.trackedSession(stranger, at(9, 0), at(10, 0), nil)
	if status, raw := h.post(c.emp.Token, "/api/sessions/"+second+"/idle-decisions",
		stretch{at(11, 0), at(11, 30), DecisionDiscard, nil}.body(), nil); status != http.StatusCreated {
		t.Fatalf("decision: status %d: %s", status, raw)
	}
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"A running session is not edited.", editBody(running, at(8, 0), at(9, 0), nil), 409, "TIME_EDIT_SESSION_ACTIVE"},
		{"Another member's session is not found.", editBody(theirs, at(9, 0), at(9, 30), nil), 404, "SESSION_NOT_FOUND"},
		{"New bounds over another session of the member are refused.", editBody(first, at(9, 0), at(11, 1), nil), 409, "TIME_OVERLAPS"},
		{"New bounds that drop decided idle time are refused at approval.", editBody(second, at(11, 15), at(12, 0), nil), 201, ""},
		{"An edit names its session.", map[string]any{"kind": KindEdit, "start_time": at(9, 0), "end_time": at(10, 0)}, 400, "VALIDATION_FAILED"},
		{"An entry names none.", map[string]any{"session_id": first, "start_time": at(13, 0), "end_time": at(14, 0)}, 400, "VALIDATION_FAILED"},
		{"An unknown kind is refused.", map[string]any{"kind": "move", "start_time": at(13, 0), "end_time": at(14, 0)}, 400, "VALIDATION_FAILED"},
		{"An edited session lasts a day at most.", editBody(first, at(9, 0).Add(-24*time.Hour), at(9, 30), nil), 400, "VALIDATION_FAILED"},
	}
	var decidedEdit TimeRequest
	for _, tc := range cases {
		var tr TimeRequest
		status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests", c.emp.Token, tc.body, &tr)
		if status != tc.status || (tc.code != "" && errorCode(t, raw).Error.Code != tc.code) {
			t.Errorf("%s: status %d %s, want %d %s", tc.name, status, raw, tc.status, tc.code)
		}
		if status == http.StatusCreated {
			decidedEdit = tr
		}
	}
	approve := func(id string) (int, []byte) {
		return testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+id+"/approve", c.lead.Token, nil, nil)
	}
	if status, raw := approve(decidedEdit.ID); status != 409 || errorCode(t, raw).Error.Code != "TIME_EDIT_DECIDED" {
		t.Errorf("approving an edit that drops decided idle time: status %d %s", status, raw)
	}
	// An edit filed before the day was locked is refused at approval, as
	// is one that moves a session's start into the locked day.
	late := h.requestEdit(c.emp, first, at(9, 10), at(10, 0), nil)
	h.lock(c.admin, "2027-06-14")
	if status, raw := approve(late.ID); status != 409 || errorCode(t, raw).Error.Code != "DAY_LOCKED" {
		t.Errorf("approving an edit of a locked day: status %d %s", status, raw)
	}
	h.assertExact(first, 60, 60*30, 0, -1)
	if s := h.sessionRow(first); !s.StartTime.Equal(at(9, 0)) {
		t.Errorf("a refused edit moved the session to %s", s.StartTime)
	}
	if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests", c.emp.Token,
		editBody(today, at(23, 30), h.clock.Now().Add(-2*time.Hour), nil), nil); status != 409 || errorCode(t, raw).Error.Code != "DAY_LOCKED" {
		t.Errorf("an edit whose new start is in a locked day: status %d %s", status, raw)
	}
}

// TestEditApprovalsKeepEveryTotalExactUnderConcurrentPosting approves
// edits of stopped sessions, two of which stretch into the same free
// hour, while the employee's agent posts into their running session: one
// of the pair is refused, and every session's totals and the member's
// stored activity are exactly what the edits leave of the posted activity
// plus the time they gained.
func TestEditApprovalsKeepEveryTotalExactUnderConcurrentPosting(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	now := h.clock.Now()
	base := now.Add(-9 * time.Hour).Truncate(time.Hour)
	// Four sessions an hour long, two hours apart, 45 s active a minute.
	var sids []string
	for i := range 4 {
		from := base.Add(time.Duration(2*i) * time.Hour)
		sids = append(sids, h.trackedSession(c.emp, from, from.Add(time.Hour), everyMinute("active", 45, from, from.Add(time.Hour))))
	}
	// The first two reach into the free hour between them: only one can.
	type edit struct {
		sid      string
		from, to time.Time
	}
	edits := []edit{
		{sids[0], base.Add(15 * time.Minute), base.Add(time.Hour + 50*time.Minute)},
		{sids[1], base.Add(time.Hour + 10*time.Minute), base.Add(3 * time.Hour)},
		{sids[2], base.Add(4*time.Hour + 30*time.Minute), base.Add(5*time.Hour + 30*time.Minute)},
		{sids[3], base.Add(6*time.Hour - 20*time.Minute), base.Add(6*time.Hour + 40*time.Minute)},
	}
	requests := make([]TimeRequest, len(edits))
	for i, e := range edits {
		requests[i] = h.requestEdit(c.emp, e.sid, e.from, e.to, nil)
	}
	running := h.startSession(c.emp, now.Add(-50*time.Minute))
	var posts []any
	var postedActive int64
	for i := range 300 {
		cid := fmt.Sprintf("r-%d", i)
		postedActive += int64(1 + i%30)
		posts = append(posts, singleBody{ActivityType: "active", DurationSeconds: 1 + i%30,
			Timestamp: ptr(now.Add(-45*time.Minute + time.Duration(i)*time.Second).Format(time.RFC3339Nano)), ClientActivityID: &cid})
	}
	wait := h.approveConcurrently(c.admin, requests)
	h.postConcurrently(c.emp.Token, "/api/sessions/"+running+"/activity", posts)
	statuses, answers := wait()
	for i, raw := range answers {
		if statuses[i] != http.StatusOK && (statuses[i] != http.StatusConflict || errorCode(t, raw).Error.Code != "TIME_OVERLAPS") {
			t.Errorf("approving edit %d: status %d: %s", i, statuses[i], raw)
		}
	}
	if statuses[0] == statuses[1] || statuses[2] != http.StatusOK || statuses[3] != http.StatusOK {
		t.Fatalf("approvals answered %v, want one of the first two refused and the rest approved", statuses)
	}
	// What each session counts: the minutes it kept of its own hour at 45 s
	// each, plus every second gained outside it, all active.
	var total int64
	for i, e := range edits {
		own := base.Add(time.Duration(2*i) * time.Hour)
		from, to := own, own.Add(time.Hour)
		if statuses[i] == http.StatusOK {
			from, to = e.from, e.to
		}
		var want int64
		for _, a := range everyMinute("active", 45, own, own.Add(time.Hour)) {
			if !a.at.Before(from) && a.at.Before(to) {
				want += 45
			}
		}
		want += int64(latest(own, from).Sub(from)/time.Second) + int64(to.Sub(earliest(own.Add(time.Hour), to))/time.Second)
		s := h.assertExact(e.sid, -1, 0, 0, -1)
		if s.TotalActiveSeconds != want || s.TotalIdleSeconds != 0 || !s.StartTime.Equal(from) || !s.EndTime.Equal(to) {
			t.Errorf("session %d: %s..%s with %d active seconds, want %s..%s with %d", i, s.StartTime, s.EndTime, s.TotalActiveSeconds, from, to, want)
		}
		total += want
	}
	h.assertExact(running, 300, postedActive, 0, 300)
	if a, idle := h.memberSeconds(c.emp.UserID); a != total+postedActive || idle != 0 {
		t.Errorf("the member's stored activity %d active / %d idle, want %d edited + %d posted", a, idle, total, postedActive)
	}
}
