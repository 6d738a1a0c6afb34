// Package storage keeps the months of the activity partition trees: the
// shared tree every organization without a dedicated one lives in, kept
// for the whole installation whether or not any WorkPulseTenant exists.
// It is the one maintenance code path: migrate up runs it at the end, make
// dev at start and every hour, the operator on its own schedule, and the
// ingest service when an accepted activity finds its month missing. Every
// change happens under the migrations' advisory lock, and the months
// wanted are decided from an injected clock, never the database's now().
package storage

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// SharedTree is the DEFAULT list partition of tracking.activity_logs,
// range partitioned by month (migrations/sql/00100_tracking.sql).
const SharedTree = "activity_logs_shared"

// Month is the first instant of a UTC calendar month: activity partitions
// are bounded by UTC months whatever an organization's time zone.
type Month struct{ time.Time }

// MonthOf is the month holding t.
func MonthOf(t time.Time) Month {
	t = t.UTC()
	return Month{time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)}
}

// Add is the month n months after m (before it when n is negative).
func (m Month) Add(n int) Month { return Month{m.AddDate(0, n, 0)} }

func (m Month) String() string { return m.Format("2006-01") }

// Partition is the name of parent's partition for m: <parent>_YYYY_MM.
func (m Month) Partition(parent string) string { return parent + "_" + m.Format("2006_01") }

// Policy says which months a tree must have.
type Policy struct {
	// Premake is how many months after the current one exist ahead.
	Premake int
	// Window is how far back the API accepts an activity's timestamp: every
	// month from the oldest accepted instant on exists.
	Window time.Duration
	// Retention is how many months of its own calendar an organization
	// that set no retention of its own keeps (SHARED_RETENTION_MONTHS), and
	// the shared tree's months with it.
	Retention int
}

// DefaultRetentionMonths is the installation's retention unless
// SHARED_RETENTION_MONTHS says otherwise.
const DefaultRetentionMonths = 13

// DefaultPremake is pg_partman's default.
const DefaultPremake = 4

// DefaultWindowDays is how many days back the API accepts an activity
// unless an organization sets its own window.
const DefaultWindowDays = 30

// MaxWindowDays bounds the accepted window: the shared tree's retention
// keeps at least a year.
const MaxWindowDays = 366

// Window is the duration of a window of days.
func Window(days int) time.Duration { return time.Duration(days) * 24 * time.Hour }

// LoadPolicy reads STORAGE_PREMAKE_MONTHS, ACTIVITY_WINDOW_DAYS (the
// installation's default window, which the ingest and session services
// read too) and SHARED_RETENTION_MONTHS.
func LoadPolicy(e *config.Env) Policy {
	return Policy{
		Premake:   e.Int("STORAGE_PREMAKE_MONTHS", DefaultPremake, 1, 24),
		Window:    Window(e.Int("ACTIVITY_WINDOW_DAYS", DefaultWindowDays, 1, MaxWindowDays)),
		Retention: e.Int("SHARED_RETENTION_MONTHS", DefaultRetentionMonths, 1, 120),
	}
}

// Months are the months that must exist at now, oldest first: from the
// month of the oldest accepted timestamp through Premake months after the
// current one.
func (p Policy) Months(now time.Time) []Month {
	last := MonthOf(now).Add(p.Premake)
	var out []Month
	for m := MonthOf(now.Add(-p.Window)); !m.After(last.Time); m = m.Add(1) {
		out = append(out, m)
	}
	return out
}

// Missing are the months of wanted that existing lacks, in wanted's order.
func Missing(wanted []Month, existing map[Month]string) []Month {
	var out []Month
	for _, m := range wanted {
		if _, ok := existing[m]; !ok {
			out = append(out, m)
		}
	}
	return out
}

// MonthsAhead counts the months after now's that exist without a gap: a
// missing month in between refuses inserts just the same.
func MonthsAhead(existing map[Month]string, now time.Time) int {
	n := 0
	for m := MonthOf(now).Add(1); ; m = m.Add(1) {
		if _, ok := existing[m]; !ok {
			return n
		}
		n++
	}
}

// Report is what a maintenance pass found and did.
type Report struct {
	Tree string
	// Created are the months made by this pass.
	Created []Month
	// Oldest and Newest bound the months the tree has afterwards.
	Oldest, Newest Month
	// MonthsAhead is MonthsAhead after the pass.
	MonthsAhead int
	// Window is the widest accepted window the pass provided for: the
	// installation's or a longer one an organization set.
	Window time.Duration
}

