package kafkax_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/kafka-go"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/test/testkit"
)

// testOrg is the organization of the produced events.
var testOrg = uuid.NewString()

func produce(t *testing.T, w *kafka.Writer, n int) {
	t.Helper()
	msgs := make([]kafka.Message, 0, n)
	for i := 0; i < n; i++ {
		e, err := events.New(clock.Real.Now(), "test", events.TypeActivityRecorded, testOrg, "", events.ActivityRecorded{Stored: i})
		if err != nil {
			t.Fatal(err)
		}
		e.Key = e.ID // spread over every partition
		raw, _ := json.Marshal(e)
		msgs = append(msgs, kafka.Message{Topic: events.TopicActivity, Key: []byte(e.Key), Value: raw})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
}

func TestConsumerCatchesUpAndCommitsAfterABrokerOutageAndFailingHandler(t *testing.T) {
	k := testkit.StartGatedKafka(t, "127.0.0.1:0")
	w := kafkax.NewWriter([]string{k.Addr})
	defer w.Close()

	var mu sync.Mutex
	seen := map[string]int{}
	// The handler's database is down for failFor after down started: its
	// connections are refused, which is retried however long it lasts.
	var down clock.Stopwatch
	var failFor time.Duration
	handler := func(_ context.Context, e events.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		if down.Elapsed() < failFor {
			return fmt.Errorf("begin: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED})
		}
		seen[e.ID]++
		return nil
	}
	distinct := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
	c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: []string{k.Addr}, GroupID: "catch-up", Topics: []string{events.TopicActivity}},
		handler, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { stop(); <-done }()

	produce(t, w, 200)
	if !eventually(30*time.Second, func() bool { return distinct() == 200 }) {
		t.Fatalf("consumed %d of the first 200 events", distinct())
	}
	k.Down()
	time.Sleep(3 * time.Second)
	k.Up()
	mu.Lock()
	down, failFor = clock.Start(), 4*time.Second
	mu.Unlock()
	began := clock.Start()
	produce(t, w, 200)
	// Within a few seconds, not after a full session timeout.
	if !eventually(20*time.Second, func() bool { return distinct() == 400 }) {
		t.Fatalf("after the outage, consumed %d of 400 events", distinct())
	}
	t.Logf("consumption resumed and caught up %s after the broker came back", began.Elapsed().Round(time.Millisecond))
	if !eventually(30*time.Second, func() bool { return groupLag(t, k.Addr) == 0 }) {
		t.Fatalf("committed offsets stay %d behind after catching up", groupLag(t, k.Addr))
	}
}

func eventually(d time.Duration, cond func() bool) bool {
	for watch := clock.Start(); watch.Elapsed() < d; {
		if cond() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return cond()
}

func groupLag(t *testing.T, addr string, group ...string) int64 {
	t.Helper()
	g := "catch-up"
	if len(group) > 0 {
		g = group[0]
	}
	lag, err := kafkax.GroupLag(context.Background(), []string{addr}, kafkax.Security{}, g, []string{events.TopicActivity}, false)
	if err != nil {
		t.Fatal(err)
	}
	return lag
}

func TestAPrefilterSparesTheHandlerWhatNeedsNothingAndEverythingIsCommitted(t *testing.T) {
	k := testkit.StartGatedKafka(t, "127.0.0.1:0")
	w := kafkax.NewWriter([]string{k.Addr})
	defer w.Close()
	// A backlog, so that events arrive together.
	produce(t, w, 300)
	if err := w.WriteMessages(context.Background(), kafka.Message{Topic: events.TopicActivity, Value: []byte("not an event")}); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	handled, filtered := map[int]int{}, 0
	largest, calls := 0, 0
	stored := func(e events.Envelope) int {
		var a events.ActivityRecorded
		if err := e.Payload(&a); err != nil {
			t.Error(err)
		}
		return a.Stored
	}
	prefilter := func(_ context.Context, es []events.Envelope) ([]bool, error) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		largest = max(largest, len(es))
		if calls == 1 {
			// A slow first query that fails: its events all go to the
			// handler, and the backlog piles up behind it.
			mu.Unlock()
			time.Sleep(300 * time.Millisecond)
			mu.Lock()
			return nil, errors.New("database unavailable")
		}
		need := make([]bool, len(es))
		for i, e := range es {
			need[i] = stored(e)%3 == 0
			if !need[i] {
				filtered++
			}
		}
		return need, nil
	}
	handler := func(_ context.Context, e events.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		handled[stored(e)]++
		return nil
	}
	c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: []string{k.Addr}, GroupID: "prefiltered", Topics: []string{events.TopicActivity},
		Prefilter: prefilter}, handler, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { stop(); <-done }()

	if !eventually(30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(handled)+filtered == 300 }) {
		t.Fatalf("handled %d and filtered %d of 300 events", len(handled), filtered)
	}
	mu.Lock()
	for i, n := range handled {
		if n != 1 {
			t.Errorf("event %d handled %d times", i, n)
		}
	}
	for i := 0; i < 300; i += 3 {
		if handled[i] != 1 {
			t.Errorf("event %d, which needs the handler, was not handled", i)
		}
	}
	if largest < 2 {
		t.Errorf("the backlog was applied one event at a time")
	}
	t.Logf("%d prefilter calls, the largest over %d events; %d handled, %d spared", calls, largest, len(handled), filtered)
	mu.Unlock()
	if !eventually(30*time.Second, func() bool { return groupLag(t, k.Addr, "prefiltered") == 0 }) {
		t.Fatalf("committed offsets stay %d behind", groupLag(t, k.Addr, "prefiltered"))
	}
}

