package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
)

const source = "ingest"

// Activity is the contract's activity object.
type Activity struct {
	ID               string    `json:"id"`
	SessionID        string    `json:"session_id"`
	ClientActivityID *string   `json:"client_activity_id"`
	Timestamp        time.Time `json:"timestamp"`
	ActivityType     string    `json:"activity_type"`
	DurationSeconds  int       `json:"duration_seconds"`
	URL              *string   `json:"url"`
}

// Store is ingest's data access.
//
// Totals are exact by construction: in one transaction per bulk upload,
// or per group of single posts (see combiner), each session row is locked
// (SELECT ... FOR UPDATE), client_activity_ids are
// claimed in tracking.activity_dedup with INSERT ... ON CONFLICT DO
// NOTHING, only the claimed activities are inserted, and the session is
// incremented in SQL (total = total + n) by exactly what was inserted.
// The activity.recorded event is written to the outbox by the same
// statement, so it carries the committed totals.
type Store struct {
	db     *pgxpool.Pool
	clock  clock.Clock
	writes *combiner
}

// activityEventSQL builds the activity.recorded outbox rows from u (the
// sessions as each event leaves them) and t (what was added to each: n, act, idle,
// last_active, and the first and last timestamps), joined in from (whose
// ORDER BY, if any, is the order of the events); eid and
// at are the expressions of each event's id and time (RFC 3339 text, as
// events.New stamps it). The statement builds the whole envelope, as
// events.New shapes it, because its data, the new totals, exist only
// inside the statement; encoding the rest in Go for every post and parsing
// it again as jsonb cost more than building it here. The event test holds
// both levels of it to the keys events.New writes.
func activityEventSQL(eid, at, from string) string {
	return `INSERT INTO tracking.outbox (event_id, topic, key, payload)
  SELECT ` + eid + `, $topic, u.user_id::text, jsonb_build_object('id', ` + eid + `, 'type', $type::text, 'source', $source::text,
    'organization_id', u.organization_id, 'key', u.user_id, 'time', ` + at + `, 'data', jsonb_build_object(
    'session_id', u.id, 'organization_id', u.organization_id, 'user_id', u.user_id, 'project_id', u.project_id,
    'status', u.status, 'start_time', u.start_time, 'end_time', u.end_time,
    'total_active_seconds', u.total_active_seconds, 'total_idle_seconds', u.total_idle_seconds,
    'last_activity_at', u.last_activity_at, 'last_activity_type', u.last_activity_type, 'version', u.version,
    'stored', t.n, 'active_seconds', t.act, 'idle_seconds', t.idle, 'last_active_at', t.last_active,
    'first_at', t.first, 'last_at', t.last))
  FROM ` + from
}

var paramName = regexp.MustCompile(`\$[a-z]+\b`)

// numbered replaces the named parameters ($name) of a statement with their
// positions in names, so that long statements stay readable.
func numbered(sql string, names ...string) string {
	return paramName.ReplaceAllStringFunc(sql, func(m string) string {
		i := slices.Index(names, m[1:])
		if i < 0 {
			panic("ingest: statement uses unknown parameter " + m)
		}
		return "$" + strconv.Itoa(i+1)
	})
}

// event is what the statement needs besides the post to build its
// activity.recorded envelope (see activityEventSQL): a new id, and the
// time, stamped now. The envelope's key is the user, so that a user's
// events keep their order.
type event struct {
	id pgtype.UUID
	at string
}

func (s *Store) newEvent() event {
	return event{id: pg.NewUUID(), at: s.clock.Now().UTC().Format(time.RFC3339Nano)}
}

// RecordOne records a single activity, combined with the other posts
// waiting at the same time into one transaction (see combiner).
func (s *Store) RecordOne(ctx context.Context, p authn.Principal, sessionID string, a activity) (tracking.Session, Activity, bool, error) {
	ev := s.newEvent()
	act := Activity{ID: uuid.NewString(), SessionID: sessionID, ClientActivityID: a.ClientActivityID, Timestamp: a.Timestamp,
		ActivityType: a.Type, DurationSeconds: a.Duration, URL: a.URL}
	post := &pendingOne{org: p.OrganizationID, uid: p.UserID, sessionID: sessionID, act: act, ev: ev}
	s.writes.record(ctx, post)
	if missingPartition(post.out.err) {
		// An accepted timestamp whose month is missing: make it, then
		// write the post again.
		if err := storage.EnsureMonths(ctx, s.db, p.OrganizationID, []time.Time{a.Timestamp}); err != nil {
			return tracking.Session{}, Activity{}, false, err
		}
		post = &pendingOne{org: p.OrganizationID, uid: p.UserID, sessionID: sessionID, act: act, ev: ev}
		s.writes.record(ctx, post)
	}
	o := post.out
	switch {
	case o.err != nil:
		return o.sess, act, false, storageError(o.err, []time.Time{a.Timestamp})
	case !o.found:
		return o.sess, act, false, tracking.ErrSessionNotFound
	case o.stored:
		return o.sess, act, true, nil
	case o.suspended:
		return o.sess, act, false, tracking.ErrTenantSuspended
	case o.dupID != nil || (a.ClientActivityID != nil && o.sess.Status == tracking.StatusActive && !a.Timestamp.Before(o.sess.StartTime)):
		// A duplicate: seen by the statement, or claimed by a transaction
		// that committed after the statement's snapshot was taken.
		act, err := s.storedActivity(ctx, p, *a.ClientActivityID)
		return o.sess, act, false, err
	case o.sess.Status != tracking.StatusActive:
		return o.sess, act, false, tracking.ErrSessionStopped
	default:
		return o.sess, act, false, ErrInvalidTimestamp.WithMessage("timestamp is before the session's start_time")
	}
}

// storedActivity loads the activity the caller stored with cid. The
// claim outlives the activity when retention has dropped its month; the
// answer then carries what the claim remembers (id and timestamp).
func (s *Store) storedActivity(ctx context.Context, p authn.Principal, cid string) (Activity, error) {
	a := Activity{ClientActivityID: &cid}
	var sessionID, typ *string
	var dur *int
	err := pg.QueryRowInOrg(ctx, s.db, p.OrganizationID, "SELECT d.activity_id, d.occurred_at, a.session_id, a.activity_type, a.duration_seconds, a.url"+
		" FROM tracking.activity_dedup d LEFT JOIN tracking.activity_logs a"+
		" ON a.organization_id = d.organization_id AND a.occurred_at = d.occurred_at AND a.id = d.activity_id"+
		" WHERE d.user_id = $1 AND d.client_activity_id = $2",
		func(row pgx.Row) error { return row.Scan(&a.ID, &a.Timestamp, &sessionID, &typ, &dur, &a.URL) }, p.UserID, cid)
	a.Timestamp = a.Timestamp.UTC()
	if sessionID != nil && typ != nil && dur != nil {
		a.SessionID, a.ActivityType, a.DurationSeconds = *sessionID, *typ, *dur
	}
	return a, err
}

// latestType is the session's last_activity_type after activity of type
// typ timed at: that type unless the session has later activity. An
// activity timed like the latest one replaces it, as last_activity_at
// cannot tell them apart (within a batch, active goes first).
func latestType(at, typ string) string {
	return "CASE WHEN w.last_activity_at > " + at + " THEN w.last_activity_type ELSE " + typ + " END"
}

// recordBulkSQL stores the claimed items of a batch whose session the
// transaction has locked; see Store.
var recordBulkSQL = bulkSQL(`d AS (
  INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)
  SELECT $uid, i.cid, $org, i.id, i.ts FROM i
  ON CONFLICT DO NOTHING RETURNING activity_id
), a AS (
  INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type, duration_seconds, url)
  SELECT i.id, $org, $sid, $uid, i.cid, i.ts, i.typ, i.dur, i.url FROM i JOIN d ON d.activity_id = i.id
  RETURNING occurred_at, activity_type, duration_seconds
)`)

