package kafkax_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

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
