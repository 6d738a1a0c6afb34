// Package outbox makes events part of the database transaction that
// causes them: Enqueue writes the event in the caller's transaction, and a
// Relay publishes committed rows to Kafka, deleting them once the broker
// acknowledged them. Listeners therefore only ever see committed changes,
// and no committed change loses its event.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// Enqueue adds events to the outbox table within tx.
func Enqueue(ctx context.Context, tx pgx.Tx, table string, envs ...events.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(envs))
	for _, e := range envs {
		topic, err := events.TopicFor(e.Type)
		if err != nil {
			return err
		}
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("outbox: encode %s: %w", e.Type, err)
		}
		rows = append(rows, []any{e.ID, topic, e.Key, payload})
	}
	if len(rows) == 1 {
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" (event_id, topic, key, payload) VALUES ($1, $2, $3, $4)", rows[0]...)
		return err
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier(splitTable(table)), []string{"event_id", "topic", "key", "payload"}, pgx.CopyFromRows(rows))
	return err
}

func splitTable(table string) []string {
	for i := range table {
		if table[i] == '.' {
			return []string{table[:i], table[i+1:]}
		}
	}
	return []string{table}
}

// Publisher is the part of *kafka.Writer the relay needs.
type Publisher interface {
	WriteMessages(ctx context.Context, msgs ...kafka.Message) error
}

// Metrics of the relays of one service.
type Metrics struct {
	published *prometheus.CounterVec
	failures  *prometheus.CounterVec
	backlog   *prometheus.GaugeVec
	oldest    *prometheus.GaugeVec
}

// NewMetrics registers outbox metrics on reg.
func NewMetrics(reg prometheus.Registerer, service string) *Metrics {
	l := prometheus.Labels{"service": service}
	m := &Metrics{
		published: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "workpulse_outbox_published_total",
			Help: "Events published from the outbox to Kafka.", ConstLabels: l}, []string{"table"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "workpulse_outbox_publish_failures_total",
			Help: "Failed attempts to publish an outbox batch (retried with backoff).", ConstLabels: l}, []string{"table"}),
		backlog: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "workpulse_outbox_backlog",
			Help: "Events waiting in the outbox.", ConstLabels: l}, []string{"table"}),
		oldest: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "workpulse_outbox_oldest_age_seconds",
			Help: "Age of the oldest event waiting in the outbox.", ConstLabels: l}, []string{"table"}),
	}
	reg.MustRegister(m.published, m.failures, m.backlog, m.oldest)
	return m
}

// Relay publishes one outbox table.
type Relay struct {
	pool      *pgxpool.Pool
	table     string
	pub       Publisher
	metrics   *Metrics
	log       *slog.Logger
	BatchSize int
	// Idle is how long the relay waits after finding the outbox empty;
	// each further empty look doubles the wait, up to MaxIdle. A quiet
	// outbox (auth's, session's while only heartbeats flow) then costs a
	// few looks a second instead of fifty, each a transaction of its own,
	// and an event written after a quiet spell waits at most MaxIdle.
	// Idle also follows a batch that was not full: at 50 ms rather than 20
	// the batches under load are two and a half times as large, and each
	// batch's fixed costs (its transaction, a produce request a partition,
	// the consumers' fetch and commit that follow) are shared by as many
	// more events; an event waits at most 50 ms more in the outbox.
	Idle, MaxIdle time.Duration
	// FlushTimeout bounds the final flush at shutdown.
	FlushTimeout time.Duration
	// Standby is how often a relay that another one's turn keeps waiting
	// looks whether it may publish: how late the events are when the
	// publishing relay's process dies.
	Standby time.Duration
	// TopicPrefix comes before each row's topic when it is published
	// (KAFKA_TOPIC_PREFIX). Rows keep the name without it, so events
	// queued before the prefix changed go to the topics of the new one.
	TopicPrefix string
}

// NewRelay relays table through pub; metrics may be nil.
func NewRelay(pool *pgxpool.Pool, table string, pub Publisher, m *Metrics, log *slog.Logger) *Relay {
	return &Relay{pool: pool, table: table, pub: pub, metrics: m, log: log,
		BatchSize: 500, Idle: 50 * time.Millisecond, MaxIdle: 200 * time.Millisecond, FlushTimeout: 10 * time.Second,
		Standby: time.Second}
}