// recordNewBulkSQL stores every item of a batch whose session the
// transaction has locked, as recordBulkSQL does when none of the items'
// client_activity_ids was claimed before: the claims are plain inserts,
// and the totals are those of the batch itself. A claim that exists
// already (a batch sent again, or an item that came as a single post
// first) fails the statement on the claims' primary key, with nothing
// written, and the batch is then written by recordBulkSQL (see
// Store.RecordBulk). Against recordBulkSQL it spares, per item, the
// speculative insertion of ON CONFLICT (a probe of the key before the
// insert and a confirmation written to the WAL after it), the join of the
// claims with the items, and the rows RETURNING reads back, each of which
// row-level security checks again.
var recordNewBulkSQL = bulkSQL(`d AS (
  INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)
  SELECT $uid, i.cid, $org, i.id, i.ts FROM i
), s AS (
  INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type, duration_seconds, url)
  SELECT i.id, $org, $sid, $uid, i.cid, i.ts, i.typ, i.dur, i.url FROM i
), a AS (
  SELECT i.ts AS occurred_at, i.typ AS activity_type, i.dur AS duration_seconds FROM i
)`)

// bulkSQL is the statement of a batch whose items are i, written by
// writes, which ends with a (the stored items' occurred_at, activity_type
// and duration_seconds): the session's increment and the outbox event.
func bulkSQL(writes string) string {
	return numbered(`WITH i AS (
  SELECT * FROM unnest($ids::uuid[], $cids::text[], $tss::timestamptz[], $types::text[], $durs::int[], $urls::text[])
    AS i(id, cid, ts, typ, dur, url)
), `+writes+`, t AS (
  SELECT count(*) AS n,
    coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0) AS act,
    coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0) AS idle,
    min(occurred_at) AS first, max(occurred_at) AS last, max(occurred_at) FILTER (WHERE activity_type = 'active') AS last_active,
    (array_agg(activity_type ORDER BY occurred_at DESC, activity_type))[1] AS last_type
  FROM a
), u AS (
  UPDATE tracking.work_sessions w SET total_active_seconds = w.total_active_seconds + t.act,
    total_idle_seconds = w.total_idle_seconds + t.idle, last_activity_at = greatest(w.last_activity_at, t.last),
    last_activity_type = `+latestType("t.last", "t.last_type")+`,
    version = w.version + 1, updated_at = now()
  FROM t WHERE w.id = $sid AND t.n > 0
  RETURNING `+tracking.SessionColumnsOf("w")+`
), o AS (`+activityEventSQL("$eid::uuid", "$at::text", "u, t")+`)
SELECT t.n, `+tracking.SessionColumns+` FROM u, t
UNION ALL
SELECT 0, `+tracking.SessionColumns+` FROM tracking.work_sessions WHERE id = $sid AND NOT EXISTS (SELECT 1 FROM u)`,
		"sid", "uid", "org", "ids", "cids", "tss", "types", "durs", "urls", "eid", "at", "topic", "type", "source")
}

// bulkResult is the outcome of a batch.
type bulkResult struct {
	Session    tracking.Session `json:"session"`
	Uploaded   int              `json:"uploaded"`
	Duplicates int              `json:"duplicates"`
	Rejected   []Rejection      `json:"rejected"`
}

// RecordBulk stores the valid items of a batch in one transaction. Items
// timed before the session's start are rejected; items whose
// client_activity_id the user already uploaded are duplicates. When an
// item's month is missing (every item is inside the accepted window by
// now), the months are made and the batch written again, once.
func (s *Store) RecordBulk(ctx context.Context, p authn.Principal, sessionID string, batch decodedBulk) (bulkResult, error) {
	ev := s.newEvent()
	res, err := s.recordBulkOnce(ctx, p, sessionID, batch, ev)
	if !missingPartition(err) {
		return res, err
	}
	times := make([]time.Time, len(batch.Items))
	for i, it := range batch.Items {
		times[i] = it.Timestamp
	}
	if err := storage.EnsureMonths(ctx, s.db, p.OrganizationID, times); err != nil {
		return bulkResult{}, err
	}
	res, err = s.recordBulkOnce(ctx, p, sessionID, batch, ev)
	return res, storageError(err, times)
}

// recordBulkOnce writes a batch as if none of its items were claimed
// before (recordNewBulkSQL), which is the case of nearly every batch an
// agent sends, and, when one was, writes it again claiming each item
// (recordBulkSQL). The first transaction failed whole on the claims'
// primary key, so nothing of it is kept; a claim committed by another
// transaction meanwhile is found by the second as by any write.
func (s *Store) recordBulkOnce(ctx context.Context, p authn.Principal, sessionID string, batch decodedBulk, ev event) (bulkResult, error) {
	res, err := s.recordBulk(ctx, p, sessionID, batch, ev, recordNewBulkSQL)
	if !pg.IsUniqueViolation(err, dedupKey) {
		return res, err
	}
	return s.recordBulk(ctx, p, sessionID, batch, ev, recordBulkSQL)
}

// dedupKey is the primary key of tracking.activity_dedup, which holds
// each user's client_activity_ids once for all time.
const dedupKey = "activity_dedup_pkey"

func (s *Store) recordBulk(ctx context.Context, p authn.Principal, sessionID string, batch decodedBulk, ev event, stmt string) (bulkResult, error) {
	res := bulkResult{Duplicates: batch.Duplicates, Rejected: slices.Clone(batch.Rejected)}
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var status string
		var start time.Time
		var suspended bool
		err := tx.QueryRow(ctx, "SELECT status, start_time, "+tracking.SuspendedCondition+
			" FROM tracking.work_sessions WHERE id = $1 AND user_id = $2 FOR UPDATE", sessionID, p.UserID).Scan(&status, &start, &suspended)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return tracking.ErrSessionNotFound
		case err != nil:
			return err
		case suspended:
			return tracking.ErrTenantSuspended
		case status != tracking.StatusActive:
			return tracking.ErrSessionStopped
		}
		// The lock as it is now: the one the items were checked against
		// may be a minute old, and a lock set meanwhile waits for this
		// transaction.
		lock, err := tracking.ReadLock(ctx, tx)
		if err != nil {
			return err
		}
		n := len(batch.Items)
		// The ids as pgtype.UUID, for the reason pg.UUID gives.
		ids, cids, tss := make([]pgtype.UUID, 0, n), make([]string, 0, n), make([]time.Time, 0, n)
		types, durs, urls := make([]string, 0, n), make([]int32, 0, n), make([]*string, 0, n)
		for _, it := range batch.Items {
			if it.Timestamp.Before(start) {
				res.Rejected = append(res.Rejected, Rejection{Index: it.Index, ClientActivityID: it.ClientActivityID,
					Code: ErrInvalidTimestamp.Code, Message: "timestamp is before the session's start_time"})
				continue
			}
			if err := lock.Refuse(it.Timestamp); err != nil {
				e := lockedActivity(err)
				res.Rejected = append(res.Rejected, Rejection{Index: it.Index, ClientActivityID: it.ClientActivityID, Code: e.Code, Message: e.Message})
				continue
			}
			ids, cids, tss = append(ids, pg.NewUUID()), append(cids, *it.ClientActivityID), append(tss, it.Timestamp)
			types, durs, urls = append(types, it.Type), append(durs, int32(it.Duration)), append(urls, it.URL)
		}
		if err := tx.QueryRow(ctx, stmt, sessionID, p.UserID, p.OrganizationID, ids, cids, tss, types, durs, urls, ev.id, ev.at,
			events.TopicActivity, events.TypeActivityRecorded, source).
			Scan(append([]any{&res.Uploaded}, res.Session.Dest()...)...); err != nil {
			return err
		}
		res.Session.Normalize()
		res.Duplicates += len(ids) - res.Uploaded
		return nil
	})
	return res, err
}

// partitionKey finds the timestamp in the detail of a "no partition"
// error: Partition key of the failing row contains (occurred_at) = (...).
var partitionKey = regexp.MustCompile(`\(occurred_at\) = \(([^)]+)\)`)

