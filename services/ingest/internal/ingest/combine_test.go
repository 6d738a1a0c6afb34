package ingest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// pendingPost makes a queued single-activity post of m on session sid.
func (h *harness) pendingPost(m member, sid, typ string, seconds int, cid *string, ts time.Time) *pendingOne {
	h.t.Helper()
	return &pendingOne{org: m.OrganizationID, uid: m.UserID, sessionID: sid, ev: (&Store{clock: h.clock}).newEvent(), done: make(chan struct{}),
		act: Activity{ID: uuid.NewString(), SessionID: sid, ClientActivityID: cid, Timestamp: ts, ActivityType: typ, DurationSeconds: seconds}}
}

// eventTotals returns the totals carried by a session's activity.recorded
// events in the outbox, in the order they were written.
func (h *harness) eventTotals(sid string) []int64 {
	return outboxOf[int64](h, sid, "(payload->'data'->>'total_active_seconds')::bigint")
}

// eventsOf returns the data of a session's activity.recorded events in the
// outbox, in the order they were written, without the session's and
// user's ids.
func (h *harness) eventsOf(sid string) []string {
	return outboxOf[string](h, sid, "((payload->'data') - 'session_id'::text - 'user_id'::text)::text")
}

// outboxOf returns expr of each of a session's events in the outbox, in
// the order they were written.
func outboxOf[T any](h *harness, sid, expr string) []T {
	h.t.Helper()
	rows, err := h.db.Owner.Query(context.Background(), "SELECT "+expr+" FROM tracking.outbox WHERE payload->'data'->>'session_id' = $1 ORDER BY id", sid)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[T])
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

// TestACombinedWriteGivesEachPostTheOutcomeItWouldHaveAlone writes one
// batch made of posts that interact, as group commit would under load.
func TestACombinedWriteGivesEachPostTheOutcomeItWouldHaveAlone(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	now := h.clock.Now().UTC().Truncate(time.Second)
	start := now.Add(-time.Hour)
	org := uuid.NewString()
	alice, bob, carol := h.member(org), h.member(org), h.member(org)
	aliceSession, bobSession, carolSession := h.startSession(alice, start), h.startSession(bob, start), h.startSession(carol, start)
	// Carol's session started two months ago and posts into a month whose
	// partition is missing.
	old := now.AddDate(0, -2, 0)
	month := time.Date(old.Year(), old.Month(), 1, 0, 0, 0, 0, time.UTC)
	if _, err := h.db.Owner.Exec(ctx, "UPDATE tracking.work_sessions SET start_time = $2 WHERE id = $1", carolSession, month); err != nil {
		t.Fatal(err)
	}

	batch := []*pendingOne{
		h.pendingPost(alice, aliceSession, typeActive, 10, ptr("a-1"), now.Add(-3*time.Minute)),
		h.pendingPost(bob, bobSession, typeIdle, 7, nil, now.Add(-3*time.Minute)),
		h.pendingPost(alice, aliceSession, typeActive, 20, ptr("a-2"), now.Add(-2*time.Minute)),
		h.pendingPost(alice, aliceSession, typeActive, 99, ptr("a-1"), now.Add(-time.Minute)), // a retry of the first
		h.pendingPost(carol, carolSession, typeActive, 5, ptr("c-1"), month.Add(time.Hour)),
		h.pendingPost(alice, bobSession, typeActive, 5, ptr("a-3"), now),            // not alice's session
		h.pendingPost(bob, bobSession, typeActive, 3, nil, start.Add(-time.Minute)), // before the session's start
		h.pendingPost(alice, aliceSession, typeActive, 30, ptr("a-4"), now.Add(-time.Minute)),
	}
	newCombiner(h.pool, 1, len(batch), prometheus.NewRegistry()).write(ctx, batch, skipBusySessions)

	type want struct {
		stored, found, dup bool
		totalActive        int64
		err                bool
	}
	for i, w := range []want{
		{stored: true, found: true, totalActive: 10},
		{stored: true, found: true},
		{stored: true, found: true, totalActive: 30},
		{found: true, dup: true, totalActive: 30},
		{err: true},
		{},
		{found: true},
		{stored: true, found: true, totalActive: 60},
	} {
		o := batch[i].out
		if o.stored != w.stored || o.found != w.found || (o.dupID != nil) != w.dup || (o.err != nil) != w.err || (w.found && o.sess.TotalActiveSeconds != w.totalActive) {
			t.Errorf("post %d: stored %v found %v dup %v err %v, total active %d; want %+v", i, o.stored, o.found, o.dupID, o.err, o.sess.TotalActiveSeconds, w)
		}
	}
	var ae *apierr.Error
	if err := storageError(batch[4].out.err, nil); !errors.As(err, &ae) || ae.Code != "SYSTEM_SERVICE_UNAVAILABLE" {
		t.Errorf("the post into the missing month failed with %v", batch[4].out.err)
	}
	if *batch[3].out.dupID != batch[0].act.ID {
		t.Errorf("the retry names activity %s, want %s", *batch[3].out.dupID, batch[0].act.ID)
	}
	h.assertExact(aliceSession, 3, 60, 0, 3)
	h.assertExact(bobSession, 1, 0, 7, 1)
	h.assertExact(carolSession, 0, 0, 0, 0)
	if got := h.eventTotals(aliceSession); len(got) != 3 || got[0] != 10 || got[1] != 30 || got[2] != 60 {
		t.Errorf("alice's events carry totals %v, want [10 30 60]", got)
	}
}

