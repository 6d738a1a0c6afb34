// Package storage is all of the operator's SQL and DDL: reading the
// activity partition tree from the catalog, creating and dropping its
// month partitions, moving a tenant's rows between the shared tree and a
// table of its own, and deleting them. It runs as the operator's own role,
// which owns nothing: the DDL goes through the schema owner's functions of
// migrations/sql/00400_operator_storage_functions.sql, and the rows it
// deletes are one organization's, inside its row-level security scope.
// What to create, keep or move is decided by package policy; this package
// only does it.
package storage

import (
	"context"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/operator/internal/policy"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// The activity partition tree (migrations/sql/00100_tracking.sql):
// tracking.activity_logs is LIST partitioned by organization; its DEFAULT
// partition activity_logs_shared holds every Shared tenant, and a
// Dedicated tenant has its own list partition. Both are RANGE partitioned
// by month, with months named <parent>_YYYY_MM.
const (
	Schema      = "tracking"
	RootTable   = "activity_logs"
	SharedTable = "activity_logs_shared"
)

// DedicatedTable is the name of an organization's own list partition.
func DedicatedTable(orgID string) string {
	return "activity_logs_t_" + strings.ReplaceAll(orgID, "-", "")
}

func qualified(table string) string { return pgx.Identifier{Schema, table}.Sanitize() }

var monthSuffix = regexp.MustCompile(`_(\d{4})_(\d{2})$`)

// Store runs the operator's SQL on a pool logged in as the operator's role.
type Store struct {
	db *pgxpool.Pool
	// ddl counts schema changes, by kind, for the metrics.
	ddl func(kind string)
}

// New returns a Store on db; ddl is told the kind of every schema change
// made (create_month, drop_month, create_table, attach_table, drop_table).
func New(db *pgxpool.Pool, ddl func(kind string)) *Store { return &Store{db: db, ddl: ddl} }

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// Months returns the month partitions of parent, keyed by month.
func (s *Store) Months(ctx context.Context, parent string) (map[policy.Month]string, error) {
	return s.months(ctx, s.db, parent)
}

// months reads the month partitions of parent on q. Partitions not
// following the naming convention are not the operator's and are left
// alone.
func (s *Store) months(ctx context.Context, q querier, parent string) (map[policy.Month]string, error) {
	rows, err := q.Query(ctx, `
		SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = to_regclass($1)`, qualified(parent))
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	out := make(map[policy.Month]string, len(names))
	for _, n := range names {
		m := monthSuffix.FindStringSubmatch(n)
		if m == nil || n != parent+m[0] {
			continue
		}
		t, err := time.Parse("2006_01", m[1]+"_"+m[2])
		if err != nil {
			continue
		}
		out[policy.Month{Time: t}] = n
	}
	return out, nil
}

// withDDL runs fn in a transaction holding the advisory lock that
// migrations take too, so that two operator replicas, or the operator and
// a migration, never change the schema at the same time. Once the lock is
// held, lock waits are bounded: a long report query must not let the
// operator's DDL queue every insert behind it.
func (s *Store) withDDL(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pg.InTx(ctx, s.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrations.AdvisoryLockKey()); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '3s'"); err != nil {
			return err
		}
		return fn(tx)
	})
}

// Maintenance is what MaintainMonths did.
type Maintenance struct {
	Created, Dropped []policy.Month
	// Kept are months past retention left in place: they hold rows dated
	// within retention.
	Kept []policy.Month
}

// MaintainMonths creates the months plan wants at now and drops those
// past retention, unless they hold a row from plan.KeepFrom(now) on. Another replica may have done the work while this one
// waited for the lock, so it decides again from what is there then.
func (s *Store) MaintainMonths(ctx context.Context, plan policy.Plan, now time.Time) (Maintenance, error) {
	var done Maintenance
	err := s.withDDL(ctx, func(tx pgx.Tx) error {
		done = Maintenance{}
		existing, err := s.months(ctx, tx, plan.Parent)
		if err != nil {
			return err
		}
		missing, expired := plan.Diff(existing, now)
		for _, m := range missing {
			if err := s.ensureMonth(ctx, tx, plan.Parent, m); err != nil {
				return err
			}
			done.Created = append(done.Created, m)
		}
		for _, m := range expired {
			ok, err := s.dropMonth(ctx, tx, plan.Parent, m, plan.KeepFrom(now))
			if err != nil {
				return err
			}
			if ok {
				done.Dropped = append(done.Dropped, m)
			} else {
				done.Kept = append(done.Kept, m)
			}
		}
		return nil
	})
	return done, err
}

// DropMonthsBefore drops parent's months older than cutoff, except those
// holding a row dated from cutoff on (see dropMonth), under the lock.
func (s *Store) DropMonthsBefore(ctx context.Context, parent string, cutoff policy.Month) (dropped, kept []policy.Month, err error) {
	err = s.withDDL(ctx, func(tx pgx.Tx) error {
		dropped, kept = nil, nil
		existing, err := s.months(ctx, tx, parent)
		if err != nil {
			return err
		}
		for _, m := range policy.Expired(existing, cutoff) {
			ok, err := s.dropMonth(ctx, tx, parent, m, cutoff.Time)
			if err != nil {
				return err
			}
			if ok {
				dropped = append(dropped, m)
			} else {
				kept = append(kept, m)
			}
		}
		return nil
	})
	return dropped, kept, err
}

// ensureMonth creates parent's partition for m when it is missing.
func (s *Store) ensureMonth(ctx context.Context, tx pgx.Tx, parent string, m policy.Month) error {
	var created bool
	err := tx.QueryRow(ctx, `
		SELECT to_regclass(format('tracking.%I', $1::text)) IS NULL,
		       tracking.ensure_tree_month($2, $3::date) IS NOT NULL`,
		m.Partition(parent), parent, m.Time).Scan(&created, new(bool))
	if err == nil && created {
		s.ddl("create_month")
	}
	return err
}

// dropMonth detaches and drops parent's month m past retention, unless it
// holds a row dated from keepFrom on: a partition made by hand with wider
// bounds, or rows moved in from elsewhere, are never lost to it.
func (s *Store) dropMonth(ctx context.Context, tx pgx.Tx, parent string, m policy.Month, keepFrom time.Time) (bool, error) {
	var dropped bool
	if err := tx.QueryRow(ctx, "SELECT tracking.drop_month_partition($1, $2::date, $3)", parent, m.Time, keepFrom).Scan(&dropped); err != nil {
		return false, err
	}
	if dropped {
		s.ddl("drop_month")
	}
	return dropped, nil
}

// dataMonths returns the months in which org has rows in table (the
// shared tree or its own), read by the owner's function: the operator's
// role cannot read the partitions themselves.
func (s *Store) dataMonths(ctx context.Context, q querier, table, orgID string) ([]policy.Month, error) {
	rows, err := q.Query(ctx, "SELECT tracking.activity_months($1, $2)", orgID, table)
	if err != nil {
		return nil, err
	}
	ts, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, err
	}
	out := make([]policy.Month, len(ts))
	for i, t := range ts {
		out[i] = policy.MonthOf(t)
	}
	return out, nil
}

// TableState says whether table exists and whether it is attached to
// tracking.activity_logs.
func (s *Store) TableState(ctx context.Context, table string) (exists, attached bool, err error) {
	err = s.db.QueryRow(ctx, `
		SELECT to_regclass($1) IS NOT NULL,
		       EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass($2))`,
		qualified(table), qualified(RootTable)).Scan(&exists, &attached)
	return exists, attached, err
}
