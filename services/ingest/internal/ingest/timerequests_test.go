package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// reviewCast is an employee, the manager of their team, a manager of
// another team and an admin of one organization.
type reviewCast struct {
	emp, lead, otherLead, admin member
}

func (h *harness) reviewCast() reviewCast {
	h.t.Helper()
	teams := testkit.NewTeams(h.t, h.db, "workpulse_ingest", h.iss.Verifier)
	var c reviewCast
	c.emp = h.member("")
	as := func(role string) member {
		p := testkit.Member(c.emp.OrganizationID, role)
		return member{Principal: p, Token: h.iss.Token(h.t, p)}
	}
	c.lead, c.otherLead, c.admin = as(authn.RoleManager), as(authn.RoleManager), as(authn.RoleAdmin)
	teams.Manage(h.t, c.emp.OrganizationID, c.lead.UserID, c.emp.UserID)
	teams.Manage(h.t, c.emp.OrganizationID, c.otherLead.UserID)
	return c
}

func entryBody(from, to time.Time, project *string) map[string]any {
	b := map[string]any{"start_time": from.Format(time.RFC3339Nano), "end_time": to.Format(time.RFC3339Nano), "note": "client visit"}
	if project != nil {
		b["project_id"] = *project
	}
	return b
}

// requestEntry files a manual entry as m and returns it.
func (h *harness) requestEntry(m member, from, to time.Time, project *string) TimeRequest {
	h.t.Helper()
	var tr TimeRequest
	if status, raw := testkit.Do(h.t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests", m.Token, entryBody(from, to, project), &tr); status != http.StatusCreated {
		h.t.Fatalf("request: status %d: %s", status, raw)
	}
	return tr
}

// approveConcurrently approves every request as reviewer at once; wait
// returns the answers in the requests' order.
func (h *harness) approveConcurrently(reviewer member, requests []TimeRequest) (wait func() (statuses []int, answers [][]byte)) {
	statuses, answers := make([]int, len(requests)), make([][]byte, len(requests))
	var wg sync.WaitGroup
	for i, r := range requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, raw, err := testkit.Request(h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+r.ID+"/approve", reviewer.Token, nil)
			if err != nil {
				h.t.Error(err)
			}
			statuses[i], answers[i] = status, raw
		}()
	}
	return func() ([]int, [][]byte) {
		wg.Wait()
		return statuses, answers
	}
}

