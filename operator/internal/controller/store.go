package controller

import (
	"context"
	"fmt"
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
	schema      = "tracking"
	rootTable   = "activity_logs"
	sharedTable = "activity_logs_shared"
)

// dedicatedTable is the name of an organization's own list partition.
func dedicatedTable(orgID string) string {
	return "activity_logs_t_" + strings.ReplaceAll(orgID, "-", "")
}

func qualified(table string) string { return pgx.Identifier{schema, table}.Sanitize() }

var monthSuffix = regexp.MustCompile(`_(\d{4})_(\d{2})$`)

// store runs the operator's SQL: as the owner of the tracking schema,
// since partition maintenance is DDL.
type store struct {
	db *pgxpool.Pool
	// ddl counts schema changes, by kind, for the metrics.
	ddl func(kind string)
}

// monthPartitions returns the month partitions of parent, keyed by month.
// Partitions not following the naming convention are not the operator's
// and are left alone.
func (s *store) monthPartitions(ctx context.Context, q pgxQuerier, parent string) (map[policy.Month]string, error) {
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

type pgxQuerier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// withDDL runs fn in a transaction holding the advisory lock that
// migrations take too, so that two operator replicas, or the operator and
// a migration, never change the schema at the same time. Once the lock is
// held, lock waits are bounded: a long report query must not let the
// operator's DDL queue every insert behind it.
func (s *store) withDDL(ctx context.Context, fn func(tx pgx.Tx) error) error {
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

// ensureMonth creates parent's partition for m when it is missing.
func (s *store) ensureMonth(ctx context.Context, tx pgx.Tx, parent string, m policy.Month) error {
	var created bool
	err := tx.QueryRow(ctx, `
		SELECT to_regclass(format('tracking.%I', $1::text)) IS NULL,
		       tracking.ensure_month_partition($2, $3::date) IS NOT NULL`,
		m.Partition(parent), parent, m.Time).Scan(&created, new(bool))
	if err == nil && created {
		s.ddl("create_month")
	}
	return err
}

// dataMonths returns the months in which org has rows in table.
func (s *store) dataMonths(ctx context.Context, q pgxQuerier, table, orgID string) ([]policy.Month, error) {
	rows, err := q.Query(ctx, fmt.Sprintf(`
		SELECT DISTINCT date_trunc('month', occurred_at AT TIME ZONE 'UTC') FROM %s WHERE organization_id = $1`,
		qualified(table)), orgID)
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

// tableState says whether table exists and whether it is attached to
// tracking.activity_logs.
func (s *store) tableState(ctx context.Context, q pgxQuerier, table string) (exists, attached bool, err error) {
	err = q.QueryRow(ctx, `
		SELECT to_regclass($1) IS NOT NULL,
		       EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass($1) AND inhparent = to_regclass($2))`,
		qualified(table), qualified(rootTable)).Scan(&exists, &attached)
	return exists, attached, err
}

func (s *store) count(ctx context.Context, q pgxQuerier, table, orgID string) (int64, error) {
	var n int64
	err := q.QueryRow(ctx, fmt.Sprintf("SELECT count(*) FROM %s WHERE organization_id = $1", qualified(table)), orgID).Scan(&n)
	return n, err
}