func TestPoisonEventsGoToTheDeadLetterTopicAndThePartitionMovesOn(t *testing.T) {
	k := testkit.StartGatedKafka(t, "127.0.0.1:0")
	w := kafkax.NewWriter([]string{k.Addr})
	defer w.Close()

	// One key: every message lands on one partition, in this order, so the
	// good events wait behind the poison ones.
	key := []byte(uuid.NewString())
	event := func(stored int, org string) []byte {
		e, err := events.New(clock.Real.Now(), "test", events.TypeActivityRecorded, org, "", events.ActivityRecorded{Stored: stored})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(e)
		return raw
	}
	const poison = -1
	values := [][]byte{
		event(0, testOrg),
		event(poison, testOrg),              // the handler fails on it every time
		[]byte("not an event"),              // cannot be decoded
		event(1, "'; DROP TABLE users; --"), // an organization id that is not a UUID
		[]byte(`{"id":"1","type":"activity.recorded","organization_id":"` + testOrg + `","data":{}}`), // an id that is not one
	}
	for i := 2; i <= 10; i++ {
		values = append(values, event(i, testOrg))
	}
	msgs := make([]kafka.Message, 0, len(values))
	for _, v := range values {
		msgs = append(msgs, kafka.Message{Topic: events.TopicActivity, Key: key, Value: v})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	applied, poisonAttempts := map[int]int{}, 0
	handler := func(_ context.Context, e events.Envelope) error {
		var a events.ActivityRecorded
		if err := e.Payload(&a); err != nil {
			return err
		}
		mu.Lock()
		defer mu.Unlock()
		if a.Stored == poison {
			poisonAttempts++
			return errors.New("check constraint violated")
		}
		applied[a.Stored]++
		return nil
	}
	reg := prometheus.NewRegistry()
	m := kafkax.NewConsumerMetrics(reg, "test", clock.Real)
	c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: []string{k.Addr}, GroupID: "poisoned", Topics: []string{events.TopicActivity},
		MaxAttempts: 3}, handler, m, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { stop(); <-done }()

	if !eventually(30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(applied) == 10 }) {
		mu.Lock()
		t.Fatalf("applied %v of the 10 good events; the partition stalled behind the poison", applied)
	}
	mu.Lock()
	if poisonAttempts != 3 {
		t.Errorf("the poison event was attempted %d times; want MaxAttempts, 3", poisonAttempts)
	}
	mu.Unlock()
	if !eventually(30*time.Second, func() bool { return groupLag(t, k.Addr, "poisoned") == 0 }) {
		t.Fatalf("committed offsets stay %d behind", groupLag(t, k.Addr, "poisoned"))
	}

	// The dead-letter topic holds the four, unchanged, with where they came from and why.
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: []string{k.Addr}, GroupID: "dlq-reader", Topic: events.DeadLetterTopic(events.TopicActivity),
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	rctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	reasons := map[string]string{}
	for i := 0; i < 4; i++ {
		dl, err := r.ReadMessage(rctx)
		if err != nil {
			t.Fatalf("dead letter %d: %v", i+1, err)
		}
		h := map[string]string{}
		for _, x := range dl.Headers {
			h[x.Key] = string(x.Value)
		}
		if h["workpulse-dlq-topic"] != events.TopicActivity || h["workpulse-dlq-group"] != "poisoned" || h["workpulse-dlq-error"] == "" {
			t.Errorf("dead letter headers %v", h)
		}
		reasons[string(dl.Value)] = h["workpulse-dlq-reason"]
	}
	want := map[string]string{string(values[1]): "failed", string(values[2]): "malformed", string(values[3]): "malformed", string(values[4]): "malformed"}
	if fmt.Sprint(reasons) != fmt.Sprint(want) {
		t.Errorf("dead letters %v; want %v", reasons, want)
	}
	for reason, want := range map[string]float64{"malformed": 3, "failed": 1} {
		if got := counted(t, reg, "workpulse_kafka_dead_lettered_total", "reason", reason); got != want {
			t.Errorf("workpulse_kafka_dead_lettered_total{reason=%q} = %v; want %v", reason, got, want)
		}
	}
}