// missingPartition reports an insert into a month without a partition.
func missingPartition(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23514" && strings.HasPrefix(pe.Message, "no partition of relation")
}

// storageError turns a month still missing after it was made (its
// creation failed in between, or a tree's partitions are not the
// maintenance's) into a 503 that names the month, so that the gap is
// visible and the client retries; the transaction is rolled back, so
// nothing was half-written.
func storageError(err error, times []time.Time) error {
	if !missingPartition(err) {
		return err
	}
	var pe *pgconn.PgError
	errors.As(err, &pe)
	var months []string
	if m := partitionKey.FindStringSubmatch(pe.Detail); m != nil {
		for _, layout := range []string{"2006-01-02 15:04:05.999999-07", "2006-01-02 15:04:05.999999-07:00"} {
			if t, perr := time.Parse(layout, m[1]); perr == nil {
				months = []string{t.UTC().Format("2006-01")}
				break
			}
		}
	}
	if months == nil {
		for _, t := range times {
			if m := t.UTC().Format("2006-01"); !slices.Contains(months, m) {
				months = append(months, m)
			}
		}
	}
	return apierr.ErrUnavailable.WithMessage("activity storage for " + strings.Join(months, ", ") +
		" is not provisioned yet (no partition); nothing was stored, retry later").WithDetails(map[string]any{"months": months})
}

// writeTx runs batch as one statement in one implicit transaction, whatever
// the posts' sessions and tenants: the posts of 64 organizations with one
// agent each are one statement, as are those of one organization with 64
// agents, or 64 posts to one session. Row-level security is switched to
// the set of the batch's organizations (pg.QueueInOrgs), so the statement
// reaches no row of any other, and the statement ties each post to a
// session of the post's own organization and writes its rows under that
// organization. A write the server rolled back to break a conflict with
// another transaction (a deadlock with a migration's locks during an
// upgrade, say) is made again, with nothing of it kept.
func (c *combiner) writeTx(ctx context.Context, batch []*pendingOne, lock sessionLock) error {
	for attempt := 1; ; attempt++ {
		for _, p := range batch {
			p.out = recordOutcome{}
		}
		err := c.writeTxOnce(ctx, batch, lock)
		if err == nil || attempt == conflictAttempts || !pg.IsConflictRollback(err) {
			return err
		}
	}
}

// conflictAttempts bounds how often a write the server rolled back to break
// a conflict is made again before its posts get the error.
const conflictAttempts = 3

// writeTxOnce is one attempt of writeTx.
func (c *combiner) writeTxOnce(ctx context.Context, batch []*pendingOne, lock sessionLock) error {
	b, err := recordBatch(batch, lock)
	if err != nil {
		return err
	}
	br := c.db.SendBatch(ctx, b)
	_, err = br.Exec()
	if err == nil {
		err = scanPosts(br, batch)
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// recordBatch is what writeTxOnce sends for batch: the switch to its
// organizations, then the statement.
func recordBatch(batch []*pendingOne, lock sessionLock) (*pgx.Batch, error) {
	var orgs []string
	for _, p := range batch {
		if !slices.Contains(orgs, p.org) {
			orgs = append(orgs, p.org)
		}
	}
	args, err := recordArgs(batch)
	if err != nil {
		return nil, err
	}
	b := &pgx.Batch{}
	pg.QueueInOrgs(b, orgs)
	b.Queue(recordPostsSQL[lock], args...)
	return b, nil
}

// scanPosts hands each post of batch its row, found by its activity's id;
// a post with none named a session that is not the caller's (or does not
// exist), or one another transaction holds.
func scanPosts(br pgx.BatchResults, batch []*pendingOne) error {
	byActivity := make(map[string]*pendingOne, len(batch))
	for _, p := range batch {
		byActivity[p.act.ID] = p
	}
	rows, err := br.Query()
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var aid string
		o := recordOutcome{found: true}
		if err := rows.Scan(append([]any{&aid, &o.stored, &o.suspended, &o.dupID}, o.sess.Dest()...)...); err != nil {
			return err
		}
		o.sess.Normalize()
		if p := byActivity[aid]; p != nil {
			p.out = o
		}
	}
	return rows.Err()
}

// recordArgs are the parameters of recordPostsSQL for batch, in arrival
// order, the ids as pg.UUID gives them, which pgx writes cheapest.
func recordArgs(batch []*pendingOne) ([]any, error) {
	n := len(batch)
	sids, uids, orgs, aids := make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n), make([]pgtype.UUID, n)
	cids, tss, types := make([]*string, n), make([]time.Time, n), make([]string, n)
	durs, urls, eids, ats := make([]int32, n), make([]*string, n), make([]pgtype.UUID, n), make([]string, n)
	for i, p := range batch {
		var err [4]error
		sids[i], err[0] = pg.UUID(p.sessionID)
		uids[i], err[1] = pg.UUID(p.uid)
		orgs[i], err[2] = pg.UUID(p.org)
		aids[i], err[3] = pg.UUID(p.act.ID)
		if err := errors.Join(err[:]...); err != nil {
			return nil, fmt.Errorf("ingest: post of session %q: %w", p.sessionID, err)
		}
		cids[i], tss[i], types[i] = p.act.ClientActivityID, p.act.Timestamp, p.act.ActivityType
		durs[i], urls[i], eids[i], ats[i] = int32(p.act.DurationSeconds), p.act.URL, p.ev.id, p.ev.at
	}
	return []any{sids, uids, orgs, aids, cids, tss, types, durs, urls, eids, ats, events.TopicActivity, events.TypeActivityRecorded, source}, nil
}

