package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/test/broker"
)

// trimInterval is how often the in-process broker drops the records every
// consumer group has read.
const trimInterval = 2 * time.Second

// segmentBytes is the in-process broker's segment size. It keeps every
// partition's records in segments and frees a segment only once all of its
// records are trimmed: at kfake's default (100 MiB) nothing a day of make
// dev writes would ever be freed. With 1 MiB segments trimmed every 10 s,
// the partly read segments of every partition and the collector's slack
// over them took devstack to 99-155 MiB over make bench's loads; with
// these it stays at 73-76 MiB, at no cost in CPU that the loads could tell.
const segmentBytes = 128 << 10

// startKafka serves the in-process broker on addr, trimming its records
// as the consumer groups commit past them until ctx ends. kfake keeps
// every record in memory, where a cluster's brokers keep a week on disk;
// without the trimming the stack's memory grew by every event ever
// published (565 MiB over one tracking benchmark).
func (s *Stack) startKafka(ctx context.Context, addr string) (stop func(), err error) {
	cluster, err := broker.Start(addr, 6, kfake.BrokerConfigs(map[string]string{"log.segment.bytes": strconv.Itoa(segmentBytes)}))
	if err != nil {
		return nil, err
	}
	client, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...))
	if err != nil {
		cluster.Close()
		return nil, err
	}
	trimCtx, stopTrim := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		clock.Every(trimCtx, trimInterval, func(ctx context.Context) {
			if err := trimConsumed(ctx, cluster, client); err != nil && ctx.Err() == nil {
				s.logf("kafka", "trimming the records every group has read: %v", err)
			}
		})
	}()
	return func() { stopTrim(); <-done; client.Close(); cluster.Close() }, nil
}

// trimConsumed deletes, in every partition of a topic that consumer groups
// have committed offsets on, the records before the lowest of their
// offsets. A group that reads a topic but has not committed on one of its
// partitions yet keeps that partition whole; a topic no group has
// committed on is kept whole. A group counts whether or not its members
// are running: a service that is restarting resumes from its commits.
func trimConsumed(ctx context.Context, cluster *kfake.Cluster, client *kgo.Client) error {
	groups, err := kmsg.NewPtrListGroupsRequest().RequestWith(ctx, client)
	if err != nil {
		return err
	}
	if err := kerr.ErrorForCode(groups.ErrorCode); err != nil {
		return fmt.Errorf("listing the groups: %w", err)
	}
	// upTo[topic][partition] is the lowest offset the groups that read
	// topic have committed on partition; -1 where one of them has none.
	upTo := map[string]map[int32]int64{}
	var readers []map[string]map[int32]kfake.GroupCommit
	for _, g := range groups.Groups {
		info := cluster.GroupInfo(g.Group)
		if info == nil {
			continue // deleted since it was listed
		}
		readers = append(readers, info.Commits)
		for topic := range info.Commits {
			if upTo[topic] == nil {
				upTo[topic] = map[int32]int64{}
				for _, p := range cluster.PartitionInfos(topic) {
					upTo[topic][p.Partition] = p.HighWatermark
				}
			}
		}
	}
	for _, commits := range readers {
		for topic, committed := range commits {
			for p, lowest := range upTo[topic] {
				c, ok := committed[p]
				switch {
				case !ok:
					upTo[topic][p] = -1
				case lowest >= 0 && c.Offset < lowest:
					upTo[topic][p] = c.Offset
				}
			}
		}
	}
	for topic, parts := range upTo {
		for _, p := range cluster.PartitionInfos(topic) {
			if offset := parts[p.Partition]; offset > p.LogStartOffset {
				if err := cluster.DeleteRecords(topic, p.Partition, offset); err != nil {
					return fmt.Errorf("%s/%d up to %d: %w", topic, p.Partition, offset, err)
				}
			}
		}
	}
	return nil
}