// counted reads the counter family of reg whose label is value (the
// sum over its other labels).
func counted(t *testing.T, reg *prometheus.Registry, family, label, value string) float64 {
	t.Helper()
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != family {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					sum += m.GetCounter().GetValue()
				}
			}
		}
	}
	return sum
}

func TestEventsSkipPassesOverAreCommittedWithoutBeingDecodedOrHandled(t *testing.T) {
	k := testkit.StartGatedKafka(t, "127.0.0.1:0")
	w := kafkax.NewWriter([]string{k.Addr})
	defer w.Close()
	unwatched := uuid.NewString()
	key := []byte(uuid.NewString())
	var msgs []kafka.Message
	for i := 0; i < 20; i++ {
		org := testOrg
		if i%2 == 1 {
			org = unwatched
		}
		e, err := events.New(clock.Real.Now(), "test", events.TypeActivityRecorded, org, "", events.ActivityRecorded{Stored: i})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(e)
		msgs = append(msgs, kafka.Message{Topic: events.TopicActivity, Key: key, Value: raw})
	}
	msgs = append(msgs,
		// Malformed (no id), but of the skipped organization: passed over
		// like the others, not dead-lettered.
		kafka.Message{Topic: events.TopicActivity, Key: key, Value: []byte(`{"type":"activity.recorded","organization_id":"` + unwatched + `","data":{}}`)},
		// Unreadable at a glance: decoded, and dead-lettered.
		kafka.Message{Topic: events.TopicActivity, Key: key, Value: []byte("not an event")})
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}

	var mu sync.Mutex
	handled := map[string]int{}
	handler := func(_ context.Context, e events.Envelope) error {
		mu.Lock()
		defer mu.Unlock()
		handled[e.OrganizationID]++
		return nil
	}
	skip := func(eventType, org string) bool { return eventType == events.TypeActivityRecorded && org == unwatched }
	reg := prometheus.NewRegistry()
	c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: []string{k.Addr}, GroupID: "skipping", Topics: []string{events.TopicActivity},
		StartOffset: kafka.FirstOffset, Skip: skip}, handler, kafkax.NewConsumerMetrics(reg, "test", clock.Real), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { stop(); <-done }()

	if !eventually(30*time.Second, func() bool { return groupLag(t, k.Addr, "skipping") == 0 && handledOf(&mu, handled, testOrg) == 10 }) {
		t.Fatalf("handled %v; the group is %d behind", handled, groupLag(t, k.Addr, "skipping"))
	}
	mu.Lock()
	if handled[unwatched] != 0 {
		t.Errorf("%d skipped events reached the handler", handled[unwatched])
	}
	mu.Unlock()
	for outcome, want := range map[string]float64{"skipped": 11, "applied": 10} {
		if got := counted(t, reg, "workpulse_kafka_events_processed_total", "outcome", outcome); got != want {
			t.Errorf("workpulse_kafka_events_processed_total{outcome=%q} = %v; want %v", outcome, got, want)
		}
	}
	if got := counted(t, reg, "workpulse_kafka_dead_lettered_total", "reason", "malformed"); got != 1 {
		t.Errorf("%v events dead-lettered as malformed; want the one that cannot be read at a glance", got)
	}
}

