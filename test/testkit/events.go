package testkit

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
)

// Publish writes envelopes to their topics, as a producing service would.
func Publish(t testing.TB, brokers []string, envs ...events.Envelope) {
	t.Helper()
	PublishPrefixed(t, brokers, "", envs...)
}

// PublishPrefixed is Publish for an installation whose topic names start
// with prefix (KAFKA_TOPIC_PREFIX).
func PublishPrefixed(t testing.TB, brokers []string, prefix string, envs ...events.Envelope) {
	t.Helper()
	msgs := make([]kafka.Message, 0, len(envs))
	for _, e := range envs {
		topic, err := events.TopicFor(e.Type)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, kafka.Message{Topic: prefix + topic, Key: []byte(e.Key), Value: raw})
	}
	w := kafkax.NewWriter(brokers)
	defer w.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := w.WriteMessages(ctx, msgs...); err != nil {
		t.Fatalf("testkit: publish: %v", err)
	}
}

// SuspendTenant publishes the tenant.updated event by which auth suspends
// org at the instant at, for tests of a service's tenant consumer, on the
// topics of the installation whose KAFKA_TOPIC_PREFIX is prefix.
func SuspendTenant(t testing.TB, brokers []string, prefix string, at time.Time, org string) {
	t.Helper()
	ev, err := events.New(at, "auth", events.TypeTenantUpdated, org, org,
		events.TenantUpdated{OrganizationID: org, TenantSettings: events.TenantSettings{Name: "T", PlanType: "pro", Suspended: true, Active: true, Generation: 1}})
	if err != nil {
		t.Fatal(err)
	}
	PublishPrefixed(t, brokers, prefix, ev)
}

// WaitEvent reads topic from the start until an event matches, failing
// the test after timeout.
func WaitEvent(t testing.TB, brokers []string, topic string, timeout time.Duration, match func(events.Envelope) bool) events.Envelope {
	t.Helper()
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "testkit-" + randomHex(6), GroupTopics: []string{topic},
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		m, err := r.ReadMessage(ctx)
		if err != nil {
			t.Fatalf("testkit: no matching event on %s within %s: %v", topic, timeout, err)
		}
		if e, err := events.Decode(m.Value); err == nil && match(e) {
			return e
		}
	}
}

// AllRecords reads every record of every topic of the broker at addr,
// from each partition's first offset to its last at the time of the call.
func AllRecords(t testing.TB, addr string) []kafka.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := kafka.DialContext(ctx, "tcp", addr)
	if err != nil {
		t.Fatalf("testkit: dial %s: %v", addr, err)
	}
	defer conn.Close()
	parts, err := conn.ReadPartitions()
	if err != nil {
		t.Fatalf("testkit: list partitions: %v", err)
	}
	var out []kafka.Message
	for _, p := range parts {
		out = append(out, partitionRecords(ctx, t, addr, p.Topic, p.ID)...)
	}
	return out
}

func partitionRecords(ctx context.Context, t testing.TB, addr, topic string, partition int) []kafka.Message {
	t.Helper()
	leader, err := kafka.DialLeader(ctx, "tcp", addr, topic, partition)
	if err != nil {
		t.Fatalf("testkit: dial the leader of %s/%d: %v", topic, partition, err)
	}
	defer leader.Close()
	first, last, err := leader.ReadOffsets()
	if err != nil {
		t.Fatalf("testkit: offsets of %s/%d: %v", topic, partition, err)
	}
	var out []kafka.Message
	for offset := first; offset < last; {
		if _, err := leader.Seek(offset, kafka.SeekAbsolute); err != nil {
			t.Fatalf("testkit: seek %s/%d to %d: %v", topic, partition, offset, err)
		}
		_ = leader.SetReadDeadline(clock.Real.Now().Add(10 * time.Second))
		batch, from := leader.ReadBatch(1, 10<<20), offset
		for {
			m, err := batch.ReadMessage()
			if err != nil {
				break
			}
			out = append(out, m)
			offset = m.Offset + 1
		}
		if err := batch.Close(); err != nil {
			t.Fatalf("testkit: read %s/%d at %d: %v", topic, partition, offset, err)
		}
		if offset == from {
			// Only control records (transaction markers) are left.
			break
		}
	}
	return out
}
