// Command migrate applies WorkPulse's database migrations:
//
//	migrate up|down|status
//
// The database comes from DATABASE_URL.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/workpulse/workpulse/migrations"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, out io.Writer) error {
	if len(args) != 1 {
		return errors.New("usage: migrate up|down|status (DATABASE_URL names the database)")
	}
	dsn := getenv("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is required")
	}
	m, err := migrations.Open(dsn)
	if err != nil {
		return err
	}
	defer m.Close()
	var lines []string
	switch args[0] {
	case "up":
		lines, err = m.Up(ctx)
	case "down":
		lines, err = m.Down(ctx)
	case "status":
		lines, err = m.Status(ctx)
	default:
		return fmt.Errorf("unknown command %q: want up, down or status", args[0])
	}
	for _, l := range lines {
		fmt.Fprintln(out, l)
	}
	return err
}
