package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
)

// RetentionBatch bounds the rows one retention transaction deletes, so
// that an organization with years of activity never holds locks or a
// transaction open for long, and never delays another's inserts.
const RetentionBatch = 5000

// Retained is what retention removed of one organization.
type Retained struct {
	OrganizationID string
	// Cutoff is the oldest month kept, in the organization's zone: rows
	// dated before it are gone.
	Cutoff Month
	// Since is the instant that month starts in the organization's zone:
	// retention ends on a local day's bound, so every day kept has its
	// whole activity and its summary.
	Since time.Time
	// Deleted counts the rows removed per table.
	Deleted map[string]int64
}

func (r Retained) String() string {
	return fmt.Sprintf("organization %s kept from %s, deleted %v", r.OrganizationID, r.Cutoff, r.Deleted)
}

// retentionDeletes remove one batch ($3 rows) of an organization's ($1)
// data dated before the cutoff ($2: the instant, or for summaries the
// local date, the kept month starts), table by table: its activity, the
// dedup keys of that activity, its stopped sessions, its summaries and its
// alerts. Every statement names the organization, so no other one's rows
// are ever touched, whichever tree they live in.
var retentionDeletes = []struct {
	table, sql string
	byDate     bool
}{
	{"tracking.activity_logs", `DELETE FROM tracking.activity_logs WHERE (organization_id, occurred_at, id) IN (
		SELECT organization_id, occurred_at, id FROM tracking.activity_logs WHERE organization_id = $1 AND occurred_at < $2 LIMIT $3)`, false},
	{"tracking.activity_dedup", `DELETE FROM tracking.activity_dedup WHERE (user_id, client_activity_id) IN (
		SELECT user_id, client_activity_id FROM tracking.activity_dedup WHERE organization_id = $1 AND occurred_at < $2 LIMIT $3)`, false},
	{"tracking.work_sessions", `DELETE FROM tracking.work_sessions WHERE id IN (
		SELECT id FROM tracking.work_sessions WHERE organization_id = $1 AND status = 'stopped' AND end_time < $2 LIMIT $3)`, false},
	{"reporting.daily_summaries", `DELETE FROM reporting.daily_summaries WHERE id IN (
		SELECT id FROM reporting.daily_summaries WHERE organization_id = $1 AND date < $2::date LIMIT $3)`, true},
	{"reporting.alerts", `DELETE FROM reporting.alerts WHERE id IN (
		SELECT id FROM reporting.alerts WHERE organization_id = $1 AND created_at < $2 LIMIT $3)`, false},
}

// RetentionCutoff is the oldest month an organization keeping retention
// months keeps at now: the current month and the retention-1 before it,
// but never a month inside its accepted window, whose late uploads would
// otherwise be stored and then deleted. The months are the
// organization's local ones, which start up to 14 hours after the UTC
// month: the window is widened by that much.
func RetentionCutoff(now time.Time, retention int, window time.Duration) Month {
	cutoff := MonthOf(now).Add(-(retention - 1))
	if oldest := MonthOf(now.Add(-window - 14*time.Hour)); oldest.Before(cutoff.Time) {
		return oldest
	}
	return cutoff
}

// ApplyRetention deletes, for every organization with its own retention
// (tracking.tenants.retention_months), its rows dated before its
// RetentionCutoff, in batches of RetentionBatch rows. Organizations
// without one keep the installation's retention, which drops whole months
// of the shared tree (the operator's shared storage pass). It is DML
// only, so it takes no schema lock; running it twice at once deletes
// nothing twice.
func (m *Maintainer) ApplyRetention(ctx context.Context) ([]Retained, error) {
	now := m.Clock.Now()
	var orgs []Retained
	err := pg.InTx(ctx, m.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT organization_id::text, retention_months, coalesce(activity_window_days, $1::int), time_zone
			FROM tracking.retention_tenants()`, int(m.Policy.Window/(24*time.Hour)))
		if err != nil {
			return err
		}
		var zones []string
		orgs, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Retained, error) {
			var o Retained
			var retention, windowDays int
			var tz string
			err := r.Scan(&o.OrganizationID, &retention, &windowDays, &tz)
			o.Cutoff = RetentionCutoff(now, retention, Window(windowDays))
			zones = append(zones, tz)
			return o, err
		})
		for i := range orgs {
			if err == nil {
				err = tx.QueryRow(ctx, "SELECT $1::date::timestamp AT TIME ZONE $2", orgs[i].Cutoff.Time, zones[i]).Scan(&orgs[i].Since)
			}
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for i := range orgs {
		if orgs[i].Deleted, err = m.deleteBefore(ctx, orgs[i]); err != nil {
			return orgs[:i], fmt.Errorf("retention of organization %s: %w", orgs[i].OrganizationID, err)
		}
	}
	return orgs, nil
}

// deleteBefore deletes an organization's rows dated before its cutoff,
// one batch per transaction, and counts them per table. Each batch runs in
// the organization's row-level security scope: the operator's role sees
// no other organization's rows even where a statement went wrong.
func (m *Maintainer) deleteBefore(ctx context.Context, r Retained) (map[string]int64, error) {
	deleted := map[string]int64{}
	for _, d := range retentionDeletes {
		before := r.Since
		if d.byDate {
			before = r.Cutoff.Time
		}
		for {
			var n int64
			err := pg.InOrg(ctx, m.DB, r.OrganizationID, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, d.sql, r.OrganizationID, before, RetentionBatch)
				n = tag.RowsAffected()
				return err
			})
			if err != nil {
				return deleted, fmt.Errorf("%s: %w", d.table, err)
			}
			deleted[d.table] += n
			if n < RetentionBatch {
				break
			}
		}
	}
	return deleted, nil
}
