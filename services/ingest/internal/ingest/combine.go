package ingest

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/tracking"
)

// combiner writes the single-activity posts that arrive while earlier ones
// are being written as one transaction (group commit), whatever their
// tenants: an installation of many small organizations gets as much of it
// as one large organization, down to one statement for all of them
// (writeTx keeps row-level security to the batch's organizations and each
// post to its own).
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
	ev                  event    // its activity.recorded event's id and time

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
		var passed []*pendingOne
		if batch := c.take(p); batch != nil {
			c.posts.Observe(float64(len(batch)))
			passed = c.write(context.WithoutCancel(ctx), batch, skipBusySessions)
		}
		<-c.slots
		if len(passed) > 0 {
			// The posts whose sessions another transaction held (a bulk
			// upload, a stop, the other writer's batch), or that are not
			// the caller's: written together again, waiting for their
			// sessions without holding a writer slot, so that nobody
			// else waits with them. With several writers, posts to one
			// session keep their batches whole this way.
			c.write(context.WithoutCancel(ctx), passed, waitForSessions)
		}
		<-p.done
	}
}

// take removes p and the other queued posts, up to maxBatch and in
// arrival order, or returns nil if another writer took p already.
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
		case len(batch) < c.maxBatch-1 || found && len(batch) < c.maxBatch:
			batch = append(batch, q)
		default:
			rest = append(rest, q)
		}
	}
	clear(c.pending[len(rest):])
	c.pending = rest
	return batch
}

// write stores batch in one transaction, taking its sessions as lock says,
// and answers its posts but those whose sessions it passed over
// (skipBusySessions), which it returns. If the transaction fails for a
// reason other than an unreachable database, each post is written again
// on its own, waiting for its session, so that one post's error (a month
// without a partition, say) is its own and not its neighbours'.
func (c *combiner) write(ctx context.Context, batch []*pendingOne, lock sessionLock) (passed []*pendingOne) {
	ctx, cancel := context.WithTimeout(ctx, writeTimeout)
	defer cancel()
	written := false
	defer func() {
		// Even a panic in this writer's request must answer the posts it
		// took: their requests wait for nothing else.
		for _, p := range batch {
			switch {
			case !written:
				p.out = recordOutcome{err: errWriterFailed}
			case slices.Contains(passed, p):
				continue
			}
			close(p.done)
		}
	}()
	err := c.writeTx(ctx, batch, lock)
	switch {
	case err == nil && lock == skipBusySessions:
		for _, p := range batch {
			if !p.out.found {
				passed = append(passed, p)
			}
		}
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
	return passed
}

// errWriterFailed answers the posts of a write that panicked.
var errWriterFailed = errors.New("ingest: the combined write failed")
