// Command migrate applies WorkPulse's database migrations:
//
//	migrate up|down|status
//
// The database comes from DATABASE_URL. After up, it brings the shared
// activity tree's months up to date (see package storage), so that a fresh
// install stores activity before any other component has run; the months
// follow STORAGE_PREMAKE_MONTHS and ACTIVITY_WINDOW_DAYS. Up also creates or
// updates the services' login roles, named after DB_ROLE_PREFIX, with the
// passwords in DB_ROLE_PASSWORD_<SERVICE> (see package roles).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/migrations/roles"
	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/process"
)

func main() {
	process.Main("migrate", func(ctx context.Context) error { return run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, clock.Real) })
}

func run(ctx context.Context, args []string, lookup func(string) (string, bool), out io.Writer, clk clock.Clock) error {
	if len(args) != 1 {
		return errors.New("usage: migrate up|down|status (DATABASE_URL names the database)")
	}
	env := config.NewEnv(lookup)
	dsn, _ := lookup("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is required")
	}
	policy := storage.LoadPolicy(env)
	rs := roles.Load(env)
	if err := env.Err(); err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	m, err := migrations.Open(dsn, rs)
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
	if err != nil || args[0] != "up" {
		return err
	}
	return maintain(ctx, dsn, policy, out, clk)
}

// maintain runs one storage maintenance pass as the migrating user.
func maintain(ctx context.Context, dsn string, policy storage.Policy, out io.Writer, clk clock.Clock) error {
	db, err := pg.Connect(ctx, dsn, pg.Login{}, 2)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := (&storage.Maintainer{DB: db, Clock: clk, Policy: policy}).Run(ctx)
	if err != nil {
		return fmt.Errorf("storage maintenance: %w", err)
	}
	fmt.Fprintln(out, "storage:", rep)
	return nil
}