// TestTenantsShareACombinedWriteAndEachSeesOnlyItsOwnRows queues the posts
// of three organizations, and one post that names another organization's
// session, and writes what one writer takes: one transaction for all of
// them, whose statements row-level security keeps to the three
// organizations and which keep each post to its own organization.
func TestTenantsShareACombinedWriteAndEachSeesOnlyItsOwnRows(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	now := h.clock.Now().UTC().Truncate(time.Second)
	start := now.Add(-time.Hour)
	alice, bob, carol := h.member(uuid.NewString()), h.member(uuid.NewString()), h.member(uuid.NewString())
	aliceSession, bobSession, carolSession := h.startSession(alice, start), h.startSession(bob, start), h.startSession(carol, start)
	// Alice's organization claims Bob's session with Bob's user id. Bob's
	// organization is in the batch, so row-level security admits his
	// session: only the statement's match on the post's organization
	// keeps it out.
	forged := h.pendingPost(bob, bobSession, typeActive, 50, ptr("f-1"), now.Add(-time.Minute))
	forged.org = alice.OrganizationID
	batch := []*pendingOne{
		h.pendingPost(alice, aliceSession, typeActive, 10, ptr("a-1"), now.Add(-3*time.Minute)),
		h.pendingPost(bob, bobSession, typeIdle, 7, ptr("b-1"), now.Add(-3*time.Minute)),
		h.pendingPost(alice, aliceSession, typeActive, 20, ptr("a-2"), now.Add(-2*time.Minute)),
		forged,
		h.pendingPost(carol, carolSession, typeActive, 5, ptr("c-1"), now.Add(-2*time.Minute)),
		h.pendingPost(bob, bobSession, typeActive, 3, ptr("b-2"), now.Add(-time.Minute)),
	}
	c := newCombiner(h.pool, 1, len(batch), prometheus.NewRegistry())
	c.pending = append(c.pending, batch...)
	taken := c.take(batch[0])
	if len(taken) != len(batch) || len(c.pending) != 0 {
		t.Fatalf("one writer took %d of %d posts of three organizations", len(taken), len(batch))
	}
	c.write(ctx, taken, skipBusySessions)

	for i, p := range batch {
		if want := p != forged; p.out.err != nil || p.out.stored != want || p.out.found != want {
			t.Errorf("post %d: stored %v, found %v, err %v; want stored and found %v", i, p.out.stored, p.out.found, p.out.err, want)
		}
	}
	h.assertExact(aliceSession, 2, 30, 0, 2)
	h.assertExact(bobSession, 2, 3, 7, 2)
	h.assertExact(carolSession, 1, 5, 0, 1)
	var foreign int
	if err := h.db.Owner.QueryRow(ctx, `SELECT (SELECT count(*) FROM tracking.activity_logs a JOIN tracking.work_sessions w ON w.id = a.session_id
  WHERE a.organization_id <> w.organization_id) + (SELECT count(*) FROM tracking.activity_dedup d JOIN tracking.activity_logs a ON a.id = d.activity_id
  WHERE d.organization_id <> a.organization_id)`).Scan(&foreign); err != nil {
		t.Fatal(err)
	}
	if foreign != 0 {
		t.Errorf("%d stored rows carry another organization than their session's", foreign)
	}
}

