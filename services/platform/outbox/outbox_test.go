package outbox_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

const table = "auth.outbox"

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func enqueue(t *testing.T, db pg.Beginner, n int) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	org := "6f1f6c1e-1d8c-4d0e-9a52-000000000001"
	err := pg.InTx(context.Background(), db, func(tx pgx.Tx) error {
		var envs []events.Envelope
		for i := 0; i < n; i++ {
			e, err := events.New(clock.Real.Now(), "test", events.TypeUserCreated, org, "", events.UserCreated{OrganizationID: org, Name: "n"})
			if err != nil {
				return err
			}
			ids[e.ID] = true
			envs = append(envs, e)
		}
		return outbox.Enqueue(context.Background(), tx, table, envs...)
	})
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

// consume reads every message of the topic until want have arrived and
// the topic stays quiet, returning how often each event id was seen.
func consume(t *testing.T, brokers []string, topic string, want int) map[string]int {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "outbox-test", GroupTopics: []string{topic},
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	seen := map[string]int{}
	total := 0
	for watch := clock.Start(); watch.Elapsed() < 30*time.Second; {
		wait := 5 * time.Second
		if total >= want {
			wait = 1500 * time.Millisecond // linger: a duplicate would arrive now
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		m, err := r.ReadMessage(ctx)
		cancel()
		if err != nil {
			if total >= want {
				return seen
			}
			continue
		}
		env, err := events.Decode(m.Value)
		if err != nil {
			t.Fatalf("undecodable message: %v", err)
		}
		seen[env.ID]++
		total++
	}
	t.Fatalf("read %d of %d events before the deadline", total, want)
	return nil
}

// gatedPublisher blocks its third batch until released, so a test can stop
// a relay while a batch is in flight.
type gatedPublisher struct {
	w        *kafka.Writer
	calls    atomic.Int32
	inFlight chan struct{}
	release  chan struct{}
}

func (g *gatedPublisher) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if g.calls.Add(1) == 3 {
		close(g.inFlight)
		<-g.release
	}
	return g.w.WriteMessages(ctx, msgs...)
}

func TestRelayDeliversEachEventExactlyOnceAcrossAStopMidBatch(t *testing.T) {
	db := testkit.NewDB(t)
	brokers := testkit.Kafka(t)
	pool := db.Pool(t, "workpulse_auth")
	ids := enqueue(t, pool, 1000)

	w := kafkax.NewWriter(brokers)
	defer w.Close()
	gate := &gatedPublisher{w: w, inFlight: make(chan struct{}), release: make(chan struct{})}
	first := outbox.NewRelay(pool, table, gate, nil, quiet)
	first.BatchSize = 100
	first.FlushTimeout = time.Nanosecond // no final flush: the restart must pick up the rest
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- first.Run(ctx) }()
	<-gate.inFlight
	stop() // the stop arrives while the third batch is being published
	close(gate.release)
	<-done

	var left int
	if err := db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&left); err != nil {
		t.Fatal(err)
	}
	if left != 700 {
		t.Fatalf("after stopping during batch 3, %d events are queued; want 700 (batches finish, none is split)", left)
	}

	second := outbox.NewRelay(pool, table, w, nil, quiet)
	if _, err := second.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	seen := consume(t, brokers, events.TopicOrganizations, len(ids))
	if len(seen) != len(ids) {
		t.Fatalf("Kafka holds %d distinct events; want %d", len(seen), len(ids))
	}
	for id, n := range seen {
		if !ids[id] || n != 1 {
			t.Fatalf("event %s arrived %d times (enqueued: %v); want exactly once", id, n, ids[id])
		}
	}
}

type failingPublisher struct{}

func (f *failingPublisher) WriteMessages(context.Context, ...kafka.Message) error {
	return errors.New("broker unreachable")
}

func TestRelayKeepsEventsQueuedWhileKafkaIsDownAndDeliversThemAfterwards(t *testing.T) {
	db := testkit.NewDB(t)
	brokers := testkit.Kafka(t)
	pool := db.Pool(t, "workpulse_auth")
	ids := enqueue(t, pool, 10)

	down := outbox.NewRelay(pool, table, &failingPublisher{}, nil, quiet)
	if _, err := down.PublishBatch(context.Background()); err == nil {
		t.Fatal("publishing to an unreachable broker succeeded")
	}
	var queued, attempts int
	if err := db.Owner.QueryRow(context.Background(), "SELECT count(*), min(attempts) FROM "+table).Scan(&queued, &attempts); err != nil {
		t.Fatal(err)
	}
	if queued != 10 || attempts != 1 {
		t.Fatalf("after a failed publish: %d queued with %d attempts; want 10 queued, 1 attempt each", queued, attempts)
	}
	// The failed batch backs off; make it due again instead of waiting.
	if _, err := db.Owner.Exec(context.Background(), "UPDATE "+table+" SET next_attempt_at = now()"); err != nil {
		t.Fatal(err)
	}
	w := kafkax.NewWriter(brokers)
	defer w.Close()
	if n, err := outbox.NewRelay(pool, table, w, nil, quiet).Flush(context.Background()); err != nil || n != 10 {
		t.Fatalf("flush after recovery published %d (err %v); want 10", n, err)
	}
	if seen := consume(t, brokers, events.TopicOrganizations, len(ids)); len(seen) != 10 {
		t.Fatalf("Kafka holds %d events; want 10", len(seen))
	}
}

