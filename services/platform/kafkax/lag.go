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
	c := &kafka.Client{Addr: kafka.TCP(brokers...), Timeout: 5 * time.Second, Transport: sec.transport()}
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: topics})
	if err != nil {
		return 0, fmt.Errorf("kafka: metadata: %w", err)
	}
	parts := map[string][]int{}
	ends := map[string][]kafka.OffsetRequest{}
	for _, t := range meta.Topics {
		for _, p := range t.Partitions {
			parts[t.Name] = append(parts[t.Name], p.ID)
			ends[t.Name] = append(ends[t.Name], kafka.LastOffsetOf(p.ID))
		}
	}
	committed, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: parts})
	if err != nil {
		return 0, fmt.Errorf("kafka: committed offsets of %s: %w", group, err)
	}
	last, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: ends})
	if err != nil {
		return 0, fmt.Errorf("kafka: end offsets: %w", err)
	}
	var lag int64
	for topic, offsets := range last.Topics {
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