// TestConcurrentPostsAreCombinedAndStayExact posts from many goroutines
// through one writer slot, so that posts queue and are written together.
func TestConcurrentPostsAreCombinedAndStayExact(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	c := newCombiner(h.pool, 1, 64, prometheus.NewRegistry())
	start := h.clock.Now().Add(-time.Hour)
	orgs := []string{uuid.NewString(), uuid.NewString()}
	type agent struct {
		m   member
		sid string
	}
	var agents []agent
	for i := range 8 {
		m := h.member(orgs[i%2])
		agents = append(agents, agent{m, h.startSession(m, start)})
	}
	const posts = 50
	var wg sync.WaitGroup
	var mu sync.Mutex
	versions := map[string]map[int64]bool{}
	for _, a := range agents {
		versions[a.sid] = map[int64]bool{}
		for range 4 { // four senders per session: its posts also share batches
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range posts {
					p := h.pendingPost(a.m, a.sid, typeActive, 2, ptr(uuid.NewString()), h.clock.Now())
					c.record(context.Background(), p)
					mu.Lock()
					if p.out.err != nil || !p.out.stored || versions[a.sid][p.out.sess.Version] {
						t.Errorf("post: stored %v, version %d seen before: %v, err %v", p.out.stored, p.out.sess.Version, versions[a.sid][p.out.sess.Version], p.out.err)
					}
					versions[a.sid][p.out.sess.Version] = true
					mu.Unlock()
				}
			}()
		}
	}
	wg.Wait()
	for _, a := range agents {
		h.assertExact(a.sid, 4*posts, 4*posts*2, 0, 4*posts)
	}
	// An activity row is never updated, so its xmin is the transaction
	// that stored it.
	var rows, transactions int
	if err := h.db.Owner.QueryRow(context.Background(), "SELECT count(*), count(DISTINCT xmin::text) FROM tracking.activity_logs").Scan(&rows, &transactions); err != nil {
		t.Fatal(err)
	}
	if transactions*4 > rows {
		t.Errorf("%d activities were stored by %d transactions: the posts were hardly combined", rows, transactions)
	}
	m := &dto.Metric{}
	if err := c.posts.Write(m); err != nil {
		t.Fatal(err)
	}
	if h := m.GetHistogram(); h.GetSampleSum() != float64(rows) || h.GetSampleCount() != uint64(transactions) {
		t.Errorf("the metric counts %v posts in %d writes; the database %d in %d", h.GetSampleSum(), h.GetSampleCount(), rows, transactions)
	}
	t.Logf("%d activities in %d transactions", rows, transactions)
}

func TestASessionBusyInAnotherTransactionHoldsUpOnlyItsOwnPost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, nil)
	ctx := context.Background()
	now := h.clock.Now().UTC()
	org := uuid.NewString()
	alice, bob := h.member(org), h.member(org)
	aliceSession, bobSession := h.startSession(alice, now.Add(-time.Hour)), h.startSession(bob, now.Add(-time.Hour))
	// A bulk upload (or a stop) holds bob's session.
	tx, err := h.db.Owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, "SELECT 1 FROM tracking.work_sessions WHERE id = $1 FOR UPDATE", bobSession); err != nil {
		t.Fatal(err)
	}

	c := newCombiner(h.pool, 1, 16, prometheus.NewRegistry())
	batch := []*pendingOne{
		h.pendingPost(bob, bobSession, typeActive, 5, ptr("b-1"), now),
		h.pendingPost(alice, aliceSession, typeActive, 7, ptr("a-1"), now),
	}
	began := clock.Start()
	c.write(ctx, batch, skipBusySessions)
	if took := began.Elapsed(); took > 5*time.Second || !batch[1].out.stored || batch[0].out.found || batch[0].out.err != nil {
		t.Fatalf("after %s: alice's post stored %v; bob's found %v (err %v); want alice's stored at once and bob's passed over",
			took, batch[1].out.stored, batch[0].out.found, batch[0].out.err)
	}

	// Bob's post, recorded, waits for his session on its own.
	bobsPost := h.pendingPost(bob, bobSession, typeActive, 5, ptr("b-1"), now)
	recorded := make(chan struct{})
	go func() { defer close(recorded); c.record(ctx, bobsPost) }()
	select {
	case <-recorded:
		t.Fatalf("bob's post did not wait for his session: %+v", bobsPost.out)
	case <-time.After(300 * time.Millisecond):
	}
	// Meanwhile alice's posts still go through the writer.
	alicesPost := h.pendingPost(alice, aliceSession, typeActive, 7, ptr("a-2"), now)
	c.record(ctx, alicesPost)
	if !alicesPost.out.stored {
		t.Errorf("alice's second post: %+v", alicesPost.out)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	<-recorded
	if !bobsPost.out.stored || bobsPost.out.err != nil {
		t.Errorf("bob's post once his session was free: %+v", bobsPost.out)
	}
	h.assertExact(aliceSession, 2, 14, 0, 2)
	h.assertExact(bobSession, 1, 5, 0, 1)
}

