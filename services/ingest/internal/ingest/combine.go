package ingest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
)

// combiner writes the single-activity posts that arrive while earlier ones
// are being written as one transaction per tenant (group commit).
//
// A transaction's fixed costs (commit and its WAL flush, the round trip,
// starting the statement's executor and its constraint checks) are most
// of what a one-row write costs PostgreSQL; a statement over every waiting
// post pays them once. Each post keeps its own effect and answer: its row,
// its claim, its increment and its activity.recorded event with the totals
// after it, exactly as if it had been written alone, and nobody is told
// "stored" before the transaction holding it committed.
//
// There is no background goroutine: every waiting post is a potential
// writer. It queues itself, then either sees its result or takes one of
// the writer slots and writes whatever is queued (its own post included,
// unless another writer took it). With no load a post is written at once,
// alone; under load the queue fills while the slots are busy.
type combiner struct {
	db       *pgxpool.Pool
	slots    chan struct{}
	maxBatch int
	posts    prometheus.Histogram // posts per combined write

	mu      sync.Mutex
	pending []*pendingOne
}

// pendingOne is a queued post and, once done is closed, its outcome.
type pendingOne struct {
	org, uid, sessionID string
	act                 Activity // the activity as it will be stored, with its new id
	env                 []byte   // its activity.recorded envelope, data filled in by SQL

	done chan struct{}
	out  recordOutcome
}

// recordOutcome is what writing a post found.
type recordOutcome struct {
	stored    bool
	suspended bool
	found     bool    // the session exists and is the caller's
	dupID     *string // the activity an earlier post stored under the same client_activity_id
	sess      tracking.Session
	err       error
}

// writeTimeout bounds one combined write. It does not follow any one
// post's context: a client that hangs up must not fail the others.
const writeTimeout = 30 * time.Second

func newCombiner(db *pgxpool.Pool, writers, maxBatch int, reg prometheus.Registerer) *combiner {
	posts := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "workpulse_ingest_combined_posts",
		Help:    "Single-activity posts written together in one transaction (group commit).",
		Buckets: prometheus.ExponentialBuckets(1, 2, 10)})
	reg.MustRegister(posts)
	return &combiner{db: db, slots: make(chan struct{}, writers), maxBatch: maxBatch, posts: posts}
}

// record returns when p has been written (or has failed); see combiner.
func (c *combiner) record(ctx context.Context, p *pendingOne) {
	p.done = make(chan struct{})
	c.mu.Lock()
	c.pending = append(c.pending, p)
	c.mu.Unlock()
	select {
	case <-p.done:
	case c.slots <- struct{}{}:
		// Another writer may have taken p while this one waited for the
		// slot; p's outcome then comes with that writer's batch.
		if batch := c.take(p); batch != nil {
			c.posts.Observe(float64(len(batch)))
			c.write(context.WithoutCancel(ctx), batch)
		}
		<-c.slots
		<-p.done
	}
	if p.out.err == nil && !p.out.found {
		// The batch passed over p's session: another transaction holds it
		// (a bulk upload, a stop), or it is not the caller's. Alone, p
		// waits for the session without holding up anyone else.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		defer cancel()
		p.out = recordOutcome{}
		p.out.err = c.writeTx(wctx, []*pendingOne{p}, waitForSessions)
	}
}

// take removes p and the other queued posts of its tenant (a transaction
// is scoped to one), up to maxBatch and in arrival order, or returns nil
// if another writer took p already.
func (c *combiner) take(p *pendingOne) []*pendingOne {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.pending, p) {
		return nil
	}
	var batch []*pendingOne
	rest := c.pending[:0]
	found := false // room is kept for p until it is in
	for _, q := range c.pending {
		switch {
		case q == p:
			found = true
			batch = append(batch, q)
		case q.org == p.org && (len(batch) < c.maxBatch-1 || found && len(batch) < c.maxBatch):
			batch = append(batch, q)
		default:
			rest = append(rest, q)
		}
	}
	clear(c.pending[len(rest):])
	c.pending = rest
	return batch
}

// write stores batch in one transaction. If that fails for a reason other
// than an unreachable database, each post is written again on its own, so
// that one post's error (a month without a partition, say) is its own and
// not its neighbours'.
func (c *combiner) write(ctx context.Context, batch []*pendingOne) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	written := false
	defer func() {
		// Even a panic in this writer's request must answer the posts it
		// took: their requests wait for nothing else.
		for _, p := range batch {
			if !written {
				p.out = recordOutcome{err: errWriterFailed}
			}
			close(p.done)
		}
	}()
	err := c.writeTx(ctx, batch, skipBusySessions)
	switch {
	case err != nil && len(batch) > 1 && !pg.IsUnavailable(err):
		for _, p := range batch {
			p.out = recordOutcome{}
			p.out.err = c.writeTx(ctx, []*pendingOne{p}, waitForSessions)
		}
	case err != nil:
		for _, p := range batch {
			p.out = recordOutcome{err: err}
		}
	}
	written = true
}

// errWriterFailed answers the posts of a write that panicked.
var errWriterFailed = errors.New("ingest: the combined write failed")

