package session

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestStartingStoppingAndTheActiveSession(t *testing.T) {
	h := newHarness(t)
	m := h.member("", authn.RoleEmployee)

	var active *tracking.Session
	if status, raw := h.do(http.MethodGet, m.Token, "/api/sessions/active", nil, &active); status != http.StatusOK || string(raw) != "null\n" {
		t.Fatalf("no session yet: %d %s", status, raw)
	}
	var s tracking.Session
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/start", nil, &s); status != http.StatusCreated {
		t.Fatalf("start: %d %s", status, raw)
	}
	if s.Status != "active" || s.UserID != m.UserID || s.OrganizationID != m.OrganizationID || s.EndTime != nil || s.Version != 1 ||
		s.TotalActiveSeconds != 0 || s.ProjectID != nil || !s.StartTime.Equal(h.clock.Now()) {
		t.Errorf("started %+v", s)
	}
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/start", map[string]any{}, nil); status != http.StatusConflict || errorCode(t, raw) != "SESSION_ALREADY_ACTIVE" {
		t.Errorf("second start: %d %s", status, raw)
	}
	h.do(http.MethodGet, m.Token, "/api/sessions/active", nil, &active)
	if active == nil || active.ID != s.ID {
		t.Errorf("active %+v, want %s", active, s.ID)
	}
	h.clock.Advance(25 * time.Minute)
	var stopped tracking.Session
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/"+s.ID+"/stop", nil, &stopped); status != http.StatusOK {
		t.Fatalf("stop: %d %s", status, raw)
	}
	if stopped.Status != "stopped" || stopped.EndTime == nil || !stopped.EndTime.Equal(s.StartTime.Add(25*time.Minute)) || stopped.Version != 2 {
		t.Errorf("stopped %+v", stopped)
	}
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/"+s.ID+"/stop", nil, nil); status != http.StatusConflict || errorCode(t, raw) != "SESSION_ALREADY_STOPPED" {
		t.Errorf("second stop: %d %s", status, raw)
	}
	if _, raw := h.do(http.MethodGet, m.Token, "/api/sessions/active", nil, nil); string(raw) != "null\n" {
		t.Errorf("active after stop: %s", raw)
	}
	var got tracking.Session
	if status, _ := h.do(http.MethodGet, m.Token, "/api/sessions/"+s.ID, nil, &got); status != http.StatusOK || got.Status != "stopped" {
		t.Errorf("get: %d %+v", status, got)
	}
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/start", nil, nil); status != http.StatusCreated {
		t.Errorf("start after stop: %d %s", status, raw)
	}
}

// TestSessionsStartAndStopByTheClockAtEveryCalendarInstant stands the
// service on each calendar instant: a session started and stopped without
// times runs from the clock's reading at the start to its reading at the
// stop, across a day's, a month's and a year's end; a time after the
// clock's is refused; and a stop defaults to the last activity when that
// is ahead of the clock (ingest lets it be).
func TestSessionsStartAndStopByTheClockAtEveryCalendarInstant(t *testing.T) {
	h := newHarness(t)
	for _, inst := range testkit.CalendarInstants() {
		t.Run(inst.Name, func(t *testing.T) {
			h.clock.Set(inst.At)
			m := h.member("", authn.RoleEmployee)
			path := "/api/sessions/start"
			if status, raw := h.do(http.MethodPost, m.Token, path, map[string]any{"start_time": rfc(inst.At.Add(time.Microsecond))}, nil); status != http.StatusBadRequest || errorCode(t, raw) != "SESSION_INVALID_TIMESTAMP" {
				t.Errorf("a start a microsecond after the clock: %d %s", status, raw)
			}
			var s tracking.Session
			if status, raw := h.do(http.MethodPost, m.Token, path, nil, &s); status != http.StatusCreated || !s.StartTime.Equal(inst.At) {
				t.Fatalf("start: %d %s", status, raw)
			}
			h.clock.Advance(45 * time.Second)
			stop := "/api/sessions/" + s.ID + "/stop"
			if status, raw := h.do(http.MethodPost, m.Token, stop, map[string]any{"end_time": rfc(inst.At.Add(46 * time.Second))}, nil); status != http.StatusBadRequest || errorCode(t, raw) != "SESSION_INVALID_TIMESTAMP" {
				t.Errorf("an end a second after the clock: %d %s", status, raw)
			}
			var stopped tracking.Session
			if status, raw := h.do(http.MethodPost, m.Token, stop, nil, &stopped); status != http.StatusOK || stopped.EndTime == nil {
				t.Fatalf("stop: %d %s", status, raw)
			}
			if want := inst.At.Add(45 * time.Second); !stopped.EndTime.Equal(want) {
				t.Errorf("ended at %v, want the clock's %v", stopped.EndTime, want)
			}

			if status, raw := h.do(http.MethodPost, m.Token, path, nil, &s); status != http.StatusCreated {
				t.Fatalf("second start: %d %s", status, raw)
			}
			ahead := h.clock.Now().Add(3 * time.Minute)
			if _, err := h.db.Owner.Exec(context.Background(), "UPDATE tracking.work_sessions SET last_activity_at = $2 WHERE id = $1", s.ID, ahead); err != nil {
				t.Fatal(err)
			}
			if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/"+s.ID+"/stop", nil, &stopped); status != http.StatusOK || stopped.EndTime == nil || !stopped.EndTime.Equal(ahead) {
				t.Errorf("a stop before the last activity ends at %v, want %v: %d %s", stopped.EndTime, ahead, status, raw)
			}
		})
	}
}

