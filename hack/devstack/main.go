// Command devstack runs the whole WorkPulse platform on one machine for
// development (make dev): it finds or starts PostgreSQL and Redis (through
// hack/with-deps.sh), runs an in-process Kafka broker, applies the
// migrations, builds and starts every service, and serves the front door
// on :3000 (the web app at /, the API under /api) with the same routing
// table as the chart's Ingress.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.LookupEnv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "devstack:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, lookup func(string) (string, bool), out io.Writer) error {
	cfg, err := loadConfig(args, lookup)
	if err != nil {
		return err
	}
	return (&Stack{cfg: cfg, out: out}).Run(ctx)
}
