// Command devstack runs the whole WorkPulse platform on one machine for
// development (make dev): it finds or starts PostgreSQL and Redis (through
// hack/with-deps.sh), runs an in-process Kafka broker, applies the
// migrations, builds and starts every service, and serves the front door
// on :3000 (the web app at /, the API under /api) with the same routing
// table as the chart's Ingress.
package main

import (
	"context"
	"io"
	"os"

	"github.com/workpulse/workpulse/services/platform/process"
)

func main() {
	process.Main("devstack", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.LookupEnv, os.Stdout) })
}

func run(ctx context.Context, args []string, lookup func(string) (string, bool), out io.Writer) error {
	cfg, err := loadConfig(args, lookup)
	if err != nil {
		return err
	}
	return (&Stack{cfg: cfg, out: out}).Run(ctx)
}