func handledOf(mu *sync.Mutex, handled map[string]int, org string) int {
	mu.Lock()
	defer mu.Unlock()
	return handled[org]
}

func TestUnavailableTellsAnOutageFromAnEventThatCannotBeApplied(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"A refused connection is an outage.", fmt.Errorf("begin: %w", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}), true},
		{"A timeout is an outage.", fmt.Errorf("query: %w", context.DeadlineExceeded), true},
		{"PostgreSQL shutting down is an outage.", &pgconn.PgError{Code: "57P01"}, true},
		{"Too many connections is an outage.", &pgconn.PgError{Code: "53300"}, true},
		{"A serialization failure is retried.", &pgconn.PgError{Code: "40001"}, true},
		{"A check constraint violation is the event's.", &pgconn.PgError{Code: "23514"}, false},
		{"Invalid input is the event's.", &pgconn.PgError{Code: "22P02"}, false},
		{"A plain error is the event's.", errors.New("no such session"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := kafkax.Unavailable(tt.err); got != tt.want {
				t.Errorf("Unavailable(%v) = %v; want %v", tt.err, got, tt.want)
			}
		})
	}
}

// TestWithABatchWaitATrickleOfEventsIsAppliedInBatches produces one event
// every few milliseconds, as a steady load of heartbeats would: with a
// BatchWait the broker holds each fetch until the wait passes, so the
// consumer applies them in about one batch per wait instead of one batch
// per event.
func TestWithABatchWaitATrickleOfEventsIsAppliedInBatches(t *testing.T) {
	k := testkit.StartGatedKafka(t, "127.0.0.1:0")
	w := kafkax.NewWriter([]string{k.Addr})
	defer w.Close()
	const n, wait = 200, 100 * time.Millisecond
	var mu sync.Mutex
	seen, batches := 0, 0
	prefilter := func(_ context.Context, es []events.Envelope) ([]bool, error) {
		mu.Lock()
		defer mu.Unlock()
		batches++
		seen += len(es)
		return make([]bool, len(es)), nil
	}
	c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: []string{k.Addr}, GroupID: "trickle", Topics: []string{events.TopicActivity},
		Prefilter: prefilter, BatchWait: wait}, func(context.Context, events.Envelope) error { return nil }, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	defer func() { stop(); <-done }()

	// The first event tells that the consumer has joined its group.
	produceOn(t, w, "one-agent", 1)
	if !eventually(30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return seen == 1 }) {
		t.Fatal("the first event never arrived")
	}
	mu.Lock()
	batches, seen = 0, 0
	mu.Unlock()
	trickle := clock.Start()
	for i := 0; i < n; i++ {
		produceOn(t, w, "one-agent", 1)
		time.Sleep(5 * time.Millisecond)
	}
	took := trickle.Elapsed()
	if !eventually(30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return seen == n }) {
		t.Fatalf("%d of %d events arrived", seen, n)
	}
	mu.Lock()
	defer mu.Unlock()
	// A fetch's events reach the consumer one at a time, and it may start
	// applying before the last of them is in: allow each wait two batches.
	if most := 2*int(took/wait) + 3; batches > most {
		t.Errorf("%d events over %s came in %d batches, want at most %d (two per %s)", n, took, batches, most, wait)
	}
	t.Logf("%d events over %s in %d batches", n, took, batches)
}