// recordPostsSQL records a batch of posts; see Store. Each post has the
// outcome it would have had written alone, after the posts that arrived
// before it: its claim, its row, the session as it is after it, and its
// activity.recorded event with those totals. The sessions are locked
// first, in id order so that concurrent writes cannot deadlock on them,
// and each is updated once, to what it is after its last post: a session
// updated once per post within one transaction keeps every version of its
// row until commit, and each later update walks them all.
//
// The session after its k-th stored post (r, then u) adds up the first k
// posts' seconds and versions. Its last activity is the latest of its
// previous one and theirs; the type is the previous one's if that is
// later than all of them, else that of the last post to reach their
// latest timestamp (leads: a post timed like the latest so far replaces
// it, as latestType does).
//
// It returns a row per post of a session it found: stored, or the session
// as the posts before it left it with the reasons it was not (suspended,
// an earlier activity with the same client_activity_id, committed or in
// this batch). A post finds only a session of its own organization and
// user, and its claim and activity carry that organization: row-level
// security admits the whole batch's organizations, this keeps each post
// to its own.
var recordPostsSQL = map[sessionLock]string{
	skipBusySessions: recordSQL("SKIP LOCKED"),
	waitForSessions:  recordSQL(""),
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

func recordSQL(lockOption string) string {
	return numbered(`WITH i AS (
  SELECT * FROM unnest($sids::uuid[], $uids::uuid[], $orgs::uuid[], $aids::uuid[], $cids::text[], $tss::timestamptz[], $types::text[],
    $durs::int[], $urls::text[], $eids::uuid[], $ats::text[]) WITH ORDINALITY AS i(sid, uid, org, aid, cid, ts, typ, dur, url, eid, at, ord)
), s AS MATERIALIZED (
  SELECT `+tracking.SessionColumnsOf("w")+`, `+tracking.SuspendedOf("w.organization_id")+` AS suspended
  FROM tracking.work_sessions w WHERE EXISTS (SELECT 1 FROM i WHERE i.sid = w.id AND i.uid = w.user_id AND i.org = w.organization_id)
  ORDER BY w.id FOR UPDATE OF w `+lockOption+`
), mine AS MATERIALIZED (
  SELECT i.*, s.status = 'active' AND NOT s.suspended AND i.ts >= s.start_time AS writable
  FROM i JOIN s ON s.id = i.sid AND s.user_id = i.uid AND s.organization_id = i.org
), d AS (
  INSERT INTO tracking.activity_dedup (user_id, client_activity_id, organization_id, activity_id, occurred_at)
  SELECT m.uid, m.cid, m.org, m.aid, m.ts FROM mine m WHERE m.writable AND m.cid IS NOT NULL ORDER BY m.ord
  ON CONFLICT DO NOTHING RETURNING activity_id
), a AS (
  INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, client_activity_id, occurred_at, activity_type, duration_seconds, url)
  SELECT m.aid, m.org, m.sid, m.uid, m.cid, m.ts, m.typ, m.dur, m.url FROM mine m
  WHERE m.writable AND (m.cid IS NULL OR m.aid IN (SELECT activity_id FROM d))
  RETURNING id
), t AS (
  SELECT m.aid, m.sid, m.ord, m.eid, m.at, m.ts, m.typ, 1 AS n, m.ts AS first, m.ts AS last,
    CASE WHEN m.typ = 'active' THEN m.dur ELSE 0 END AS act, CASE WHEN m.typ = 'idle' THEN m.dur ELSE 0 END AS idle,
    CASE WHEN m.typ = 'active' THEN m.ts END AS last_active, m.ts >= max(m.ts) OVER so_far AS leads
  FROM mine m JOIN a ON a.id = m.aid
  WINDOW so_far AS (PARTITION BY m.sid ORDER BY m.ord)
), r AS (
  SELECT t.*, sum(t.act) OVER so_far AS act_sum, sum(t.idle) OVER so_far AS idle_sum, count(*) OVER so_far AS k,
    max(t.ts) OVER so_far AS latest, count(*) FILTER (WHERE t.leads) OVER so_far AS lead_no, count(*) OVER (PARTITION BY t.sid) AS posts
  FROM t WINDOW so_far AS (PARTITION BY t.sid ORDER BY t.ord)
), u AS (
  SELECT s.id, s.organization_id, s.user_id, s.project_id, s.start_time, s.end_time, s.status,
    s.total_active_seconds + r.act_sum AS total_active_seconds, s.total_idle_seconds + r.idle_sum AS total_idle_seconds,
    greatest(s.last_activity_at, r.latest) AS last_activity_at,
    CASE WHEN s.last_activity_at > r.latest THEN s.last_activity_type
      ELSE first_value(r.typ) OVER (PARTITION BY r.sid, r.lead_no ORDER BY r.ord) END AS last_activity_type,
    s.version + r.k AS version, s.created_at, now() AS updated_at, r.aid, r.ord, r.k = r.posts AS last_post
  FROM r JOIN s ON s.id = r.sid
), saved AS (
  UPDATE tracking.work_sessions w SET total_active_seconds = u.total_active_seconds, total_idle_seconds = u.total_idle_seconds,
    last_activity_at = u.last_activity_at, last_activity_type = u.last_activity_type, version = u.version, updated_at = u.updated_at
  FROM u WHERE w.id = u.id AND u.last_post
), o AS (`+activityEventSQL("t.eid", "t.at", "u JOIN t ON t.aid = u.aid ORDER BY t.ord")+`)
SELECT u.aid, true, false, NULL::uuid, `+tracking.SessionColumnsOf("u")+` FROM u
UNION ALL
SELECT m.aid, false, s.suspended, coalesce(
    (SELECT activity_id FROM tracking.activity_dedup WHERE user_id = m.uid AND client_activity_id = m.cid),
    (SELECT d.activity_id FROM d JOIN mine c ON c.aid = d.activity_id WHERE c.uid = m.uid AND c.cid = m.cid AND c.ord < m.ord)),
  `+tracking.SessionColumnsOf("b")+`
FROM mine m JOIN s ON s.id = m.sid CROSS JOIN LATERAL (
  SELECT * FROM (SELECT u.ord, `+tracking.SessionColumnsOf("u")+` FROM u WHERE u.id = s.id AND u.ord < m.ord
    UNION ALL SELECT 0, `+tracking.SessionColumnsOf("s")+`) b ORDER BY b.ord DESC LIMIT 1) b
WHERE NOT EXISTS (SELECT 1 FROM t WHERE t.aid = m.aid)`,
		"sids", "uids", "orgs", "aids", "cids", "tss", "types", "durs", "urls", "eids", "ats", "topic", "type", "source")
}

// --- Idle decisions

// decideIdleSQL pins the session's ($sid) idle activities timed in
// [$start, $end) that no decision covers yet to the new decision $id, and
// returns how many there were, their seconds, the earliest and latest
// timestamp, and the list of them for the audit entry. With none it
// stores nothing.
var decideIdleSQL = numbered(`WITH c AS MATERIALIZED (
  SELECT a.id, a.occurred_at, a.duration_seconds FROM tracking.activity_logs a
  WHERE a.organization_id = $org AND a.session_id = $sid AND a.activity_type = 'idle'
    AND a.occurred_at >= $start AND a.occurred_at < $end
    AND NOT EXISTS (SELECT 1 FROM tracking.idle_decision_activity i WHERE i.activity_id = a.id)
), d AS (
  INSERT INTO tracking.idle_decisions (id, organization_id, session_id, user_id, start_time, end_time, decision, project_id,
    activities, idle_seconds, decided_by, decided_at)
  SELECT $id, $org, $sid, $uid, $start, $end, $decision, $project, count(*), sum(c.duration_seconds), $uid, $now FROM c
  HAVING count(*) > 0
  RETURNING id
), p AS (
  INSERT INTO tracking.idle_decision_activity (activity_id, organization_id, decision_id, decision, occurred_at)
  SELECT c.id, $org, d.id, $decision, c.occurred_at FROM c, d
)
SELECT count(*), coalesce(sum(duration_seconds), 0), min(occurred_at), max(occurred_at),
  coalesce(jsonb_agg(jsonb_build_object('id', id, 'timestamp', occurred_at, 'duration_seconds', duration_seconds) ORDER BY occurred_at, id), '[]')
FROM c`, "org", "sid", "start", "end", "id", "uid", "decision", "project", "now")

// correctTotalsSQL moves $idle seconds of the session $sid out of its
// idle total, into its active total unless the decision is a discard.
const correctTotalsSQL = `UPDATE tracking.work_sessions SET total_idle_seconds = total_idle_seconds - $2,
  total_active_seconds = total_active_seconds + CASE WHEN $3 = 'discard' THEN 0 ELSE $2 END,
  version = version + 1, updated_at = now()
  WHERE id = $1 RETURNING ` + tracking.SessionColumns

// DecideIdle applies d to the caller's session d.SessionID and returns the
// session with its corrected totals; d gets what it covered.
//
// The session row is locked first, as every activity transaction locks
// it, so a decision either follows an activity post and covers what it
// stored, or precedes it and the post adds to the corrected totals: the
// totals stay the stored activity as the decisions classify it. The
// decision, its pinned activities, the corrected totals, the
// activity.corrected event and the audit entry commit together.
func (s *Store) DecideIdle(ctx context.Context, p authn.Principal, d *IdleDecision) (tracking.Session, error) {
	var sess tracking.Session
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		before, err := tracking.ScanSession(tx.QueryRow(ctx, "SELECT "+tracking.SessionColumns+
			" FROM tracking.work_sessions WHERE id = $1 AND user_id = $2 FOR UPDATE", d.SessionID, p.UserID))
		if errors.Is(err, pgx.ErrNoRows) {
			return tracking.ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		if err := tracking.CheckNotSuspended(ctx, tx); err != nil {
			return err
		}
		if err := tracking.CheckUnlocked(ctx, tx, d.StartTime); err != nil {
			return err
		}
		if d.ProjectID != nil {
			if err := projectInUse(ctx, tx, *d.ProjectID); err != nil {
				return err
			}
		}
		d.UserID, d.DecidedBy, d.DecidedAt = p.UserID, p.UserID, s.clock.Now().UTC()
		var first, last *time.Time
		var covered json.RawMessage
		if err := tx.QueryRow(ctx, decideIdleSQL, p.OrganizationID, d.SessionID, d.StartTime, d.EndTime, d.ID, p.UserID, d.Decision,
			d.ProjectID, d.DecidedAt).Scan(&d.Activities, &d.IdleSeconds, &first, &last, &covered); err != nil {
			return err
		}
		if d.Activities == 0 {
			return ErrNothingToDecide
		}
		if sess, err = tracking.ScanSession(tx.QueryRow(ctx, correctTotalsSQL, d.SessionID, d.IdleSeconds, d.Decision)); err != nil {
			return err
		}
		ev, err := events.New(d.DecidedAt, source, events.TypeActivityCorrected, p.OrganizationID, p.UserID, events.ActivityCorrected{
			Session: sess.Event(), DecisionID: d.ID, Decision: d.Decision, ProjectID: d.ProjectID, IdleSeconds: d.IdleSeconds,
			FirstAt: first.UTC(), LastAt: last.UTC()})
		if err != nil {
			return err
		}
		if err := outbox.Enqueue(ctx, tx, tracking.OutboxTable, ev); err != nil {
			return err
		}
		return recordAudit(ctx, tx, d.DecidedAt, p.UserID, auditIdleDecided, &p.UserID, map[string]any{
			"session_id": d.SessionID, "decision_id": d.ID, "decision": d.Decision, "project_id": d.ProjectID,
			"start_time": d.StartTime, "end_time": d.EndTime, "idle_seconds": d.IdleSeconds, "activities": covered,
			"before": totalsOf(before), "after": totalsOf(sess)})
	})
	return sess, err
}