// Run publishes until ctx is done, then flushes what is left within
// FlushTimeout. A batch in progress always completes: stopping never
// splits a batch between "published" and "still queued".
//
// Of the relays of one table (a service's replicas, and ingest's and
// session's of tracking.outbox) one publishes at a time, the one holding
// the table's advisory lock on a connection of its own; the others look
// for the lock every Standby. Taking turns at every look instead split the
// events between them: twice the batches, each with its transaction, a
// produce request per partition and the consumers' fetches, for the same
// events. The lock is no guard of correctness (SKIP LOCKED is): a relay
// that lost its connection publishes until its next look at it.
func (r *Relay) Run(ctx context.Context) error {
	// Retry times stay the database's own (next_attempt_at against now()),
	// as rows get their first attempt time from the database's default:
	// they order delivery attempts and decide nothing by the date.
	var sinceStats clock.Stopwatch
	// conn is the relay's own connection, kept while it waits for its turn
	// too (a new one each look would cost the server a login every second).
	var conn *pgx.Conn
	leading := false
	defer func() {
		if conn != nil {
			_ = conn.Close(context.WithoutCancel(ctx))
		}
	}()
	backoff := r.Idle
	for first := true; ctx.Err() == nil; first = false {
		if first || sinceStats.Elapsed() >= 5*time.Second {
			r.observe(ctx)
			sinceStats = clock.Start()
			if leading && conn.Ping(ctx) != nil {
				_ = conn.Close(context.WithoutCancel(ctx))
				conn, leading = nil, false
			}
		}
		if !leading {
			if conn, leading = r.takeTurn(ctx, conn); !leading {
				sleep(ctx, r.Standby)
				continue
			}
		}
		n, err := r.PublishBatch(context.WithoutCancel(ctx))
		switch {
		case err != nil:
			r.log.Warn("outbox publish failed", "table", r.table, "err", err)
			backoff = min(max(backoff*2, 100*time.Millisecond), 5*time.Second)
		case n == r.BatchSize:
			continue
		case n > 0:
			backoff = r.Idle
		default:
			backoff = min(max(backoff*2, r.Idle), max(r.MaxIdle, r.Idle))
		}
		sleep(ctx, backoff)
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.FlushTimeout)
	defer cancel()
	_, err := r.Flush(fctx)
	return err
}

// relayLockClass is the first key of the relays' advisory locks (the
// second is the table's name hashed), apart from the single-key locks the
// migrations take.
const relayLockClass = 0x6f757462 // "outb"

// takeTurn tries the table's advisory lock on conn, connecting first when
// conn is nil; it returns the connection to keep (nil when the database is
// out of reach) and whether the lock is now held.
func (r *Relay) takeTurn(ctx context.Context, conn *pgx.Conn) (*pgx.Conn, bool) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if conn == nil {
		var err error
		if conn, err = pgx.ConnectConfig(cctx, r.pool.Config().ConnConfig.Copy()); err != nil {
			return nil, false
		}
	}
	var held bool
	if err := conn.QueryRow(cctx, "SELECT pg_try_advisory_lock($1, hashtext($2))", relayLockClass, r.table).Scan(&held); err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, false
	}
	return conn, held
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// Flush publishes until the outbox holds nothing that is due.
func (r *Relay) Flush(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := r.PublishBatch(ctx)
		total += n
		if err != nil || n == 0 {
			return total, err
		}
	}
}

// PublishBatch publishes up to BatchSize due events in id order and
// deletes them once Kafka acknowledged them. Rows are locked with SKIP
// LOCKED so that several relays (replicas) share the work. A crash after
// the acknowledgement and before the delete republishes the batch, which
// consumers absorb by event id: delivery is at least once, and exactly
// once in effect.
func (r *Relay) PublishBatch(ctx context.Context) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	rows, err := tx.Query(ctx, "SELECT id, topic, key, payload FROM "+r.table+
		" WHERE next_attempt_at <= now() ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED", r.BatchSize)
	if err != nil {
		return 0, err
	}
	var ids []int64
	var msgs []kafka.Message
	for rows.Next() {
		var id int64
		var m kafka.Message
		var key string
		if err := rows.Scan(&id, &m.Topic, &key, &m.Value); err != nil {
			rows.Close()
			return 0, err
		}
		m.Topic = r.TopicPrefix + m.Topic
		m.Key = []byte(key)
		ids = append(ids, id)
		msgs = append(msgs, m)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if len(msgs) == 0 {
		return 0, tx.Commit(ctx)
	}
	if perr := r.pub.WriteMessages(ctx, msgs...); perr != nil {
		if r.metrics != nil {
			r.metrics.failures.WithLabelValues(r.table).Inc()
		}
		_, err := tx.Exec(ctx, "UPDATE "+r.table+" SET attempts = attempts + 1, last_error = $2,"+
			" next_attempt_at = now() + make_interval(secs => least(power(2, attempts), 30)) WHERE id = ANY($1)", ids, perr.Error())
		if err == nil {
			err = tx.Commit(ctx)
		}
		if err != nil {
			return 0, fmt.Errorf("outbox: publish: %v; record failure: %w", perr, err)
		}
		return 0, fmt.Errorf("outbox: publish: %w", perr)
	}
	if _, err := tx.Exec(ctx, "DELETE FROM "+r.table+" WHERE id = ANY($1)", ids); err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	if r.metrics != nil {
		r.metrics.published.WithLabelValues(r.table).Add(float64(len(ids)))
	}
	return len(ids), nil
}

// backlogCountCap bounds the backlog the metric counts: past it, the
// backlog is reported as the cap (the age alert still tells how late).
const backlogCountCap = 1_000_000

func (r *Relay) observe(ctx context.Context) {
	if r.metrics == nil {
		return
	}
	var n int64
	var age float64
	qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// Counting the table would read every page it grew to until vacuum
	// reclaims them (a queue table bloats between vacuums); walking the id
	// index from the oldest row reads only what waits, up to a cap.
	err := r.pool.QueryRow(qctx, "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8"+
		" FROM (SELECT created_at FROM "+r.table+" ORDER BY id LIMIT $1) waiting", backlogCountCap).Scan(&n, &age)
	if err != nil {
		return
	}
	r.metrics.backlog.WithLabelValues(r.table).Set(float64(n))
	r.metrics.oldest.WithLabelValues(r.table).Set(age)
}