func (r Report) String() string {
	created := "none created"
	if len(r.Created) > 0 {
		created = fmt.Sprintf("created %v", r.Created)
	}
	return fmt.Sprintf("tracking.%s has months %s to %s, %d ahead (window %d days): %s",
		r.Tree, r.Oldest, r.Newest, r.MonthsAhead, int(r.Window/(24*time.Hour)), created)
}

// Maintainer keeps the shared tree's months. DB connects as the owner of
// the tracking schema (migrate up, make dev) or as the operator's role,
// which makes months through the owner's tracking.ensure_tree_month.
type Maintainer struct {
	DB     pg.Beginner
	Clock  clock.Clock
	Policy Policy
	// Metrics, when set, observe every pass.
	Metrics *Metrics
}

// Run creates the shared tree's missing months. The window is the widest of
// the policy's and every organization's own (tracking.tenants), so that no
// accepted timestamp lacks its month. Nothing is dropped: retention is not
// this pass's decision.
func (m *Maintainer) Run(ctx context.Context) (Report, error) {
	now := m.Clock.Now()
	rep := Report{Tree: SharedTree}
	err := Locked(ctx, m.DB, func(tx pgx.Tx) error {
		rep.Created = nil
		var days *int
		if err := tx.QueryRow(ctx, "SELECT tracking.widest_activity_window()").Scan(&days); err != nil {
			return err
		}
		p := m.Policy
		if days != nil && Window(*days) > p.Window {
			p.Window = Window(*days)
		}
		rep.Window = p.Window
		existing, err := Partitions(ctx, tx, SharedTree)
		if err != nil {
			return err
		}
		for _, mo := range Missing(p.Months(now), existing) {
			if err := create(ctx, tx, SharedTree, mo); err != nil {
				return err
			}
			existing[mo] = mo.Partition(SharedTree)
			rep.Created = append(rep.Created, mo)
		}
		rep.Oldest, rep.Newest = bounds(existing)
		rep.MonthsAhead = MonthsAhead(existing, now)
		return nil
	})
	if err == nil {
		m.Metrics.Observe(rep)
	}
	return rep, err
}

// EnsureMonths creates the months holding times in the tree orgID's rows
// live in (its dedicated tree, or the shared one), under the lock. The
// ingest service calls it when an accepted activity finds its month
// missing; as the service's role, through tracking.ensure_activity_month,
// which creates month partitions and nothing else.
func EnsureMonths(ctx context.Context, db pg.Beginner, orgID string, times []time.Time) error {
	var months []Month
	for _, t := range times {
		if m := MonthOf(t); !slices.Contains(months, m) {
			months = append(months, m)
		}
	}
	return Locked(ctx, db, func(tx pgx.Tx) error {
		for _, m := range months {
			if _, err := tx.Exec(ctx, "SELECT tracking.ensure_activity_month($1, $2::date)", orgID, m.Time); err != nil {
				return err
			}
		}
		return nil
	})
}

// Locked runs fn in a transaction holding the advisory lock migrations
// take, so that migrations, the operator, make dev and the services never
// change the schema at the same time. Once the lock is held, lock waits are
// bounded: a long report query must not queue every insert behind DDL.
func Locked(ctx context.Context, db pg.Beginner, fn func(tx pgx.Tx) error) error {
	return pg.InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", LockKey); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '3s'"); err != nil {
			return err
		}
		return fn(tx)
	})
}

// LockKey is the PostgreSQL advisory lock every schema-changing component
// takes: migrations (migrations.AdvisoryLockKey), maintenance, the operator.
// It lives here so that services creating a month need not link the
// migrations themselves.
const LockKey = 7_366_254_001

var monthSuffix = regexp.MustCompile(`_(\d{4}_\d{2})$`)

// Partitions returns the month partitions of tracking.<parent>, keyed by
// month. Partitions not named by the convention are not maintenance's and
// are left out.
func Partitions(ctx context.Context, q pgx.Tx, parent string) (map[Month]string, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1)`, pgx.Identifier{"tracking", parent}.Sanitize())
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[Month]string, len(names))
	for _, n := range names {
		s := monthSuffix.FindStringSubmatch(n)
		if s == nil || n != parent+s[0] {
			continue
		}
		if t, err := time.Parse("2006_01", s[1]); err == nil {
			out[Month{t}] = n
		}
	}
	return out, nil
}

func create(ctx context.Context, tx pgx.Tx, parent string, m Month) error {
	_, err := tx.Exec(ctx, "SELECT tracking.ensure_tree_month($1, $2::date)", parent, m.Time)
	return err
}

func bounds(existing map[Month]string) (oldest, newest Month) {
	for m := range existing {
		if oldest.IsZero() || m.Before(oldest.Time) {
			oldest = m
		}
		if newest.IsZero() || m.After(newest.Time) {
			newest = m
		}
	}
	return oldest, newest
}