// totalsOf is what an audit entry shows of a session's totals.
func totalsOf(s tracking.Session) map[string]int64 {
	return map[string]int64{"total_active_seconds": s.TotalActiveSeconds, "total_idle_seconds": s.TotalIdleSeconds}
}

// projectInUse refuses a project that is not the organization's or is
// archived. Ingest only reads projects, so an archiving may commit just
// after the check: that assigns time from before the archiving, which
// archived projects keep anyway.
func projectInUse(ctx context.Context, tx pgx.Tx, id string) error {
	var archived bool
	err := tx.QueryRow(ctx, "SELECT archived_at IS NOT NULL FROM tracking.projects WHERE id = $1", id).Scan(&archived)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return tracking.ErrProjectNotFound
	case err != nil:
		return err
	case archived:
		return tracking.ErrProjectArchived
	}
	return nil
}

// IdleDecisions lists the idle decisions of a session the caller sees
// (authn.Principal.Sees), oldest stretch first.
func (s *Store) IdleDecisions(ctx context.Context, p authn.Principal, sessionID string) ([]IdleDecision, error) {
	list := []IdleDecision{}
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var owner string
		err := tx.QueryRow(ctx, "SELECT user_id FROM tracking.work_sessions WHERE id = $1", sessionID).Scan(&owner)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !p.Sees(owner)) {
			return tracking.ErrSessionNotFound
		}
		if err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT id, session_id, user_id, start_time, end_time, decision, project_id, activities, idle_seconds,
			decided_by, decided_at FROM tracking.idle_decisions WHERE session_id = $1 ORDER BY start_time, decided_at, id`, sessionID)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (IdleDecision, error) {
			var d IdleDecision
			err := r.Scan(&d.ID, &d.SessionID, &d.UserID, &d.StartTime, &d.EndTime, &d.Decision, &d.ProjectID, &d.Activities,
				&d.IdleSeconds, &d.DecidedBy, &d.DecidedAt)
			d.StartTime, d.EndTime, d.DecidedAt = d.StartTime.UTC(), d.EndTime.UTC(), d.DecidedAt.UTC()
			return d, err
		})
		return err
	})
	return list, err
}

// redactionRow is an organization's rules as tracking.url_redaction_after
// reads them.
type redactionRow struct {
	org   string
	rules []byte
	seq   int64
}

// redactionsAfter reads the rules of the organizations changed after seq,
// in seq order, at most limit of them.
func redactionsAfter(ctx context.Context, db *pgxpool.Pool, seq int64, limit int) ([]redactionRow, error) {
	rows, err := db.Query(ctx, "SELECT organization_id::text, rules, seq FROM tracking.url_redaction_after($1, $2)", seq, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(row pgx.CollectableRow) (redactionRow, error) {
		var r redactionRow
		err := row.Scan(&r.org, &r.rules, &r.seq)
		return r, err
	})
}

// redactionRulesSQL reads the organization's rules; an organization that
// never set any has an empty list.
const redactionRulesSQL = "SELECT rules, updated_at, updated_by::text FROM tracking.url_redaction WHERE organization_id = public.current_org()"

// RedactionRules reads the caller's organization's rules.
func (s *Store) RedactionRules(ctx context.Context, p authn.Principal) (RedactionRules, error) {
	var out RedactionRules
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		out, err = readRedactionRules(ctx, tx)
		return err
	})
	return out, err
}

func readRedactionRules(ctx context.Context, tx pgx.Tx) (RedactionRules, error) {
	out := RedactionRules{Rules: []RedactionRule{}}
	err := tx.QueryRow(ctx, redactionRulesSQL).Scan(&out.Rules, &out.UpdatedAt, &out.UpdatedBy)
	if errors.Is(err, pgx.ErrNoRows) {
		return out, nil
	}
	if out.UpdatedAt != nil {
		*out.UpdatedAt = out.UpdatedAt.UTC()
	}
	return out, err
}

// SetRedactionRules replaces the caller's organization's rules and records
// the change, with the rules before and after, in the audit log. The
// advisory lock serializes writers across organizations, so that rows
// commit in seq order (see migrations' tracking.url_redaction).
func (s *Store) SetRedactionRules(ctx context.Context, p authn.Principal, rules []RedactionRule) (RedactionRules, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var out RedactionRules
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('tracking.url_redaction', 0))"); err != nil {
			return err
		}
		before, err := readRedactionRules(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO tracking.url_redaction (organization_id, rules, updated_at, updated_by) VALUES (public.current_org(), $1, $2, $3)"+
			" ON CONFLICT (organization_id) DO UPDATE SET rules = EXCLUDED.rules, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by,"+
			" seq = nextval('tracking.url_redaction_seq')", rules, now, p.UserID); err != nil {
			return err
		}
		out = RedactionRules{Rules: rules, UpdatedAt: &now, UpdatedBy: &p.UserID}
		return recordAudit(ctx, tx, now, p.UserID, auditRedactionChanged, nil, map[string]any{"before": before.Rules, "after": rules})
	})
	return out, err
}

// Actions ingest records in auth's audit log (auth.record_tracking_audit).
const (
	auditRedactionChanged = "organization.redaction_changed"
	auditIdleDecided      = "time.idle_decided"
	// Manual time entries, the member whose time it is as the subject.
	auditTimeRequested = "time.requested"
	auditTimeApproved  = "time.approved"
	auditTimeRejected  = "time.rejected"
	// Timesheet locks: a lock set or moved later, and one moved earlier
	// or removed.
	auditTimesheetLocked   = "timesheet.locked"
	auditTimesheetUnlocked = "timesheet.unlocked"
)

// recordAudit writes an entry of auth's audit log for the organization of
// tx: actor did action to subject (nil: the organization).
func recordAudit(ctx context.Context, tx pgx.Tx, at time.Time, actor, action string, subject *string, details map[string]any) error {
	_, err := tx.Exec(ctx, "SELECT auth.record_tracking_audit($1, $2, $3, $4, $5)", at, actor, action, subject, details)
	return err
}

// --- Manual time entries

const timeRequestColumns = `id, kind, user_id, project_id, start_time, end_time, note, status, requested_at, reviewed_by, reviewed_at,
  review_note, session_id`

func scanTimeRequest(row pgx.Row) (TimeRequest, error) {
	var t TimeRequest
	err := row.Scan(&t.ID, &t.Kind, &t.UserID, &t.ProjectID, &t.StartTime, &t.EndTime, &t.Note, &t.Status, &t.RequestedAt, &t.ReviewedBy,
		&t.ReviewedAt, &t.ReviewNote, &t.SessionID)
	t.StartTime, t.EndTime, t.RequestedAt = t.StartTime.UTC(), t.EndTime.UTC(), t.RequestedAt.UTC()
	if t.ReviewedAt != nil {
		*t.ReviewedAt = t.ReviewedAt.UTC()
	}
	return t, err
}

// lockMemberTime serializes, within the tenant, the changes of one
// member's time that must not overlap: two approvals of overlapping
// entries would otherwise both see no overlap and both count.
func lockMemberTime(ctx context.Context, tx pgx.Tx, user string) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtextextended('tracking.member_time:' || $1::text, 0))", user)
	return err
}

// checkNoOverlap refuses [start, end) when a session of user other than
// except (nil: none) overlaps it (an active one reaches to infinity).
func checkNoOverlap(ctx context.Context, tx pgx.Tx, user string, except *string, start, end time.Time) error {
	var overlaps bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM tracking.work_sessions WHERE user_id = $1
		AND start_time < $3 AND coalesce(end_time, 'infinity') > $2 AND id IS DISTINCT FROM $4)`, user, start, end, except).Scan(&overlaps)
	if err == nil && overlaps {
		return ErrTimeOverlaps
	}
	return err
}

