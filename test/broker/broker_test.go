package broker

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestTheBrokersMetadataNamesTheAdvertisedAddressWhenOneIsGiven(t *testing.T) {
	tests := []struct {
		name      string
		advertise string
		want      func(listen string) string
	}{
		{"without one, clients are sent back to where it listens", "",
			func(listen string) string { return listen }},
		{"with one, clients are sent to the proxy in front of it", "kafka.example:19092",
			func(string) string { return "kafka.example:19092" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			listen := freeAddr(t)
			b, err := StartAdvertised(listen, tt.advertise, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			// Bootstrapping always goes where it listens.
			cl, err := kgo.NewClient(kgo.SeedBrokers(listen))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			if len(resp.Brokers) != 1 {
				t.Fatalf("metadata names %d brokers, want 1", len(resp.Brokers))
			}
			got := net.JoinHostPort(resp.Brokers[0].Host, strconv.Itoa(int(resp.Brokers[0].Port)))
			if want := tt.want(listen); got != want {
				t.Errorf("metadata names the broker %s, want %s", got, want)
			}
		})
	}
}

// freeAddr is a loopback address no one listens on: kfake reports the
// advertised address as its own, so the test picks the real one.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