func TestAWriterThatPanicsStillAnswersThePostsItTook(t *testing.T) {
	// Without a pool the write panics, as a bug in it would.
	c := newCombiner(nil, 1, 8, prometheus.NewRegistry())
	post := func() *pendingOne {
		return &pendingOne{org: uuid.NewString(), uid: uuid.NewString(), sessionID: uuid.NewString(), act: Activity{ID: uuid.NewString()},
			done: make(chan struct{})}
	}
	batch := []*pendingOne{post(), post()}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed; the writer's own request must fail with it")
			}
		}()
		c.write(context.Background(), batch, skipBusySessions)
	}()
	for i, p := range batch {
		select {
		case <-p.done:
			if !errors.Is(p.out.err, errWriterFailed) {
				t.Errorf("post %d: %v", i, p.out.err)
			}
		default:
			t.Errorf("post %d was left waiting", i)
		}
	}
}

// TestPostsOfOneSessionWrittenTogetherEndAsTheyWouldOneByOne writes each
// case's posts to one session in one combined write, and the same posts to
// a twin session one write each: every post's outcome, its event and the
// session after them must be the same.
func TestPostsOfOneSessionWrittenTogetherEndAsTheyWouldOneByOne(t *testing.T) {
	t.Parallel()
	type post struct {
		typ     string
		seconds int
		cid     string // "" for none
		at      int    // seconds after the session's start
	}
	for _, c := range []struct {
		name          string
		before, posts []post // before is written alone first
	}{
		{"Posts in time order add up, and the last one's type is the session's.", nil,
			[]post{{typeActive, 10, "a", 10}, {typeIdle, 5, "b", 20}, {typeActive, 7, "", 30}, {typeIdle, 3, "c", 40}}},
		{"A post timed before the latest one leaves the latest one's type.", nil,
			[]post{{typeActive, 10, "a", 100}, {typeIdle, 5, "b", 50}, {typeIdle, 6, "", 60}, {typeActive, 1, "c", 70}}},
		{"A post timed like the latest one replaces its type.", nil,
			[]post{{typeIdle, 4, "a", 100}, {typeActive, 5, "b", 100}, {typeIdle, 6, "", 90}, {typeIdle, 2, "c", 100}}},
		{"A retry in the same write is a duplicate of the first, and its neighbours still add.", nil,
			[]post{{typeActive, 10, "a", 10}, {typeActive, 99, "a", 20}, {typeIdle, 5, "b", 30}, {typeActive, 99, "b", 40}, {typeActive, 3, "c", 50}}},
		{"A retry of an earlier write is a duplicate.", []post{{typeActive, 10, "a", 10}},
			[]post{{typeIdle, 5, "b", 20}, {typeActive, 99, "a", 30}, {typeActive, 2, "", 40}}},
		{"A post before the session's start is refused, and the posts around it still add.", nil,
			[]post{{typeActive, 10, "a", 10}, {typeActive, 99, "x", -60}, {typeIdle, 5, "b", 30}, {typeActive, 8, "x", 40}}},
		{"The session's own later activity keeps its type over earlier posts.", []post{{typeIdle, 5, "a", 500}},
			[]post{{typeActive, 10, "b", 100}, {typeActive, 10, "c", 200}, {typeIdle, 1, "", 500}, {typeActive, 3, "d", 400}}},
		{"One post alone is written as before.", nil, []post{{typeActive, 10, "a", 10}}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, nil)
			ctx := context.Background()
			start := h.clock.Now().UTC().Truncate(time.Second).Add(-time.Hour)
			org := uuid.NewString()
			together, alone := h.member(org), h.member(org)
			combined, single := h.startSession(together, start), h.startSession(alone, start)
			c1 := newCombiner(h.pool, 1, 64, prometheus.NewRegistry())
			pending := func(m member, sid string, p post) *pendingOne {
				var cid *string
				if p.cid != "" {
					cid = ptr(p.cid)
				}
				return h.pendingPost(m, sid, p.typ, p.seconds, cid, start.Add(time.Duration(p.at)*time.Second))
			}
			for _, p := range c.before {
				c1.write(ctx, []*pendingOne{pending(together, combined, p)}, skipBusySessions)
				c1.write(ctx, []*pendingOne{pending(alone, single, p)}, skipBusySessions)
			}
			var batch, each []*pendingOne
			for _, p := range c.posts {
				batch, each = append(batch, pending(together, combined, p)), append(each, pending(alone, single, p))
			}
			c1.write(ctx, batch, skipBusySessions)
			for _, p := range each {
				c1.write(ctx, []*pendingOne{p}, skipBusySessions)
			}
			for i := range c.posts {
				got, want := outcomeOf(batch[i]), outcomeOf(each[i])
				if got != want {
					t.Errorf("post %d written together: %+v\nwritten alone: %+v", i, got, want)
				}
			}
			if got, want := h.eventsOf(combined), h.eventsOf(single); !slices.Equal(got, want) {
				t.Errorf("events written together:\n%v\nwritten alone:\n%v", got, want)
			}
			got, want := h.sessionRow(combined), h.sessionRow(single)
			if got.TotalActiveSeconds != want.TotalActiveSeconds || got.TotalIdleSeconds != want.TotalIdleSeconds || got.Version != want.Version ||
				!got.LastActivityAt.Equal(*want.LastActivityAt) || *got.LastActivityType != *want.LastActivityType {
				t.Errorf("session written together %+v, alone %+v", got, want)
			}
			h.assertExact(combined, -1, 0, 0, -1)
		})
	}
}