// RequestTime files t for the caller, pending, and audits the request.
// What approval would refuse is refused now already; approval checks it
// all again, as the member's time may have changed in between.
func (s *Store) RequestTime(ctx context.Context, p authn.Principal, t *TimeRequest) error {
	t.RequestedAt = s.clock.Now().UTC().Truncate(time.Microsecond)
	return pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		if err := tracking.CheckNotSuspended(ctx, tx); err != nil {
			return err
		}
		from, projectChanges := t.StartTime, true
		if t.Kind == KindEdit {
			sess, err := editedSession(ctx, tx, *t.SessionID, p.UserID, "")
			if err != nil {
				return err
			}
			from, projectChanges = earliest(sess.StartTime, t.StartTime), !equalIDs(sess.ProjectID, t.ProjectID)
		}
		if err := tracking.CheckUnlocked(ctx, tx, from); err != nil {
			return err
		}
		if t.ProjectID != nil && projectChanges {
			if err := projectInUse(ctx, tx, *t.ProjectID); err != nil {
				return err
			}
		}
		if err := checkNoOverlap(ctx, tx, p.UserID, t.SessionID, t.StartTime, t.EndTime); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO tracking.time_requests (id, organization_id, kind, user_id, project_id, start_time, end_time, note,
			status, requested_at, session_id) VALUES ($1, public.current_org(), $2, $3, $4, $5, $6, $7, 'pending', $8, $9)`,
			t.ID, t.Kind, p.UserID, t.ProjectID, t.StartTime, t.EndTime, t.Note, t.RequestedAt, t.SessionID); err != nil {
			return err
		}
		if err := recordAudit(ctx, tx, t.RequestedAt, p.UserID, auditTimeRequested, &p.UserID, map[string]any{
			"request_id": t.ID, "before": nil, "after": t}); err != nil {
			return err
		}
		return enqueueTimeEvent(ctx, tx, p.OrganizationID, events.TypeTimeRequested, *t)
	})
}

// enqueueTimeEvent writes the step typ of a time request, t as it is
// after the step, to the outbox in the step's transaction, keyed by the
// member like their session events.
func enqueueTimeEvent(ctx context.Context, tx pgx.Tx, org, typ string, t TimeRequest) error {
	at := t.RequestedAt
	if t.ReviewedAt != nil {
		at = *t.ReviewedAt
	}
	ev, err := events.New(at, source, typ, org, t.UserID, events.TimeRequest{RequestID: t.ID, OrganizationID: org, UserID: t.UserID,
		Kind: t.Kind, Status: t.Status, ProjectID: t.ProjectID, StartTime: t.StartTime, EndTime: t.EndTime, SessionID: t.SessionID,
		RequestedAt: t.RequestedAt, ReviewedBy: t.ReviewedBy, ReviewedAt: t.ReviewedAt})
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, tracking.OutboxTable, ev)
}

// maxListedRequests bounds GET /api/time-requests.
const maxListedRequests = 500

// TimeRequests lists the newest requests of the members p sees, of the
// status, kind and user f names.
func (s *Store) TimeRequests(ctx context.Context, p authn.Principal, f requestFilter) ([]TimeRequest, error) {
	users, all := p.Visible()
	if f.user != "" {
		if !p.Sees(f.user) {
			return []TimeRequest{}, nil
		}
		users, all = []string{f.user}, false
	}
	if all {
		users = nil
	}
	list := []TimeRequest{}
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT "+timeRequestColumns+` FROM tracking.time_requests
			WHERE ($1::uuid[] IS NULL OR user_id = ANY($1)) AND ($2 = '' OR status = $2) AND ($4 = '' OR kind = $4)
			ORDER BY requested_at DESC, id LIMIT $3`, users, f.status, maxListedRequests, f.kind)
		if err != nil {
			return err
		}
		list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (TimeRequest, error) { return scanTimeRequest(r) })
		return err
	})
	return list, err
}

// manualPieces splits [start, end) at whole UTC minutes into activity
// timestamps and durations. Every zone's offset is whole minutes, so no
// piece crosses a local midnight and each second of the entry counts on
// its own local day, as it would have from the agent.
func manualPieces(start, end time.Time) (tss []time.Time, durs []int32) {
	for at := start; at.Before(end); {
		next := at.Truncate(time.Minute).Add(time.Minute)
		if next.After(end) {
			next = end
		}
		tss, durs = append(tss, at), append(durs, int32(next.Sub(at)/time.Second))
		at = next
	}
	return tss, durs
}

// insertManualSessionSQL makes an approved entry's stopped session
// ($sid) with its active activity, the pieces of manualPieces, and
// returns the session.
var insertManualSessionSQL = numbered(`WITH a AS (
  INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
  SELECT gen_random_uuid(), $org, $sid, $uid, p.ts, 'active', p.dur FROM unnest($tss::timestamptz[], $durs::int[]) AS p(ts, dur)
)
INSERT INTO tracking.work_sessions (id, organization_id, user_id, project_id, start_time, end_time, status, total_active_seconds,
  last_activity_at, last_activity_type, created_at, updated_at)
SELECT $sid, $org, $uid, $project, $start, $end, 'stopped', (SELECT sum(d) FROM unnest($durs::int[]) AS d),
  (SELECT max(t) FROM unnest($tss::timestamptz[]) AS t), 'active', $now, $now
RETURNING `+tracking.SessionColumns, "org", "sid", "uid", "tss", "durs", "project", "start", "end", "now")

// ReviewTime approves or rejects (verdict) the pending request id of a
// member p sees; p is a manager or an admin, and a manager does not
// review their own. An approval makes the entry's session and activity,
// whose activity.corrected event has the report service correct the
// entry's past days; the request, the session, the event and the audit
// entry (the request before and after) commit together.
func (s *Store) ReviewTime(ctx context.Context, p authn.Principal, id, verdict string, note *string) (timeReviewResult, error) {
	var res timeReviewResult
	var months []time.Time
	for attempt := 0; ; attempt++ {
		err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
			var err error
			res, err = s.reviewTime(ctx, tx, p, id, verdict, note, &months)
			return err
		})
		if !missingPartition(err) || attempt > 0 {
			return res, storageError(err, months)
		}
		// The entry's month has no storage yet: make it, then again.
		if err := storage.EnsureMonths(ctx, s.db, p.OrganizationID, months); err != nil {
			return res, err
		}
	}
}

func (s *Store) reviewTime(ctx context.Context, tx pgx.Tx, p authn.Principal, id, verdict string, note *string, months *[]time.Time) (timeReviewResult, error) {
	var res timeReviewResult
	before, err := scanTimeRequest(tx.QueryRow(ctx, "SELECT "+timeRequestColumns+" FROM tracking.time_requests WHERE id = $1 FOR UPDATE", id))
	switch {
	case errors.Is(err, pgx.ErrNoRows) || (err == nil && !p.Sees(before.UserID)):
		return res, errTimeRequestNotFound
	case err != nil:
		return res, err
	case before.UserID == p.UserID && !p.IsAdmin():
		return res, ErrSelfReview
	case before.Status != RequestPending:
		return res, ErrTimeReviewed
	}
	if err := tracking.CheckNotSuspended(ctx, tx); err != nil {
		return res, err
	}
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	after := before
	after.Status, after.ReviewedBy, after.ReviewedAt, after.ReviewNote = verdict, &p.UserID, &now, note
	var event map[string]any
	// A rejection changes no time, so a locked day refuses approvals only.
	switch {
	case verdict == RequestApproved && before.Kind == KindEdit:
		sess, change, err := s.applyEdit(ctx, tx, after, now, months)
		if err != nil {
			return res, err
		}
		res.Session, event = &sess, change
	case verdict == RequestApproved:
		if err := tracking.CheckUnlocked(ctx, tx, before.StartTime); err != nil {
			return res, err
		}
		sess, err := s.applyManualEntry(ctx, tx, p.OrganizationID, after, now, months)
		if err != nil {
			return res, err
		}
		res.Session, after.SessionID = &sess, &sess.ID
		event = map[string]any{"session": totalsOf(sess)}
	}
	if _, err := tx.Exec(ctx, `UPDATE tracking.time_requests SET status = $2, reviewed_by = $3, reviewed_at = $4, review_note = $5,
		session_id = $6 WHERE id = $1`, id, verdict, p.UserID, now, note, after.SessionID); err != nil {
		return res, err
	}
	res.Request = after
	action, step := auditTimeApproved, events.TypeTimeApproved
	if verdict == RequestRejected {
		action, step = auditTimeRejected, events.TypeTimeRejected
	}
	details := map[string]any{"request_id": id, "before": before, "after": after}
	for k, v := range event {
		details[k] = v
	}
	if err := recordAudit(ctx, tx, now, p.UserID, action, &before.UserID, details); err != nil {
		return res, err
	}
	return res, enqueueTimeEvent(ctx, tx, p.OrganizationID, step, after)
}

// applyManualEntry makes the approved entry t's session and activity,
// unless a session of the member overlaps it by now.
func (s *Store) applyManualEntry(ctx context.Context, tx pgx.Tx, org string, t TimeRequest, now time.Time, months *[]time.Time) (tracking.Session, error) {
	if err := lockMemberTime(ctx, tx, t.UserID); err != nil {
		return tracking.Session{}, err
	}
	if err := checkNoOverlap(ctx, tx, t.UserID, nil, t.StartTime, t.EndTime); err != nil {
		return tracking.Session{}, err
	}
	if t.ProjectID != nil {
		if err := projectInUse(ctx, tx, *t.ProjectID); err != nil {
			return tracking.Session{}, err
		}
	}
	tss, durs := manualPieces(t.StartTime, t.EndTime)
	*months = []time.Time{tss[0], tss[len(tss)-1]}
	sess, err := tracking.ScanSession(tx.QueryRow(ctx, insertManualSessionSQL, org, uuid.NewString(), t.UserID, tss, durs,
		t.ProjectID, t.StartTime, t.EndTime, now))
	if err != nil {
		return sess, err
	}
	ev, err := events.New(now, source, events.TypeActivityCorrected, sess.OrganizationID, t.UserID, events.ActivityCorrected{
		Session: sess.Event(), DecisionID: t.ID, Decision: events.CorrectionManualEntry, ProjectID: t.ProjectID,
		FirstAt: tss[0], LastAt: tss[len(tss)-1]})
	if err != nil {
		return sess, err
	}
	return sess, outbox.Enqueue(ctx, tx, tracking.OutboxTable, ev)
}

// editedSession reads the member's session an edit is about (lock: ""
// or " FOR UPDATE"); only a stopped session is edited.
func editedSession(ctx context.Context, tx pgx.Tx, id, user, lock string) (tracking.Session, error) {
	sess, err := tracking.ScanSession(tx.QueryRow(ctx, "SELECT "+tracking.SessionColumns+
		" FROM tracking.work_sessions WHERE id = $1 AND user_id = $2"+lock, id, user))
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return sess, tracking.ErrSessionNotFound
	case err == nil && sess.Status != tracking.StatusStopped:
		return sess, ErrEditRunning
	}
	return sess, err
}

// editActivitySQL moves the activity of the session $sid into the new
// bounds [$start, $end): it deletes the activity timed outside them and
// stores the pieces the bounds gain ($tss, $durs) as active activity. It
// returns whether an idle decision covers deleted activity (the caller
// then refuses the edit and the transaction is rolled back), how many
// activities it deleted, their active and idle seconds, and the seconds
// it added. The claims of the deleted activities' client_activity_ids
// stay, so an agent's retry of one stays a duplicate.
var editActivitySQL = numbered(`WITH gone AS MATERIALIZED (
  SELECT a.id, a.occurred_at, a.activity_type, a.duration_seconds,
    EXISTS (SELECT 1 FROM tracking.idle_decision_activity i WHERE i.activity_id = a.id) AS decided
  FROM tracking.activity_logs a
  WHERE a.organization_id = $org AND a.session_id = $sid AND (a.occurred_at < $start OR a.occurred_at >= $end)
), del AS (
  DELETE FROM tracking.activity_logs a USING gone WHERE a.organization_id = $org AND a.occurred_at = gone.occurred_at AND a.id = gone.id
), ins AS (
  INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
  SELECT gen_random_uuid(), $org, $sid, $uid, p.ts, 'active', p.dur FROM unnest($tss::timestamptz[], $durs::int[]) AS p(ts, dur)
)
SELECT coalesce(bool_or(decided), false), count(*),
  coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0),
  coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0),
  (SELECT coalesce(sum(d), 0) FROM unnest($durs::int[]) AS d)
