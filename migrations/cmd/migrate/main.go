// Command migrate applies WorkPulse's database migrations:
//
//	migrate up|down|status
//	migrate import-original --from <postgres URL> [--batch-size N]
//
// The database comes from DATABASE_URL. After up, it brings the shared
// activity tree's months up to date (see package storage), so that a fresh
// install stores activity before any other component has run; the months
// follow STORAGE_PREMAKE_MONTHS and ACTIVITY_WINDOW_DAYS. Up also creates or
// updates the services' login roles, named after DB_ROLE_PREFIX, with the
// passwords in DB_ROLE_PASSWORD_<SERVICE> (see package roles). import-original
// copies the replaced system's database into a migrated one (see package
// original), with a progress bar on a terminal and a report at the end.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/migrations/original"
	"github.com/workpulse/workpulse/migrations/roles"
	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/process"
)

func main() {
	process.Main("migrate", func(ctx context.Context) error {
		return run(ctx, os.Args[1:], os.LookupEnv, os.Stdout, os.Stderr, clock.Real)
	})
}

const usage = "usage: migrate up|down|status, or migrate import-original --from <postgres URL> (DATABASE_URL names the database)"

func run(ctx context.Context, args []string, lookup func(string) (string, bool), out, progress io.Writer, clk clock.Clock) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	env := config.NewEnv(lookup)
	dsn, _ := lookup("DATABASE_URL")
	if dsn == "" {
		return errors.New("DATABASE_URL is required")
	}
	if args[0] == "import-original" {
		return importOriginal(ctx, args[1:], dsn, out, progress, clk)
	}
	if len(args) != 1 {
		return errors.New(usage)
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

// importOriginal imports the original system's database named by --from.
func importOriginal(ctx context.Context, args []string, dsn string, out, progress io.Writer, clk clock.Clock) error {
	fs := flag.NewFlagSet("import-original", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	from := fs.String("from", "", "the original system's PostgreSQL URL")
	batch := fs.Int("batch-size", original.DefaultBatchSize, "rows per transaction")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("import-original: %w (%s)", err, usage)
	}
	if *from == "" || fs.NArg() > 0 {
		return errors.New("import-original: --from <postgres URL> is required, and nothing else: " + usage)
	}
	if *batch < 1 || *batch > 100000 {
		return errors.New("import-original: --batch-size must be between 1 and 100000")
	}
	src, err := pgx.Connect(ctx, *from)
	if err != nil {
		return fmt.Errorf("import-original: the original's database: %w", err)
	}
	defer src.Close(context.WithoutCancel(ctx))
	db, err := pg.Connect(ctx, dsn, pg.Login{}, 4)
	if err != nil {
		return err
	}
	defer db.Close()
	im := &original.Importer{Source: src, Target: db, Clock: clk, BatchSize: *batch, Progress: original.NewProgress(progress)}
	rep, err := im.Run(ctx)
	if rep != nil {
		fmt.Fprint(out, rep)
	}
	return err
}
