package kafkax

import (
	"context"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// GroupLag is how many messages of topics lie beyond group's committed
// offsets. A partition the group never committed counts from its start,
// unless fromEnd (a group that starts at the newest message).
func GroupLag(ctx context.Context, brokers []string, sec Security, group string, topics []string, fromEnd bool) (int64, error) {
	c, done := newClient(brokers, sec)
	defer done()
	ends, err := endOffsets(ctx, c, topics)
	if err != nil {
		return 0, err
	}
	parts := map[string][]int{}
	for topic, offsets := range ends {
		for _, p := range offsets {
			parts[topic] = append(parts[topic], p.Partition)
		}
	}
	committed, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err != nil {
		return 0, fmt.Errorf("kafka: committed offsets of %s: %w", group, err)
	}
	var lag int64
	for topic, offsets := range ends {
		for _, end := range offsets {
			from := int64(0)
			if fromEnd {
				from = end.LastOffset
			}
			for _, cp := range committed.Topics[topic] {
				if cp.Partition == end.Partition && cp.CommittedOffset >= 0 {
					from = cp.CommittedOffset
				}
			}
			lag += max(end.LastOffset-from, 0)
		}
	}
	return lag, nil
}

// newClient returns a client for a few requests and what closes it: a
// kafka.Transport keeps connections and a metadata refresh every few
// seconds going for each broker it reached until it is closed, so a
// client made per lag measurement and never closed left about a dozen
// goroutines and a refresh running behind every measurement.
func newClient(brokers []string, sec Security) (*kafka.Client, func()) {
	t := sec.transport()
	return &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: t}, t.CloseIdleConnections
}

// endOffsets lists the end offset of every partition of topics.
func endOffsets(ctx context.Context, c *kafka.Client, topics []string) (map[string][]kafka.PartitionOffsets, error) {
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return nil, fmt.Errorf("kafka: metadata: %w", err)
	}
	ends := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			ends[t.Name] = append(ends[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	last, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: ends})
	if err != nil {
		return nil, fmt.Errorf("kafka: end offsets: %w", err)
	}
	for topic, parts := range last.Topics {
		for _, p := range parts {
			if p.Error != nil {
				return nil, fmt.Errorf("kafka: end offset of %s partition %d: %w", topic, p.Partition, p.Error)
			}
		}
	}
	return last.Topics, nil
}