func TestTheBacklogMetricsTellWhatWaitsAndForHowLong(t *testing.T) {
	db := testkit.NewDB(t)
	pool := db.Pool(t, "workpulse_auth")
	enqueue(t, pool, 7)
	if _, err := db.Owner.Exec(context.Background(), "UPDATE "+table+" SET created_at = now() - interval '90 seconds'"); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	relay := outbox.NewRelay(pool, table, &failingPublisher{}, outbox.NewMetrics(reg, "test"), quiet)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	relay.FlushTimeout = time.Millisecond
	_ = relay.Run(ctx)
	figures := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			figures[f.GetName()] = m.GetGauge().GetValue()
		}
	}
	if got := figures["workpulse_outbox_backlog"]; got != 7 {
		t.Errorf("backlog %v, want 7", got)
	}
	if got := figures["workpulse_outbox_oldest_age_seconds"]; got < 90 || got > 120 {
		t.Errorf("oldest age %vs, want about 90s", got)
	}
}

// countingPublisher counts the batches it was given.
type countingPublisher struct {
	mu      sync.Mutex
	batches int
}

func (c *countingPublisher) WriteMessages(context.Context, ...kafka.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batches++
	return nil
}

func (c *countingPublisher) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches
}

// TestAfterAQuietSpellAnEventWaitsAtMostMaxIdle lets a relay find its
// outbox empty for a second, long enough for its waits to grow to
// MaxIdle, then writes an event: it goes out within MaxIdle (and the
// time a look takes), not after an ever longer wait.
func TestAfterAQuietSpellAnEventWaitsAtMostMaxIdle(t *testing.T) {
	db := testkit.NewDB(t)
	pool := db.Pool(t, "workpulse_auth")
	pub := &countingPublisher{}
	relay := outbox.NewRelay(pool, table, pub, nil, quiet)
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- relay.Run(ctx) }()
	defer func() { stop(); <-done }()
	time.Sleep(time.Second)
	written := clock.Start()
	enqueue(t, pool, 1)
	for watch := clock.Start(); pub.count() == 0 && watch.Elapsed() < 10*time.Second; {
		time.Sleep(5 * time.Millisecond)
	}
	took := written.Elapsed()
	if n := pub.count(); n != 1 {
		t.Fatalf("%d batches published, want 1", n)
	}
	if most := relay.MaxIdle + 300*time.Millisecond; took > most {
		t.Errorf("the event went out %s after it was written, want at most %s", took, most)
	}
	t.Logf("published %s after it was written (MaxIdle %s)", took, relay.MaxIdle)
}

// messageCounter publishes through w and counts the messages it was given.
type messageCounter struct {
	w *kafka.Writer
	n atomic.Int64
}

func (m *messageCounter) WriteMessages(ctx context.Context, msgs ...kafka.Message) error {
	if err := m.w.WriteMessages(ctx, msgs...); err != nil {
		return err
	}
	m.n.Add(int64(len(msgs)))
	return nil
}

// TestOfTwoRelaysOfATableOnePublishesAndTheOtherTakesOverWhenItStops runs
// two relays of one table (as ingest and session relay tracking.outbox)
// while events are written in small transactions: the first publishes
// them all, the second none; once the first stops, the second publishes
// what follows within its Standby. Every event reaches Kafka once.
func TestOfTwoRelaysOfATableOnePublishesAndTheOtherTakesOverWhenItStops(t *testing.T) {
	db := testkit.NewDB(t)
	brokers := testkit.Kafka(t)
	pool := db.Pool(t, "workpulse_auth")
	w := kafkax.NewWriter(brokers)
	defer w.Close()
	first, second := &messageCounter{w: w}, &messageCounter{w: w}
	run := func(pub *messageCounter) (stop func()) {
		r := outbox.NewRelay(pool, table, pub, nil, quiet)
		r.Standby = 200 * time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- r.Run(ctx) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("relay: %v", err)
			}
		}
	}
	drained := func(what string) {
		t.Helper()
		var left int
		for watch := clock.Start(); watch.Elapsed() < 10*time.Second; time.Sleep(20 * time.Millisecond) {
			if err := db.Owner.QueryRow(context.Background(), "SELECT count(*) FROM "+table).Scan(&left); err != nil {
				t.Fatal(err)
			}
			if left == 0 {
				return
			}
		}
		t.Fatalf("%s: %d events still queued after 10 s", what, left)
	}
	ids := map[string]bool{}
	write := func(batches int) {
		for range batches {
			for id := range enqueue(t, pool, 5) {
				ids[id] = true
			}
			time.Sleep(30 * time.Millisecond)
		}
	}

	stopFirst := run(first)
	enqueue(t, pool, 1) // the first relay has its turn once this is out
	drained("before the second relay starts")
	stopSecond := run(second)
	defer stopSecond()
	write(40)
	drained("with both relays running")
	if got := second.n.Load(); got != 0 {
		t.Errorf("the second relay published %d of %d events while the first ran; want none", got, first.n.Load())
	}
	stopFirst()
	before, secondBefore := first.n.Load(), second.n.Load()
	taken := clock.Start()
	write(10)
	drained("after the first relay stopped")
	if got := second.n.Load() - secondBefore; got != 50 {
		t.Errorf("after the first relay stopped the second published %d events, want the 50 written since", got)
	}
	if first.n.Load() != before {
		t.Errorf("the stopped relay published %d more", first.n.Load()-before)
	}
	t.Logf("the second relay took over and drained the outbox %s after the first stopped", taken.Elapsed().Round(time.Millisecond))
	seen := consume(t, brokers, events.TopicOrganizations, len(ids)+1)
	for id := range ids {
		if seen[id] != 1 {
			t.Errorf("event %s reached Kafka %d times, want once", id, seen[id])
		}
	}
}