// produceOn produces n events under one key, so that they share a partition.
func produceOn(t *testing.T, w *kafka.Writer, key string, n int) {
	t.Helper()
	msgs := make([]kafka.Message, 0, n)
	for i := 0; i < n; i++ {
		e, err := events.New(clock.Real.Now(), "test", events.TypeActivityRecorded, testOrg, key, events.ActivityRecorded{Stored: i})
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(e)
		msgs = append(msgs, kafka.Message{Topic: events.TopicActivity, Key: []byte(key), Value: raw})
	}
	if err := w.WriteMessages(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
}

func TestAnEphemeralGroupIsReadyOnlyOnceEveryLaterEventReachesItAndIsDeletedWhenItEnds(t *testing.T) {
	tests := []struct {
		name string
		// slow holds the broker's answers where a real one can be slow.
		slow func(*kfake.Cluster)
		// within bounds the delivery of the event published once Ready.
		within time.Duration
	}{
		{"A broker holding the group's first join 3 s (Kafka's default) delays Ready, not the event: it arrives within 2 s.",
			func(c *kfake.Cluster) { testkit.DelayFirstJoins(c, 3*time.Second) }, 2 * time.Second},
		{"A coordinator answering the group's committed offsets 2 s late loses no event: the reader starts where Run committed before the join.",
			func(c *kfake.Cluster) { delay(c, kmsg.OffsetFetch, 2*time.Second) }, 10 * time.Second},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cluster := testkit.KafkaCluster(t)
			tt.slow(cluster)
			brokers := cluster.ListenAddrs()
			w := kafkax.NewWriter(brokers)
			defer w.Close()
			produce(t, w, 5) // before the consumer: never delivered

			var mu sync.Mutex
			seen := 0
			handler := func(context.Context, events.Envelope) error { mu.Lock(); defer mu.Unlock(); seen++; return nil }
			count := func() int { mu.Lock(); defer mu.Unlock(); return seen }
			group := fmt.Sprintf("live-%d", i)
			c := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: brokers, GroupID: group, Topics: []string{events.TopicActivity},
				Ephemeral: true, CommitInterval: time.Second}, handler, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
			if err := c.Ready(t.Context()); err == nil {
				t.Fatal("ready before it ran")
			}
			ctx, stop := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- c.Run(ctx) }()
			end := sync.OnceFunc(func() { stop(); <-done })
			defer end()

			if !eventually(30*time.Second, func() bool { return c.Ready(t.Context()) == nil }) {
				t.Fatalf("never ready: %v", c.Ready(t.Context()))
			}
			produce(t, w, 1)
			if !eventually(tt.within, func() bool { return count() >= 1 }) {
				t.Fatalf("the event published once Ready was not consumed within %s", tt.within)
			}
			time.Sleep(500 * time.Millisecond)
			if got := count(); got != 1 {
				t.Fatalf("consumed %d events, want only the 1 published once Ready", got)
			}

			end()
			cl := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second}
			resp, err := cl.ListGroups(t.Context(), &kafka.ListGroupsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range resp.Groups {
				if g.GroupID == group {
					t.Fatalf("group %s is still on the broker once Run ended", group)
				}
			}
		})
	}
}

// delay makes c answer every request of key only after d, serving the
// others meanwhile.
func delay(c *kfake.Cluster, key kmsg.Key, d time.Duration) {
	c.ControlKey(int16(key), func(kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		c.SleepControl(func() { <-time.After(d) })
		return nil, nil, false
	})
}

func TestMeasuringTheLagLeavesNoConnectionOrGoroutineBehind(t *testing.T) {
	brokers := testkit.Kafka(t)
	lag := func() {
		if _, err := kafkax.GroupLag(t.Context(), brokers, kafkax.Security{}, "lagging", []string{events.TopicActivity}, false); err != nil {
			t.Fatal(err)
		}
	}
	lag() // the broker's own goroutines for a first client
	before := runtime.NumGoroutine()
	// A consumer measures its lag every 10 s for as long as it runs.
	for range 20 {
		lag()
	}
	if !eventually(5*time.Second, func() bool { return runtime.NumGoroutine() <= before+2 }) {
		t.Fatalf("%d goroutines after 20 measurements, %d before", runtime.NumGoroutine(), before)
	}
}
