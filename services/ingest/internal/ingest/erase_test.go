package ingest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestAnErasureLeavesNothingOfTheMemberInTrackingButTheirIDOnlySessionEvents
// records a member's activity with URLs, a pending and an approved manual
// entry through the API, and a colleague's the same way, with none of the
// outbox relayed yet; then applies user.removed with erasure as ingest's
// and session's consumers do, as their roles. Every tracking table and the
// outbox are searched for the member's id and URLs afterwards: only the
// session events, which carry ids and totals, may still name them.
func TestAnErasureLeavesNothingOfTheMemberInTrackingButTheirIDOnlySessionEvents(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	c := h.reviewCast()
	colleague := member{Principal: testkit.Member(c.emp.OrganizationID, "employee")}
	colleague.Token = h.iss.Token(t, colleague.Principal)
	start := h.clock.Now().Add(-time.Hour)
	urls := map[string]string{}
	for i, m := range []member{c.emp, colleague} {
		urls[m.UserID] = fmt.Sprintf("https://diary-%d.test/entries/private?day=%d", i, i)
		url := urls[m.UserID]
		sid := h.startSession(m, start)
		if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity", singleBody{ActivityType: "active", DurationSeconds: 30, URL: &url,
			Timestamp: ptr(start.Add(time.Minute).Format(time.RFC3339Nano)), ClientActivityID: ptr("single")}, nil); status != http.StatusCreated {
			t.Fatalf("single post: status %d: %s", status, raw)
		}
		items, _, _ := batch("bulk", 0, 3, start.Add(2*time.Minute))
		for j := range items {
			items[j].URL = &url
		}
		if status, raw := h.post(m.Token, "/api/sessions/"+sid+"/activity/bulk", map[string]any{"activities": items}, nil); status != http.StatusCreated {
			t.Fatalf("bulk post: status %d: %s", status, raw)
		}
		h.requestEntry(m, start.Add(-5*time.Hour), start.Add(-4*time.Hour), nil)
		approved := h.requestEntry(m, start.Add(-3*time.Hour), start.Add(-2*time.Hour), nil)
		if status, raw := testkit.Do(t, h.client, http.MethodPost, h.srv.URL+"/api/time-requests/"+approved.ID+"/approve", c.admin.Token, nil, nil); status != http.StatusOK {
			t.Fatalf("approve: status %d: %s", status, raw)
		}
		// What session enqueues when it stops a removed member's session.
		sess, err := h.stop(m, sid)
		if err != nil {
			t.Fatal(err)
		}
		if err := pg.InOrg(ctx, h.sessionPool, m.OrganizationID, func(tx pgx.Tx) error {
			ev, err := events.New(h.clock.Now(), "session", events.TypeSessionStopped, m.OrganizationID, m.UserID, events.SessionStopped{Session: sess.Event()})
			if err != nil {
				return err
			}
			return outbox.Enqueue(ctx, tx, tracking.OutboxTable, ev)
		}); err != nil {
			t.Fatal(err)
		}
	}

	// held counts, per tracking table, the rows whose text contains
	// needle; the outbox's session events are counted apart.
	held := func(needle string) map[string]int {
		t.Helper()
		rows, err := h.db.Owner.Query(ctx, `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = 'tracking' AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1`)
		if err != nil {
			t.Fatal(err)
		}
		tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		count := func(name, sql string) {
			var n int
			if err := h.db.Owner.QueryRow(ctx, sql, needle).Scan(&n); err != nil {
				t.Fatalf("%s: %v", sql, err)
			}
			if n > 0 {
				out[name] = n
			}
		}
		for _, table := range tables {
			q := "SELECT count(*) FROM tracking." + pgx.Identifier{table}.Sanitize() + " t WHERE strpos(t::text, $1) > 0"
			if table != "outbox" {
				count(table, q)
				continue
			}
			session := " AND payload->>'type' IN ('" + events.TypeSessionStarted + "', '" + events.TypeSessionStopped + "')"
			count("outbox session events", q+session)
			count("outbox", q+" AND NOT (true"+session+")")
		}
		return out
	}
	gone, stays := c.emp.UserID, colleague.UserID
	before := map[string]map[string]int{}
	for _, needle := range []string{gone, urls[gone], stays, urls[stays]} {
		before[needle] = held(needle)
	}
	for _, table := range []string{"activity_logs", "activity_dedup", "time_requests", "work_sessions", "outbox", "outbox session events"} {
		if before[gone][table] == 0 || before[stays][table] == 0 {
			t.Fatalf("before the erasure %s holds %d rows of the member and %d of the colleague", table, before[gone][table], before[stays][table])
		}
	}
	if before[urls[gone]]["activity_logs"] != 4 {
		t.Fatalf("before the erasure %d activities carry the member's URL, want 4", before[urls[gone]]["activity_logs"])
	}

	ev, err := events.New(h.clock.Now(), "auth", events.TypeUserRemoved, c.emp.OrganizationID, gone,
		events.UserRemoved{UserID: gone, OrganizationID: c.emp.OrganizationID, EraseData: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := tracking.ApplyUserEvent(ctx, h.pool, "ingest-users", tracking.EraseActivity, ev); err != nil {
		t.Fatal(err)
	}
	// session's part of the erasure; its remover also stops the active
	// session, which the arrangement did above.
	if err := tracking.ApplyUserEvent(ctx, h.sessionPool, "session-users", func(ctx context.Context, tx pgx.Tx, u events.UserRemoved) error {
		return tracking.EraseSessions(ctx, tx, u.UserID)
	}, ev); err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		needle string
		want   map[string]int
	}{
		{"The member's id is left only in the session event kept for the board and the reports.", gone, map[string]int{"outbox session events": 1}},
		{"The member's URL is left nowhere.", urls[gone], map[string]int{}},
		{"The colleague's rows are all still there.", stays, before[stays]},
		{"The colleague's URL is still where it was.", urls[stays], before[urls[stays]]},
	} {
		if got := held(tc.needle); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s Rows holding %q: %v, want %v", tc.name, tc.needle, got, tc.want)
		}
	}
}
