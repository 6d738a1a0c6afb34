// Command broker runs the in-process Kafka broker (kfake, the real wire
// protocol) on an address the local node's pods can reach, for make e2e:
//
//	broker -addr 10.244.0.1:39092 -partitions 3
//
// It serves until SIGTERM or SIGINT.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/workpulse/workpulse/test/broker"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:9092", "listen (and advertised) address")
	partitions := flag.Int("partitions", 3, "partitions of every seeded topic")
	flag.Parse()
	b, err := broker.Start(*addr, int32(*partitions))
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		os.Exit(1)
	}
	fmt.Fprintln(os.Stderr, "broker: listening on", b.ListenAddrs())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	b.Close()
}