// memberSeconds sums the stored activity of a member.
func (h *harness) memberSeconds(user string) (active, idle int64) {
	h.t.Helper()
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0),
		coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) FROM tracking.activity_logs WHERE user_id = $1`, user).Scan(&active, &idle); err != nil {
		h.t.Fatal(err)
	}
	return active, idle
}

func TestAManualEntryCountsOnlyOnceApproved(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	proj := h.project(c.emp.OrganizationID, false)
	// Across a UTC midnight and starting off the minute, 1h 30m 17s.
	from := time.Date(2027, 6, 13, 23, 15, 43, 0, time.UTC)
	to := from.Add(90*time.Minute + 17*time.Second)
	pending := h.requestEntry(c.emp, from, to, &proj)
	rejected := h.requestEntry(c.emp, from.Add(-5*time.Hour), from.Add(-4*time.Hour), nil)
	if pending.Status != RequestPending || pending.SessionID != nil {
		t.Fatalf("a new request: %+v", pending)
	}
	if a, _ := h.memberSeconds(c.emp.UserID); a != 0 {
		t.Fatalf("%d active seconds stored before any approval", a)
	}
	var res timeReviewResult
	if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+rejected.ID+"/reject", c.lead.Token,
		map[string]any{"note": "no visit that day"}, &res); status != http.StatusOK || res.Request.Status != RequestRejected || res.Session != nil {
		t.Fatalf("reject: status %d: %s", status, raw)
	}
	if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+pending.ID+"/approve", c.lead.Token, nil, &res); status != http.StatusOK {
		t.Fatalf("approve: status %d: %s", status, raw)
	}
	want := int64(to.Sub(from) / time.Second)
	s := res.Session
	if s == nil || s.TotalActiveSeconds != want || s.TotalIdleSeconds != 0 || s.Status != "stopped" || !s.StartTime.Equal(from) ||
		s.EndTime == nil || !s.EndTime.Equal(to) || s.ProjectID == nil || *s.ProjectID != proj || res.Request.SessionID == nil || *res.Request.SessionID != s.ID {
		t.Fatalf("the approved entry's session: %+v of %+v", s, res.Request)
	}
	h.assertExact(s.ID, -1, 0, 0, 0)
	if a, idle := h.memberSeconds(c.emp.UserID); a != want || idle != 0 {
		t.Errorf("stored %d active / %d idle seconds, want the entry's %d", a, idle, want)
	}
	// Each local day gets its own seconds: 44 min 17 s up to midnight UTC.
	var before int64
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT sum(duration_seconds) FROM tracking.activity_logs
		WHERE session_id = $1 AND occurred_at < '2027-06-14T00:00:00Z'`, s.ID).Scan(&before); err != nil {
		t.Fatal(err)
	}
	if before != 44*60+17 {
		t.Errorf("%d seconds before midnight, want %d", before, 44*60+17)
	}
	var first, last time.Time
	if err := h.db.Owner.QueryRow(context.Background(), `SELECT (payload->'data'->>'first_at')::timestamptz, (payload->'data'->>'last_at')::timestamptz
		FROM tracking.outbox WHERE payload->>'type' = $1 AND payload->'data'->>'decision_id' = $2`, events.TypeActivityCorrected, pending.ID).Scan(&first, &last); err != nil {
		t.Fatalf("the approval's activity.corrected event: %v", err)
	}
	if !first.Equal(from) || !last.Before(to) || last.Before(to.Add(-time.Minute)) {
		t.Errorf("activity.corrected spans %s..%s, want the entry's days from %s", first, last, from)
	}
	// Every step is audited with the request before and after.
	rows, err := h.db.Owner.Query(context.Background(), `SELECT action, actor_id::text, subject_id::text, details->'before'->>'status', details->'after'->>'status'
		FROM auth.audit_log WHERE organization_id = $1 ORDER BY occurred_at, action`, c.emp.OrganizationID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for rows.Next() {
		var action, actor, subject string
		var bs, as *string
		if err := rows.Scan(&action, &actor, &subject, &bs, &as); err != nil {
			t.Fatal(err)
		}
		if subject != c.emp.UserID {
			t.Errorf("%s about %s, want the employee", action, subject)
		}
		got[fmt.Sprintf("%s by %s: %v -> %v", action, map[bool]string{true: "employee", false: "manager"}[actor == c.emp.UserID], deref(bs), deref(as))]++
	}
	if rows.Err() != nil {
		t.Fatal(rows.Err())
	}
	wantAudit := map[string]int{"time.requested by employee: <nil> -> pending": 2, "time.approved by manager: pending -> approved": 1,
		"time.rejected by manager: pending -> rejected": 1}
	if fmt.Sprint(got) != fmt.Sprint(wantAudit) {
		t.Errorf("audit entries %v, want %v", got, wantAudit)
	}
}