// postOutcome is what of a post's outcome does not depend on its session's
// or activity's ids.
type postOutcome struct {
	stored, found, dup, suspended, failed bool
	active, idle, version                 int64
	lastAt                                time.Time
	lastType                              string
}

func outcomeOf(p *pendingOne) postOutcome {
	o := postOutcome{stored: p.out.stored, found: p.out.found, dup: p.out.dupID != nil, suspended: p.out.suspended, failed: p.out.err != nil,
		active: p.out.sess.TotalActiveSeconds, idle: p.out.sess.TotalIdleSeconds, version: p.out.sess.Version}
	if p.out.sess.LastActivityAt != nil {
		o.lastAt = *p.out.sess.LastActivityAt
	}
	if p.out.sess.LastActivityType != nil {
		o.lastType = *p.out.sess.LastActivityType
	}
	return o
}

// TestACombinedWritesParametersNeedNoSecondEncoding checks every parameter
// of what a combined write sends (the organizations' switch and each
// round) against the statements' own parameter types: each must encode in
// the format pgx tries first. pgx falls back to the other format after a
// failed attempt whose error prints the whole value (a []string of 64 ids
// for a uuid[], say), which cost more than the rest of the encoding.
func TestACombinedWritesParametersNeedNoSecondEncoding(t *testing.T) {
	h := newHarness(t, nil)
	a, b := h.member(uuid.NewString()), h.member(uuid.NewString())
	sa, sb := uuid.NewString(), uuid.NewString()
	cid := "c-1"
	url := "https://example.com/"
	batch := []*pendingOne{h.pendingPost(a, sa, "active", 5, &cid, harnessInstant), h.pendingPost(b, sb, "idle", 7, nil, harnessInstant),
		h.pendingPost(a, sa, "active", 3, nil, harnessInstant)}
	batch[1].act.URL = &url
	ctx := context.Background()
	conn, err := h.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	for _, lock := range []sessionLock{skipBusySessions, waitForSessions} {
		sent, err := recordBatch(batch, lock)
		if err != nil {
			t.Fatal(err)
		}
		if len(sent.QueuedQueries) != 2 {
			t.Fatalf("%d statements, want the switch and one statement", len(sent.QueuedQueries))
		}
		m := conn.Conn().TypeMap()
		for i, q := range sent.QueuedQueries {
			sd, err := conn.Conn().Prepare(ctx, "", q.SQL)
			if err != nil {
				t.Fatal(err)
			}
			for j, arg := range q.Arguments {
				// pgx's choice (ExtendedQueryBuilder): text for a string,
				// else the type's preferred format.
				format := m.FormatCodeForOID(sd.ParamOIDs[j])
				switch arg.(type) {
				case string, *string:
					format = pgtype.TextFormatCode
				}
				if _, err := m.Encode(sd.ParamOIDs[j], format, arg, nil); err != nil {
					t.Errorf("statement %d, parameter $%d (%T): %v", i, j+1, arg, err)
				}
			}
		}
	}
	bad := h.pendingPost(a, sa, "active", 1, nil, harnessInstant)
	bad.uid = "not-a-uuid"
	if _, err := recordBatch([]*pendingOne{bad}, skipBusySessions); err == nil {
		t.Error("a post whose user id is no UUID made a batch")
	}
}