// writeTx runs batch as rounds in one implicit transaction: a round holds
// at most one post per session (the statement increments each session
// once), and each round sees the rounds before it, so a session's posts
// apply in arrival order.
func (c *combiner) writeTx(ctx context.Context, batch []*pendingOne, lock sessionLock) error {
	var rounds [][]*pendingOne
	seen := map[string]int{} // posts per session so far
	for _, p := range batch {
		r := seen[p.sessionID]
		seen[p.sessionID]++
		if r == len(rounds) {
			rounds = append(rounds, nil)
		}
		rounds[r] = append(rounds[r], p)
	}
	b := &pgx.Batch{}
	b.Queue("SELECT set_config('app.org_id', $1, true)", batch[0].org)
	for _, round := range rounds {
		b.Queue(recordRoundSQL[lock], roundArgs(batch[0].org, round)...)
	}
	br := c.db.SendBatch(ctx, b)
	_, err := br.Exec()
	for _, round := range rounds {
		if err != nil {
			break
		}
		err = scanRound(br, round)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

func roundArgs(org string, round []*pendingOne) []any {
	n := len(round)
	sids, uids, aids := make([]string, n), make([]string, n), make([]string, n)
	cids, tss, types := make([]*string, n), make([]time.Time, n), make([]string, n)
	durs, urls, envs := make([]int32, n), make([]*string, n), make([]string, n)
	for i, p := range round {
		sids[i], uids[i], aids[i] = p.sessionID, p.uid, p.act.ID
		cids[i], tss[i], types[i] = p.act.ClientActivityID, p.act.Timestamp, p.act.ActivityType
		durs[i], urls[i], envs[i] = int32(p.act.DurationSeconds), p.act.URL, string(p.env)
	}
	return []any{sids, uids, org, aids, cids, tss, types, durs, urls, envs, events.TopicActivity}
}

// scanRound hands each post of round its session's row; a post whose
// session has none is not the caller's (or does not exist).
func scanRound(br pgx.BatchResults, round []*pendingOne) error {
	bySession := make(map[string]*pendingOne, len(round))
	for _, p := range round {
		bySession[p.sessionID] = p
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		o := recordOutcome{found: true}
		if err := rows.Scan(append([]any{&o.stored, &o.suspended, &o.dupID}, o.sess.Dest()...)...); err != nil {
			return err
		}
		o.sess.Normalize()
		if p := bySession[o.sess.ID]; p != nil {
			p.out = o
		}
	}
	return rows.Err()
}

// recordRoundSQL records one round of posts, each on its own session; see
// Store. The sessions are locked first, in id order so that concurrent
// rounds cannot deadlock on them, so every later part sees each session
// as it is until commit. It returns, per session, the session after its
// post was stored or, when it was not, as it is with the reasons:
// suspended, an earlier activity with the same client_activity_id.
var recordRoundSQL = map[sessionLock]string{
	skipBusySessions: roundSQL("SKIP LOCKED"),
	waitForSessions:  roundSQL(""),
}

// sessionLock is how a write takes its sessions' rows.
type sessionLock int

const (
	// skipBusySessions passes over sessions another transaction holds,
	// so that one busy session never holds up a batch.
	skipBusySessions sessionLock = iota
	// waitForSessions waits for them.
	waitForSessions
)

func roundSQL(lockOption string) string {
	return numbered(`WITH i AS (
  SELECT * FROM unnest($sids::uuid[], $uids::uuid[], $aids::uuid[], $cids::text[], $tss::timestamptz[], $types::text[], $durs::int[],
    $urls::text[], $envs::jsonb[]) AS i(sid, uid, aid, cid, ts, typ, dur, url, env)
), s AS MATERIALIZED (
  SELECT `+tracking.SessionColumnsOf("w")+`, `+tracking.SuspendedCondition+` AS suspended
  FROM tracking.work_sessions w JOIN i ON w.id = i.sid AND w.user_id = i.uid ORDER BY w.id FOR UPDATE OF w `+lockOption+`
), ok AS MATERIALIZED (
  SELECT i.* FROM i JOIN s ON s.id = i.sid WHERE s.status = 'active' AND NOT s.suspended AND i.ts >= s.start_time
), d AS (
  INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)
  SELECT ok.uid, ok.cid, $org, ok.aid, ok.ts FROM ok WHERE ok.cid IS NOT NULL
  ON CONFLICT DO NOTHING RETURNING activity_id
), a AS (
  INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type, duration_seconds, url)
  SELECT ok.aid, $org, ok.sid, ok.uid, ok.cid, ok.ts, ok.typ, ok.dur, ok.url FROM ok
  WHERE ok.cid IS NULL OR ok.aid IN (SELECT activity_id FROM d)
  RETURNING session_id, occurred_at, activity_type, duration_seconds
), t AS (
  SELECT a.session_id AS sid, 1 AS n, a.occurred_at AS ts,
    CASE WHEN a.activity_type = 'active' THEN a.duration_seconds ELSE 0 END AS act,
    CASE WHEN a.activity_type = 'idle' THEN a.duration_seconds ELSE 0 END AS idle,
    CASE WHEN a.activity_type = 'active' THEN a.occurred_at END AS last_active
  FROM a
), u AS (
  UPDATE tracking.work_sessions w SET total_active_seconds = w.total_active_seconds + t.act,
    total_idle_seconds = w.total_idle_seconds + t.idle, last_activity_at = greatest(w.last_activity_at, t.ts),
    version = w.version + 1, updated_at = now()
  FROM t WHERE w.id = t.sid
  RETURNING `+tracking.SessionColumnsOf("w")+`
), o AS (`+activityEventSQL("i.env", "u JOIN t ON t.sid = u.id JOIN i ON i.sid = u.id")+`)
SELECT true, false, NULL::uuid, `+tracking.SessionColumns+` FROM u
UNION ALL
SELECT false, s.suspended, (SELECT activity_id FROM tracking.activity_dedup WHERE user_id = s.user_id AND client_activity_id = i.cid), `+
		tracking.SessionColumnsOf("s")+` FROM s JOIN i ON i.sid = s.id WHERE NOT EXISTS (SELECT 1 FROM u WHERE u.id = s.id)`,
		"sids", "uids", "org", "aids", "cids", "tss", "types", "durs", "urls", "envs", "topic")
}