func TestATimeRequestIsReviewedOnlyByTheMembersManagerOrAnAdmin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	colleague := h.member(c.emp.OrganizationID)
	from := h.clock.Now().Add(-3 * time.Hour)
	tr := h.requestEntry(c.emp, from, from.Add(time.Hour), nil)
	own := h.requestEntry(c.lead, from, from.Add(time.Hour), nil)
	stranger := h.member("")
	cases := []struct {
		name, token, path string
		status            int
		code              string
	}{
		{"The employee cannot approve their own time.", c.emp.Token, tr.ID + "/approve", 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"A colleague cannot approve it.", colleague.Token, tr.ID + "/approve", 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"A manager of another team does not see it.", c.otherLead.Token, tr.ID + "/approve", 404, "TIME_REQUEST_NOT_FOUND"},
		{"Another organization does not see it.", stranger.Token, tr.ID + "/reject", 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"A manager does not review their own request.", c.lead.Token, own.ID + "/approve", 403, "TIME_REQUEST_SELF_REVIEW"},
		{"An unknown request is not found.", c.admin.Token, "not-an-id/approve", 404, "TIME_REQUEST_NOT_FOUND"},
		{"The admin approves the manager's request.", c.admin.Token, own.ID + "/approve", 200, ""},
		{"A reviewed request is not reviewed again.", c.admin.Token, own.ID + "/reject", 409, "TIME_REQUEST_REVIEWED"},
		{"The employee's manager approves.", c.lead.Token, tr.ID + "/approve", 200, ""},
	}
	for _, tc := range cases {
		status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+tc.path, tc.token, nil, nil)
		if status != tc.status || (tc.code != "" && errorCode(t, raw).Error.Code != tc.code) {
			t.Errorf("%s: status %d %s, want %d %s", tc.name, status, raw, tc.status, tc.code)
		}
	}
	listed := func(token string) int {
		var l struct {
			Requests []TimeRequest `json:"requests"`
		}
		if status, raw := testkit.Do(t, h.client, http.MethodGet, h.srv.URL+"/api/time-requests", token, nil, &l); status != http.StatusOK {
			t.Fatalf("list: status %d: %s", status, raw)
		}
		return len(l.Requests)
	}
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{"The employee lists their own.", c.emp.Token, 1}, {"A colleague lists none.", colleague.Token, 0},
		{"The employee's manager lists the employee's and their own.", c.lead.Token, 2},
		{"A manager of another team lists none.", c.otherLead.Token, 0}, {"The admin lists all.", c.admin.Token, 2},
	} {
		if got := listed(tc.token); got != tc.want {
			t.Errorf("%s: %d requests, want %d", tc.name, got, tc.want)
		}
	}
	bad := []struct {
		name string
		body map[string]any
	}{
		{"An entry in the future is refused.", entryBody(h.clock.Now().Add(-time.Minute), h.clock.Now().Add(time.Hour), nil)},
		{"An entry longer than a day is refused.", entryBody(from.Add(-30*time.Hour), from, nil)},
		{"An entry that ends before it starts is refused.", entryBody(from, from.Add(-time.Minute), nil)},
	}
	for _, tc := range bad {
		if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests", c.emp.Token, tc.body, nil); status != 400 || errorCode(t, raw).Error.Code != "VALIDATION_FAILED" {
			t.Errorf("%s: status %d %s", tc.name, status, raw)
		}
	}
	if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests", c.emp.Token, entryBody(from.Add(30*time.Minute), from.Add(2*time.Hour), nil), nil); status != 409 || errorCode(t, raw).Error.Code != "TIME_OVERLAPS" {
		t.Errorf("an entry over the approved one: status %d %s", status, raw)
	}
}

