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
	return StartAdvertised(addr, "", partitions, opts...)
}

// StartAdvertised is Start for a broker that clients reach through a proxy:
// its metadata names advertise ("host:port") as the broker's address, so
// that clients keep going through the proxy after bootstrapping, instead of
// where it listens. An empty advertise is the listen address.
func StartAdvertised(addr, advertise string, partitions int32, opts ...kfake.Opt) (*kfake.Cluster, error) {
	var adv net.Addr
	if advertise != "" {
		if _, _, err := net.SplitHostPort(advertise); err != nil {
			return nil, fmt.Errorf("kafka advertised address %q: %w", advertise, err)
		}
		adv = advertisedAddr(advertise)
	}
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
			ln, err := net.Listen(network, net.JoinHostPort(host, p))
			if err != nil || adv == nil {
				return ln, err
			}
			return advertisedListener{ln, adv}, nil
		}),
		kfake.SeedTopics(partitions, events.AllTopics...),
		kfake.AllowAutoTopicCreation(),
	}, opts...)
	return kfake.NewCluster(all...)
}

// advertisedListener is a listener whose Addr is the advertised address:
// kfake puts its listener's address in the metadata it answers.
type advertisedListener struct {
	net.Listener
	addr net.Addr
}

func (l advertisedListener) Addr() net.Addr { return l.addr }

type advertisedAddr string

func (advertisedAddr) Network() string  { return "tcp" }
func (a advertisedAddr) String() string { return string(a) }
