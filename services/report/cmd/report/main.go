// Command report runs the WorkPulse report service (`report` or `report
// serve`) and its scheduled jobs (`report daily-summary`, `report
// idle-detection`, `report overtime-check`), which the operator's
// CronJobs run. A job exits 0 on success and 1 after logging why it
// failed; a usage error exits 2.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/process"
	"github.com/workpulse/workpulse/services/report/job"
	"github.com/workpulse/workpulse/services/report/service"
)

func main() {
	process.Main("report", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, nil, clock.Real)
	})
}

const usage = `usage:
  report [serve]                                   run the HTTP service and its event consumers
  report daily-summary (--org ID | --all) [--date YYYY-MM-DD]
                                                   summarize one tenant-local date, or without --date
                                                   every day since the last completed one through yesterday
  report daily-summary --due                       for every organization, each local day that has ended
                                                   and is not summarized yet, organizations taking turns
  report idle-detection [--org ID | --all]         raise idle alerts (default: every tenant)
  report overtime-check [--org ID | --all]         raise overtime alerts (default: every tenant)`

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg + "\n" + usage }

// ExitCode tells process.Main that a usage error exits 2, as for flags.
func (usageError) ExitCode() int { return 2 }

// run runs one command; every decision it makes by the time reads clk.
func run(ctx context.Context, args []string, lookup func(string) (string, bool), out io.Writer, listening func(net.Addr), clk clock.Clock) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch {
	case cmd == "serve":
		if len(args) > 0 {
			return usageError{"serve takes no arguments"}
		}
		return service.Run(ctx, clk, lookup, out, listening)
	case job.Is(cmd):
		err := job.Run(ctx, clk, append([]string{cmd}, args...), lookup, out)
		var u job.UsageError
		if errors.As(err, &u) {
			return usageError{u.Msg}
		}
		return err
	case cmd == "help" || cmd == "-h" || cmd == "--help":
		fmt.Fprintln(out, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}