// TestApprovalsKeepEveryTotalExactUnderConcurrentPosting approves manual
// entries, two of them overlapping, at the same time as the employee's
// agent posts into their running session: the overlapping pair counts
// once, and every session's totals and the member's stored activity are
// exactly the posted activity plus the approved entries.
func TestApprovalsKeepEveryTotalExactUnderConcurrentPosting(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := h.reviewCast()
	now := h.clock.Now()
	sid := h.startSession(c.emp, now.Add(-time.Hour))
	var entries []TimeRequest
	for i := range 6 {
		from := now.Add(-time.Duration(10-i) * 2 * time.Hour).Add(time.Duration(i) * 7 * time.Second)
		entries = append(entries, h.requestEntry(c.emp, from, from.Add(time.Duration(40+i)*time.Minute), nil))
	}
	// The last one overlaps the first.
	entries = append(entries, h.requestEntry(c.emp, entries[0].StartTime.Add(10*time.Minute), entries[0].EndTime.Add(10*time.Minute), nil))
	var posts []any
	var posted int64
	for i := range 300 {
		cid := fmt.Sprintf("c-%d", i)
		posted += int64(1 + i%30)
		posts = append(posts, singleBody{ActivityType: "active", DurationSeconds: 1 + i%30,
			Timestamp: ptr(now.Add(-50*time.Minute + time.Duration(i)*time.Second).Format(time.RFC3339Nano)), ClientActivityID: &cid})
	}
	wait := h.approveConcurrently(c.admin, entries)
	h.postConcurrently(c.emp.Token, "/api/sessions/"+sid+"/activity", posts)
	statuses, answers := wait()
	results := make([]timeReviewResult, len(entries))
	for i, raw := range answers {
		if statuses[i] == http.StatusOK {
			if err := json.Unmarshal(raw, &results[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if statuses[0] == statuses[6] || statuses[0]+statuses[6] != http.StatusOK+http.StatusConflict {
		t.Errorf("the overlapping pair answered %d and %d, want one 200 and one 409", statuses[0], statuses[6])
	}
	var approved int64
	for i, r := range results {
		if statuses[i] != http.StatusOK {
			continue
		}
		want := int64(entries[i].EndTime.Sub(entries[i].StartTime) / time.Second)
		approved += want
		if s := h.assertExact(r.Session.ID, -1, 0, 0, 0); s.TotalActiveSeconds != want {
			t.Errorf("entry %d: session %d active seconds, want %d", i, s.TotalActiveSeconds, want)
		}
	}
	h.assertExact(sid, 300, posted, 0, 300)
	if a, idle := h.memberSeconds(c.emp.UserID); a != posted+approved || idle != 0 {
		t.Errorf("the member's stored activity %d active / %d idle, want %d posted + %d approved", a, idle, posted, approved)
	}
}

// TestEachStepOfATimeRequestIsPublishedWithIdsAndTimesOnly files an entry
// and an edit, approves one and rejects the other, and reads the time
// topic: one event per step, in order, each the request after it, and no
// note of the employee's or the reviewer's.
func TestEachStepOfATimeRequestIsPublishedWithIdsAndTimesOnly(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	brokers := testkit.Kafka(t)
	c := h.reviewCast()
	from := h.clock.Now().Add(-5 * time.Hour)
	entry := h.requestEntry(c.emp, from, from.Add(time.Hour), nil)
	sid := h.trackedSession(c.emp, from.Add(2*time.Hour), from.Add(3*time.Hour), nil)
	edit := h.requestEdit(c.emp, sid, from.Add(2*time.Hour), from.Add(3*time.Hour+10*time.Minute), nil)
	var approved timeReviewResult
	if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+entry.ID+"/approve", c.lead.Token,
		map[string]any{"note": "reviewer's secret remark"}, &approved); status != http.StatusOK {
		t.Fatalf("approve: status %d: %s", status, raw)
	}
	if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+edit.ID+"/reject", c.lead.Token, nil, nil); status != http.StatusOK {
		t.Fatalf("reject: status %d: %s", status, raw)
	}
	w := kafkax.NewWriter(brokers)
	defer w.Close()
	if _, err := outbox.NewRelay(h.pool, tracking.OutboxTable, w, nil, quietLogger()).Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	msgs := readTopic(t, brokers, events.TopicTime, 4, 10*time.Second)
	var got []string
	for _, raw := range msgs {
		if bytes.Contains(raw, []byte("client visit")) || bytes.Contains(raw, []byte("secret remark")) {
			t.Errorf("an event carries a note: %s", raw)
		}
		env, err := events.Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		var p events.TimeRequest
		dec := json.NewDecoder(bytes.NewReader(env.Data))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&p); err != nil {
			t.Fatalf("payload %s: %v", env.Data, err)
		}
		if env.Source != "ingest" || env.OrganizationID != c.emp.OrganizationID || env.Key != c.emp.UserID || p.UserID != c.emp.UserID ||
			p.OrganizationID != c.emp.OrganizationID {
			t.Errorf("envelope %+v, payload %+v", env, p)
		}
		reviewer := "-"
		if p.ReviewedBy != nil {
			reviewer = map[bool]string{true: "lead", false: *p.ReviewedBy}[*p.ReviewedBy == c.lead.UserID]
		}
		session := "-"
		switch {
		case p.SessionID == nil:
		case *p.SessionID == sid:
			session = "edited"
		case approved.Session != nil && *p.SessionID == approved.Session.ID:
			session = "became"
		}
		got = append(got, fmt.Sprintf("%s %s %s %s by %s, session %s, %s", env.Type, map[bool]string{true: "entry", false: "edit"}[p.RequestID == entry.ID],
			p.Kind, p.Status, reviewer, session, p.EndTime.Sub(p.StartTime)))
	}
	want := []string{
		"time.requested entry entry pending by -, session -, 1h0m0s",
		"time.requested edit edit pending by -, session edited, 1h10m0s",
		"time.approved entry entry approved by lead, session became, 1h0m0s",
		"time.rejected edit edit rejected by lead, session edited, 1h10m0s",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
