// Package process is the part every WorkPulse command's main shares: run
// until SIGTERM or an interrupt, and turn a failure into a message on stderr
// and an exit status.
package process

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/workpulse/workpulse/services/platform/buildinfo"
)

// Main runs run with a context that ends on SIGTERM or an interrupt, so a
// command drains as Kubernetes and a terminal expect. A failed run prints
// "name: error" on stderr and exits with the error's ExitCode.
func Main(name string, run func(ctx context.Context) error) {
	if PrintVersion(name, os.Args[1:], os.Stdout) {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(ExitCode(err))
	}
}

// ExitCode is the status a command exits with for err: what the first error
// in its chain with an ExitCode() int method says (a usage error says 2),
// else 1.
func ExitCode(err error) int {
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}

// PrintVersion prints "name VERSION (revision …)" to out when args ask for
// it (--version or -version alone) and says whether it did. Main answers it
// before run, so every command answers it without its configuration or
// dependencies (what an operator checks first on a broken installation).
func PrintVersion(name string, args []string, out io.Writer) bool {
	if len(args) != 1 || (args[0] != "--version" && args[0] != "-version") {
		return false
	}
	fmt.Fprintln(out, buildinfo.String(name))
	return true
}