func TestOnlyOneOfManyConcurrentStartsSucceeds(t *testing.T) {
	h := newHarness(t)
	m := h.member("", authn.RoleEmployee)
	var wg sync.WaitGroup
	statuses := make(chan int, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, _, err := h.try(http.MethodPost, m.Token, "/api/sessions/start", nil)
			if err == nil {
				statuses <- status
			}
		}()
	}
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for s := range statuses {
		counts[s]++
	}
	if counts[http.StatusCreated] != 1 || counts[http.StatusConflict] != 19 {
		t.Errorf("statuses %v, want one 201 and nineteen 409", counts)
	}
}

func TestSessionTimestampAndOwnershipRules(t *testing.T) {
	h := newHarness(t)
	m, colleague, stranger := h.team(authn.RoleEmployee, authn.RoleAdmin)
	var theirs Project
	h.do(http.MethodPost, stranger.Token, "/api/projects", map[string]any{"name": "Theirs"}, &theirs)
	var mine Project
	h.do(http.MethodPost, m.Token, "/api/projects", map[string]any{"name": "Mine"}, &mine)

	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"A start_time in the future is SESSION_INVALID_TIMESTAMP.", map[string]any{"start_time": rfc(h.clock.Now().Add(time.Minute))}, http.StatusBadRequest, "SESSION_INVALID_TIMESTAMP"},
		{"A start_time older than the accepted window of 30 days is SESSION_INVALID_TIMESTAMP.",
			map[string]any{"start_time": rfc(h.clock.Now().Add(-30*24*time.Hour - time.Second))}, http.StatusBadRequest, "SESSION_INVALID_TIMESTAMP"},
		{"A project of another organization is PROJECT_NOT_FOUND.", map[string]any{"project_id": theirs.ID}, http.StatusNotFound, "PROJECT_NOT_FOUND"},
		{"An unknown project is PROJECT_NOT_FOUND.", map[string]any{"project_id": uuid.NewString()}, http.StatusNotFound, "PROJECT_NOT_FOUND"},
		{"A project_id that is not a UUID is VALIDATION_FAILED.", map[string]any{"project_id": "p1"}, http.StatusBadRequest, "VALIDATION_FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/start", tc.body, nil)
			if status != tc.status || errorCode(t, raw) != tc.code {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	start := h.clock.Now().Add(-2 * time.Hour)
	var s tracking.Session
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/start", map[string]any{"start_time": rfc(start), "project_id": mine.ID}, &s); status != http.StatusCreated {
		t.Fatalf("start in the past: %d %s", status, raw)
	}
	if !s.StartTime.Equal(start) || s.ProjectID == nil || *s.ProjectID != mine.ID {
		t.Errorf("started %+v", s)
	}
	// Activity was recorded an hour in.
	if _, err := h.db.Owner.Exec(context.Background(), "UPDATE tracking.work_sessions SET last_activity_at = $2 WHERE id = $1", s.ID, start.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		token  string
		body   any
		status int
		code   string
	}{
		{"An end_time before the start is SESSION_INVALID_TIMESTAMP.", m.Token, map[string]any{"end_time": rfc(start.Add(-time.Second))}, http.StatusBadRequest, "SESSION_INVALID_TIMESTAMP"},
		{"An end_time before the last activity is SESSION_INVALID_TIMESTAMP.", m.Token, map[string]any{"end_time": rfc(start.Add(30 * time.Minute))}, http.StatusBadRequest, "SESSION_INVALID_TIMESTAMP"},
		{"An end_time in the future is SESSION_INVALID_TIMESTAMP.", m.Token, map[string]any{"end_time": rfc(h.clock.Now().Add(time.Hour))}, http.StatusBadRequest, "SESSION_INVALID_TIMESTAMP"},
		{"A colleague, even an admin, cannot stop it: 404.", colleague.Token, nil, http.StatusNotFound, "SESSION_NOT_FOUND"},
		{"Another organization cannot stop it: 404.", stranger.Token, nil, http.StatusNotFound, "SESSION_NOT_FOUND"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.do(http.MethodPost, tc.token, "/api/sessions/"+s.ID+"/stop", tc.body, nil)
			if status != tc.status || errorCode(t, raw) != tc.code {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	if status, raw := h.do(http.MethodGet, stranger.Token, "/api/sessions/"+s.ID, nil, nil); status != http.StatusNotFound {
		t.Errorf("another org reads it: %d %s", status, raw)
	}
	if status, _ := h.do(http.MethodGet, colleague.Token, "/api/sessions/"+s.ID, nil, nil); status != http.StatusOK {
		t.Errorf("an admin of the org cannot read it: %d", status)
	}
	end := start.Add(90 * time.Minute)
	var stopped tracking.Session
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/"+s.ID+"/stop", map[string]any{"end_time": rfc(end)}, &stopped); status != http.StatusOK || !stopped.EndTime.Equal(end) {
		t.Errorf("stop at %v: %d %s", end, status, raw)
	}
}

func TestASuspendedTenantCannotStartSessionsOrCreateProjects(t *testing.T) {
	h := newHarness(t)
	m := h.member("", authn.RoleAdmin)
	if _, err := h.db.Owner.Exec(context.Background(), "INSERT INTO tracking.tenants (organization_id, suspended, generation) VALUES ($1, true, 1)", m.OrganizationID); err != nil {
		t.Fatal(err)
	}
	if status, raw := h.do(http.MethodPost, m.Token, "/api/sessions/start", nil, nil); status != http.StatusForbidden || errorCode(t, raw) != "TENANT_SUSPENDED" {
		t.Errorf("start: %d %s", status, raw)
	}
	if status, raw := h.do(http.MethodPost, m.Token, "/api/projects", map[string]any{"name": "x"}, nil); status != http.StatusForbidden || errorCode(t, raw) != "TENANT_SUSPENDED" {
		t.Errorf("project: %d %s", status, raw)
	}
	other := h.member("", authn.RoleAdmin)
	if status, raw := h.do(http.MethodPost, other.Token, "/api/sessions/start", nil, nil); status != http.StatusCreated {
		t.Errorf("another tenant: %d %s", status, raw)
	}
}

func TestListingSessionsPagesByCursorAndFilters(t *testing.T) {
	h := newHarness(t)
	m, admin, stranger := h.team(authn.RoleEmployee, authn.RoleAdmin)
	base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	var ids []string // newest first
	for i := 6; i >= 0; i-- {
		id := uuid.NewString()
		start := base.AddDate(0, 0, i)
		if _, err := h.db.Owner.Exec(context.Background(), "INSERT INTO tracking.work_sessions (id, organization_id, user_id, start_time, end_time, status) VALUES ($1, $2, $3, $4, $5, 'stopped')",
			id, m.OrganizationID, m.UserID, start, start.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	page := func(token, query string) sessionPage {
		t.Helper()
		var p sessionPage
		if status, raw := h.do(http.MethodGet, token, "/api/sessions"+query, nil, &p); status != http.StatusOK {
			t.Fatalf("%s: %d %s", query, status, raw)
		}
		return p
	}
	var walked []string
	cursor := ""
	for range 4 {
		p := page(m.Token, "?limit=3"+cursor)
		for _, s := range p.Sessions {
			walked = append(walked, s.ID)
		}
		if p.NextCursor == nil {
			break
		}
		cursor = "&cursor=" + *p.NextCursor
	}
	if fmt.Sprint(walked) != fmt.Sprint(ids) {
		t.Errorf("pages walked %v, want %v", walked, ids)
	}
	// from is inclusive, a date as "to" includes that day.
	if p := page(m.Token, "?from=2026-03-02&to=2026-03-04"); len(p.Sessions) != 3 || p.Sessions[0].ID != ids[3] || p.Sessions[2].ID != ids[5] || p.NextCursor != nil {
		t.Errorf("filtered %+v", p)
	}
	if p := page(admin.Token, "?user_id="+m.UserID); len(p.Sessions) != 7 {
		t.Errorf("an admin sees %d of the user's sessions", len(p.Sessions))
	}
	if p := page(stranger.Token, "?user_id="+m.UserID); len(p.Sessions) != 0 {
		t.Errorf("another org's admin sees %d sessions", len(p.Sessions))
	}
	if p := page(admin.Token, ""); len(p.Sessions) != 0 {
		t.Errorf("the admin's own list has %d sessions", len(p.Sessions))
	}
	for _, tc := range []struct {
		name, token, query string
		status             int
	}{
		{"An employee may not list another user's sessions.", m.Token, "?user_id=" + admin.UserID, http.StatusForbidden},
		{"A malformed cursor is refused.", m.Token, "?cursor=zzz", http.StatusBadRequest},
		{"A limit over 200 is refused.", m.Token, "?limit=201", http.StatusBadRequest},
		{"A malformed from is refused.", m.Token, "?from=March", http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if status, raw := h.do(http.MethodGet, tc.token, "/api/sessions"+tc.query, nil, nil); status != tc.status {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
}

func TestSessionStartAndStopEmitEventsThroughTheOutbox(t *testing.T) {
	h := newHarness(t)
	brokers := testkit.Kafka(t)
	m := h.member("", authn.RoleEmployee)
	var s tracking.Session
	h.do(http.MethodPost, m.Token, "/api/sessions/start", nil, &s)
	h.do(http.MethodPost, m.Token, "/api/sessions/start", nil, nil) // refused: no event
	h.do(http.MethodPost, m.Token, "/api/sessions/"+s.ID+"/stop", nil, nil)

	w := kafkax.NewWriter(brokers)
	defer w.Close()
	if n, err := outbox.NewRelay(h.pool, tracking.OutboxTable, w, nil, testLogger()).Flush(context.Background()); err != nil || n != 2 {
		t.Fatalf("relayed %d events: %v", n, err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(events.TopicSessions), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var got []events.Envelope
	for waited := clock.Start(); len(got) < 2 && waited.Elapsed() < 10*time.Second; {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			env, err := events.Decode(r.Value)
			if err != nil {
				t.Error(err)
			}
			got = append(got, env)
		})
		cancel()
	}
	if len(got) != 2 || got[0].Type != events.TypeSessionStarted || got[1].Type != events.TypeSessionStopped {
		t.Fatalf("events %+v", got)
	}
	var stopped events.SessionStopped
	if err := json.Unmarshal(got[1].Data, &stopped); err != nil {
		t.Fatal(err)
	}
	if stopped.SessionID != s.ID || stopped.Status != "stopped" || stopped.EndTime == nil || got[1].Key != m.UserID || got[1].Source != "session" {
		t.Errorf("session.stopped %+v", stopped)
	}
}

// TestAnOrganizationsOwnWindowBoundsItsStartTimes: a start_time 40 days back
// is refused under the installation's 30 days and taken by an organization
// that set 60.
func TestAnOrganizationsOwnWindowBoundsItsStartTimes(t *testing.T) {
	h := newHarness(t)
	long, short := h.member("", authn.RoleEmployee), h.member("", authn.RoleEmployee)
	if _, err := h.db.Owner.Exec(context.Background(), "INSERT INTO tracking.tenants (organization_id, activity_window_days) VALUES ($1, 60)", long.OrganizationID); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"start_time": rfc(h.clock.Now().AddDate(0, 0, -40))}
	if status, raw := h.do(http.MethodPost, long.Token, "/api/sessions/start", body, nil); status != http.StatusCreated {
		t.Errorf("a window of 60 days: status %d: %s", status, raw)
	}
	status, raw := h.do(http.MethodPost, short.Token, "/api/sessions/start", body, nil)
	if status != http.StatusBadRequest || errorCode(t, raw) != "SESSION_INVALID_TIMESTAMP" || !strings.Contains(string(raw), "too old") {
		t.Errorf("the installation's 30 days: status %d: %s", status, raw)
	}
}
