package broker

import (
	"fmt"
	"net"
	"strconv"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/workpulse/workpulse/api/events"
)

// Start starts an in-process Kafka broker (kfake: the real wire
// protocol, kept in memory) on addr ("host:port"; port 0 picks one) with
// every WorkPulse topic. make dev and the tests use it; production points
// KAFKA_BROKERS at a real cluster.
func Start(addr string, partitions int32, opts ...kfake.Opt) (*kfake.Cluster, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("kafka broker address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, fmt.Errorf("kafka broker port %q: %w", portStr, err)
	}
	all := append([]kfake.Opt{
		kfake.NumBrokers(1), kfake.Ports(port),
		// kfake listens on 127.0.0.1; keep the port it asks for but bind host.
		kfake.ListenFn(func(network, a string) (net.Listener, error) {
			_, p, _ := net.SplitHostPort(a)
			return net.Listen(network, net.JoinHostPort(host, p))
		}),
		kfake.SeedTopics(partitions, events.AllTopics...),
		kfake.AllowAutoTopicCreation(),
	}, opts...)
	return kfake.NewCluster(all...)
}
