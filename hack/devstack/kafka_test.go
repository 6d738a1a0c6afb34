package main

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/test/broker"
)

func TestTheBrokerDropsTheRecordsEveryGroupHasCommittedPast(t *testing.T) {
	read, unread := events.AllTopics[0], events.AllTopics[1]
	type commit struct {
		group     string
		partition int32
		offset    int64
	}
	tests := []struct {
		name    string
		commits []commit
		// want is each partition's first offset left, read's two and
		// then unread's two; every partition holds 10 records.
		want [4]int64
	}{
		{"Records before the lowest offset the groups committed are deleted, and the rest kept.",
			[]commit{{"report", 0, 6}, {"report", 1, 10}, {"session", 0, 8}, {"session", 1, 3}}, [4]int64{6, 3, 0, 0}},
		{"A partition that a group reading the topic has not committed on is kept whole.",
			[]commit{{"report", 0, 6}, {"report", 1, 10}, {"session", 0, 8}}, [4]int64{6, 0, 0, 0}},
		{"Nothing is deleted before any group commits.", nil, [4]int64{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			cluster, err := broker.Start("127.0.0.1:0", 2)
			if err != nil {
				t.Fatal(err)
			}
			defer cluster.Close()
			client, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
			if err != nil {
				t.Fatal(err)
			}
			defer client.Close()
			for _, topic := range []string{read, unread} {
				for p := range int32(2) {
					for range 10 {
						if err := client.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte("event")}).FirstErr(); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			for _, c := range tt.commits {
				req := kmsg.NewPtrOffsetCommitRequest()
				req.Group, req.Generation = c.group, -1
				rt := kmsg.NewOffsetCommitRequestTopic()
				rt.Topic, rt.TopicID = read, cluster.TopicInfo(read).TopicID
				rp := kmsg.NewOffsetCommitRequestTopicPartition()
				rp.Partition, rp.Offset = c.partition, c.offset
				rt.Partitions = append(rt.Partitions, rp)
				req.Topics = append(req.Topics, rt)
				resp, err := req.RequestWith(ctx, client)
				if err != nil {
					t.Fatal(err)
				}
				if err := kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode); err != nil {
					t.Fatalf("%s's commit: %v", c.group, err)
				}
			}

			if err := trimConsumed(ctx, cluster, client); err != nil {
				t.Fatal(err)
			}
			var got [4]int64
			for i, topic := range []string{read, unread} {
				for _, p := range cluster.PartitionInfos(topic) {
					got[2*i+int(p.Partition)] = p.LogStartOffset
					if p.HighWatermark != 10 {
						t.Errorf("%s/%d ends at %d, want 10", topic, p.Partition, p.HighWatermark)
					}
				}
			}
			if got != tt.want {
				t.Errorf("the partitions start at %v, want %v", got, tt.want)
			}
		})
	}
}
