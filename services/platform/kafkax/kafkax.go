// Package kafkax wraps segmentio/kafka-go: a writer tuned for the outbox
// relay, topic creation at start-up, and a consumer that commits an offset
// only after its effect is committed.
package kafkax

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/segmentio/kafka-go"
)

// NewWriter returns a plaintext writer; see NewSecureWriter.
func NewWriter(brokers []string) *kafka.Writer { return NewSecureWriter(brokers, Security{}) }

// NewSecureWriter returns a writer that waits for every in-sync replica and
// routes messages with the same key to the same partition.
//
// BatchSize is what kafka-go allocates up front for every partition's
// batch (a Message is 152 bytes), whatever the batch then holds: at 1,000
// it was over a third of ingest's allocations under the single-post
// benchmark, 150 KB per partition for the few events a relay publishes
// every 20 ms. A relay's batch (up to 500 events) spread over the topics'
// partitions is about 80 events a partition at most, so 100 rarely splits one.
func NewSecureWriter(brokers []string, sec Security) *kafka.Writer {
	return &kafka.Writer{
		Transport:    sec.transport(),
		Addr:         kafka.TCP(brokers...),
		Balancer:     &kafka.Hash{},
		RequiredAcks: kafka.RequireAll,
		BatchTimeout: 2 * time.Millisecond,
		BatchSize:    100,
		WriteTimeout: 10 * time.Second,
		ReadTimeout:  10 * time.Second,
		MaxAttempts:  3,
	}
}

// Prefixed names topics as they are on the brokers of an installation
// whose KAFKA_TOPIC_PREFIX is prefix.
func Prefixed(prefix string, topics ...string) []string {
	out := make([]string, len(topics))
	for i, t := range topics {
		out[i] = prefix + t
	}
	return out
}

// EnsureTopics creates any of topics that does not exist yet.
func EnsureTopics(ctx context.Context, brokers []string, sec Security, partitions int, topics ...string) error {
	d := sec.dialer()
	conn, err := dialAny(ctx, d, brokers)
	if err != nil {
		return err
	}
	defer conn.Close()
	controller, err := conn.Controller()
	if err != nil {
		return fmt.Errorf("kafka: find controller: %w", err)
	}
	cc, err := d.DialContext(ctx, "tcp", net.JoinHostPort(controller.Host, strconv.Itoa(controller.Port)))
	if err != nil {
		return fmt.Errorf("kafka: dial controller: %w", err)
	}
	defer cc.Close()
	cfgs := make([]kafka.TopicConfig, 0, len(topics))
	for _, t := range topics {
		cfgs = append(cfgs, kafka.TopicConfig{Topic: t, NumPartitions: partitions, ReplicationFactor: -1})
	}
	if err := cc.CreateTopics(cfgs...); err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
		return fmt.Errorf("kafka: create topics: %w", err)
	}
	return nil
}

// Ping checks that a broker answers a metadata request.
func Ping(ctx context.Context, brokers []string, sec Security) error {
	conn, err := dialAny(ctx, sec.dialer(), brokers)
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	_, err = conn.Brokers()
	return err
}

func dialAny(ctx context.Context, d *kafka.Dialer, brokers []string) (*kafka.Conn, error) {
	var errs []error
	for _, b := range brokers {
		conn, err := d.DialContext(ctx, "tcp", b)
		if err == nil {
			return conn, nil
		}
		errs = append(errs, err)
	}
	return nil, fmt.Errorf("kafka: no broker reachable: %w", errors.Join(errs...))
}

// FirstDelivery records that consumer processed eventID, in the same
// transaction as the consumer's effect. It returns false when the event
// was processed before, and the effect must then be skipped.
func FirstDelivery(ctx context.Context, tx pgx.Tx, table, consumer, eventID string) (bool, error) {
	tag, err := tx.Exec(ctx, "INSERT INTO "+table+" (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", consumer, eventID)
	if err != nil {
		return false, err
	}
	return tag.RowsAffected() == 1, nil
}
