// Command broker runs the in-process Kafka broker (kfake, the real wire
// protocol) on an address the local node's pods can reach, for make e2e:
//
//	broker -addr 10.244.0.1:39092 [-advertise kafka:9092] -partitions 3
//
// -advertise is the address its metadata gives clients, when they reach it
// through a proxy (make e2e's kafka Service and relay pod).
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
	addr := flag.String("addr", "127.0.0.1:9092", "listen address")
	advertise := flag.String("advertise", "", "address clients are told to connect to (default: -addr)")
	partitions := flag.Int("partitions", 3, "partitions of every seeded topic")
	flag.Parse()
	b, err := broker.StartAdvertised(*addr, *advertise, int32(*partitions))
	if err != nil {
		fmt.Fprintln(os.Stderr, "broker:", err)
		os.Exit(1)
	}
	// ListenAddrs reports the advertised address when there is one.
	fmt.Fprintln(os.Stderr, "broker: listening on", *addr, "advertised as", b.ListenAddrs())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	<-ctx.Done()
	b.Close()
}
