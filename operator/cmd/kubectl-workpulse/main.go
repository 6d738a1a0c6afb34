// Command kubectl-workpulse is WorkPulse's kubectl plugin (`kubectl workpulse` once it is on the
// PATH): the installation's health, its tenants and their next jobs, and tenant manifests the API
// server accepts.
package main

import (
	"context"
	"os"

	"github.com/workpulse/workpulse/operator/internal/plugin"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/process"
)

func main() {
	process.Main("kubectl-workpulse", func(ctx context.Context) error { return run(ctx, os.Args[1:]) })
}

func run(ctx context.Context, args []string) error {
	return plugin.Main(ctx, args, plugin.IO{Out: os.Stdout, Err: os.Stderr}, clock.Real)
}