FROM gone`, "org", "sid", "uid", "start", "end", "tss", "durs")

// editSessionSQL gives the session $1 the edit's project and bounds and
// takes what editActivitySQL deleted ($5 active, $6 idle seconds) from its
// totals and adds what it stored ($7 active seconds); its last activity
// is read again, as the latest may be gone.
const editSessionSQL = `UPDATE tracking.work_sessions SET project_id = $2, start_time = $3, end_time = $4,
  total_active_seconds = total_active_seconds - $5 + $7, total_idle_seconds = total_idle_seconds - $6,
  (last_activity_at, last_activity_type) = (SELECT occurred_at, activity_type FROM tracking.activity_logs WHERE session_id = $1
    ORDER BY occurred_at DESC, activity_type LIMIT 1),
  version = version + 1, updated_at = now()
  WHERE id = $1 RETURNING ` + tracking.SessionColumns

// applyEdit gives the session of the approved edit t the project and the
// bounds t asks for, under the member's time lock (as manual entries take
// it) and the session's row lock (as every activity write takes it). The
// session then counts its activity timed inside the new bounds, plus the
// time the bounds gain as active work, split as a manual entry's is. It
// is refused when the period it changes (from the earlier of the old and
// the new start) touches a locked day, when the new bounds overlap
// another session of the member, or when they would drop decided idle
// activity. It returns the edited session and what the audit entry shows
// of the change.
func (s *Store) applyEdit(ctx context.Context, tx pgx.Tx, t TimeRequest, now time.Time, months *[]time.Time) (tracking.Session, map[string]any, error) {
	if err := lockMemberTime(ctx, tx, t.UserID); err != nil {
		return tracking.Session{}, nil, err
	}
	before, err := editedSession(ctx, tx, *t.SessionID, t.UserID, " FOR UPDATE")
	if err != nil {
		return before, nil, err
	}
	if err := tracking.CheckUnlocked(ctx, tx, earliest(before.StartTime, t.StartTime)); err != nil {
		return before, nil, err
	}
	if err := checkNoOverlap(ctx, tx, t.UserID, t.SessionID, t.StartTime, t.EndTime); err != nil {
		return before, nil, err
	}
	if t.ProjectID != nil && !equalIDs(before.ProjectID, t.ProjectID) {
		if err := projectInUse(ctx, tx, *t.ProjectID); err != nil {
			return before, nil, err
		}
	}
	tss, durs := gainedPieces(before.StartTime, *before.EndTime, t.StartTime, t.EndTime)
	if len(tss) > 0 {
		*months = []time.Time{tss[0], tss[len(tss)-1]}
	}
	var decided bool
	var removed, removedActive, removedIdle, added int64
	if err := tx.QueryRow(ctx, editActivitySQL, before.OrganizationID, before.ID, t.UserID, t.StartTime, t.EndTime, tss, durs).
		Scan(&decided, &removed, &removedActive, &removedIdle, &added); err != nil {
		return before, nil, err
	}
	if decided {
		return before, nil, ErrEditDecided
	}
	sess, err := tracking.ScanSession(tx.QueryRow(ctx, editSessionSQL, before.ID, t.ProjectID, t.StartTime, t.EndTime,
		removedActive, removedIdle, added))
	if err != nil {
		return sess, nil, err
	}
	// The days whose summaries change lie between the earlier start and
	// the later end of the session before and after.
	ev, err := events.New(now, source, events.TypeActivityCorrected, sess.OrganizationID, t.UserID, events.ActivityCorrected{
		Session: sess.Event(), DecisionID: t.ID, Decision: events.CorrectionSessionEdit, ProjectID: t.ProjectID,
		FirstAt: earliest(before.StartTime, t.StartTime), LastAt: latest(*before.EndTime, t.EndTime)})
	if err != nil {
		return sess, nil, err
	}
	change := map[string]any{"session": totalsOf(sess), "session_before": before.SessionState, "session_after": sess.SessionState,
		"removed":              map[string]int64{"activities": removed, "active_seconds": removedActive, "idle_seconds": removedIdle},
		"added_active_seconds": added}
	return sess, change, outbox.Enqueue(ctx, tx, tracking.OutboxTable, ev)
}

// gainedPieces are the activity pieces (manualPieces) of the part of the
// new bounds [ns, ne) outside the old ones [os, oe).
func gainedPieces(os, oe, ns, ne time.Time) (tss []time.Time, durs []int32) {
	if ns.Before(os) {
		tss, durs = manualPieces(ns, earliest(os, ne))
	}
	if ne.After(oe) {
		t, d := manualPieces(latest(oe, ns), ne)
		tss, durs = append(tss, t...), append(durs, d...)
	}
	return tss, durs
}

func earliest(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// equalIDs reports whether two optional ids are the same.
func equalIDs(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// --- Timesheet locks

// TimesheetLock reads the caller's organization's lock.
func (s *Store) TimesheetLock(ctx context.Context, p authn.Principal) (tracking.TimesheetLock, error) {
	var l tracking.TimesheetLock
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		l, err = tracking.ReadLock(ctx, tx)
		return err
	})
	return l, err
}

// lockZoneSQL is, in the organization's zone ($2 the clock's now), the
// first instant after the local day $1 and today's date.
const lockZoneSQL = `SELECT z.tz, ($1::date + 1)::timestamp AT TIME ZONE z.tz, ($2::timestamptz AT TIME ZONE z.tz)::date
  FROM (SELECT tracking.known_zone(coalesce((SELECT time_zone FROM tracking.tenants WHERE organization_id = public.current_org()), 'UTC')) AS tz) z`

// SetTimesheetLock locks the caller's organization's days up to and
// including through, in its zone, or unlocks every day (through nil), and
// audits the change with the lock before and after. It holds the lock key
// exclusively, so it waits for the changes of time in flight and the
// later ones see the new lock. A day not yet over cannot be locked: its
// time is still being tracked.
func (s *Store) SetTimesheetLock(ctx context.Context, p authn.Principal, through *time.Time) (tracking.TimesheetLock, error) {
	now := s.clock.Now().UTC().Truncate(time.Microsecond)
	var after tracking.TimesheetLock
	err := pg.InOrg(ctx, s.db, p.OrganizationID, func(tx pgx.Tx) error {
		if err := tracking.HoldLockKey(ctx, tx); err != nil {
			return err
		}
		before, err := tracking.ReadLock(ctx, tx)
		if err != nil {
			return err
		}
		action := auditTimesheetUnlocked
		if through == nil {
			if before.LockedThrough == nil {
				return nil
			}
			if _, err := tx.Exec(ctx, "DELETE FROM tracking.timesheet_locks WHERE organization_id = public.current_org()"); err != nil {
				return err
			}
		} else {
			var zone string
			var until, today time.Time
			if err := tx.QueryRow(ctx, lockZoneSQL, *through, now).Scan(&zone, &until, &today); err != nil {
				return err
			}
			if !through.Before(today) {
				return apierr.InvalidField("locked_through", "must be a day before today ("+today.Format(time.DateOnly)+" in "+zone+
					"): a day is locked once it is over", through.Format(time.DateOnly))
			}
			day, until := through.Format(time.DateOnly), until.UTC()
			after = tracking.TimesheetLock{LockedThrough: &day, LockedUntil: &until, TimeZone: &zone, LockedBy: &p.UserID, LockedAt: &now}
			if _, err := tx.Exec(ctx, `INSERT INTO tracking.timesheet_locks (organization_id, locked_through, locked_until, time_zone, locked_by, locked_at)
				VALUES (public.current_org(), $1, $2, $3, $4, $5) ON CONFLICT (organization_id) DO UPDATE SET locked_through = EXCLUDED.locked_through,
				locked_until = EXCLUDED.locked_until, time_zone = EXCLUDED.time_zone, locked_by = EXCLUDED.locked_by, locked_at = EXCLUDED.locked_at`,
				*through, until, zone, p.UserID, now); err != nil {
				return err
			}
			if before.LockedUntil == nil || !until.Before(*before.LockedUntil) {
				action = auditTimesheetLocked
			}
		}
		return recordAudit(ctx, tx, now, p.UserID, action, nil, map[string]any{"before": before, "after": after})
	})
	return after, err
}

// --- Export

// exportSections are the tracking part of a member's export: their work
// sessions, activity (URLs as stored, after redaction), idle decisions
// and time requests.
var exportSections = []export.Section{
	{Name: "work_sessions", Query: `SELECT row_to_json(t) FROM (
		SELECT ws.id, ws.project_id, p.name AS project_name, ws.start_time, ws.end_time, ws.status, ws.total_active_seconds,
		       ws.total_idle_seconds, ws.last_activity_at, ws.created_at, ws.updated_at
		FROM tracking.work_sessions ws LEFT JOIN tracking.projects p ON p.id = ws.project_id WHERE ws.user_id = $1) t
		ORDER BY t.start_time, t.id`},
	{Name: "activity", Query: `SELECT row_to_json(t) FROM (
		SELECT id, session_id, client_activity_id, occurred_at, activity_type, duration_seconds, url, created_at
		FROM tracking.activity_logs WHERE user_id = $1) t
		ORDER BY t.occurred_at, t.id`},
	{Name: "idle_decisions", Query: `SELECT row_to_json(t) FROM (
		SELECT id, session_id, start_time, end_time, decision, project_id, activities, idle_seconds, decided_by, decided_at
		FROM tracking.idle_decisions WHERE user_id = $1) t
		ORDER BY t.start_time, t.id`},
	{Name: "time_requests", Query: `SELECT row_to_json(t) FROM (
		SELECT id, project_id, start_time, end_time, note, status, requested_at, reviewed_by, reviewed_at, review_note, session_id
		FROM tracking.time_requests WHERE user_id = $1) t
		ORDER BY t.requested_at, t.id`},
}
