package storage

import (
	"context"
	"errors"
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
// local date, its oldest kept local month starts), table by table: its activity, the
// dedup keys of that activity, its stopped sessions, its summaries, its
// alerts and its audit log. Every statement names the organization, so no other one's rows
// are ever touched, whichever tree they live in.
var retentionDeletes = []struct {
	table, sql string
	byDate     bool
}{
	{"tracking.activity_logs", `DELETE FROM tracking.activity_logs WHERE (organization_id, occurred_at, id) IN (
		SELECT organization_id, occurred_at, id FROM tracking.activity_logs WHERE organization_id = $1 AND occurred_at < $2 LIMIT $3)`, false},
	{"tracking.activity_dedup", `DELETE FROM tracking.activity_dedup WHERE (user_id, client_activity_id) IN (
		SELECT user_id, client_activity_id FROM tracking.activity_dedup WHERE organization_id = $1 AND occurred_at < $2 LIMIT $3)`, false},
	// A session ends after it starts: the start bounds the index range to
	// the organization's sessions begun before the cutoff.
	{"tracking.work_sessions", `DELETE FROM tracking.work_sessions WHERE id IN (
		SELECT id FROM tracking.work_sessions WHERE organization_id = $1 AND start_time < $2 AND status = 'stopped' AND end_time < $2 LIMIT $3)`, false},
	{"reporting.daily_summaries", `DELETE FROM reporting.daily_summaries WHERE id IN (
		SELECT id FROM reporting.daily_summaries WHERE organization_id = $1 AND date < $2::date LIMIT $3)`, true},
	{"reporting.alerts", `DELETE FROM reporting.alerts WHERE id IN (
		SELECT id FROM reporting.alerts WHERE organization_id = $1 AND created_at < $2 LIMIT $3)`, false},
	{"auth.audit_log", `DELETE FROM auth.audit_log WHERE id IN (
		SELECT id FROM auth.audit_log WHERE organization_id = $1 AND occurred_at < $2 LIMIT $3)`, false},
}

// KeepFrom is the first instant an organization in zone (nil: UTC) keeping
// months months keeps at now: the start of the local month months-1
// before the local month holding now. The months are the organization's
// own: on the evening of 31 May in New York, already June in UTC, May is
// still its current month, and its oldest kept month begins a month
// earlier than the UTC calendar says.
func KeepFrom(now time.Time, zone *time.Location, months int) time.Time {
	if zone == nil {
		zone = time.UTC
	}
	local := now.In(zone)
	first := time.Date(local.Year(), local.Month()-time.Month(months-1), 1, 0, 0, 0, 0, time.UTC)
	return dayStart(first, zone)
}

// dayStart is the first instant of day's date in zone. Where the clocks
// jump over midnight (Asunción on 1 October 2023) there is no local
// midnight: the day begins at the jump, as PostgreSQL, which decides the
// summaries' local days, reads it.
func dayStart(day time.Time, zone *time.Location) time.Time {
	t := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, zone)
	if l := t.In(zone); l.Day() != day.Day() {
		_, jump := t.ZoneBounds()
		return jump
	}
	return t
}

// RetentionKeepFrom is KeepFrom, but never later than the start of the
// local month holding the oldest timestamp the accepted window takes:
// late uploads accepted there would otherwise be stored and then deleted.
func RetentionKeepFrom(now time.Time, zone *time.Location, months int, window time.Duration) time.Time {
	keep := KeepFrom(now, zone, months)
	if oldest := KeepFrom(now.Add(-window), zone, 1); oldest.Before(keep) {
		return oldest
	}
	return keep
}

// Organization is one organization as retention sees it
// (tracking.retention_organizations).
type Organization struct {
	ID string
	// ZoneName is its time zone, Zone that zone loaded; Zone is nil when
	// this binary does not know the name, and then retention leaves the
	// organization alone rather than guess its days.
	ZoneName string
	Zone     *time.Location
	// Retention (months) and Window are its own, 0 where it keeps the
	// installation's.
	Retention int
	Window    time.Duration
	// Shared is true when its activity lives in the shared tree.
	Shared bool
}

// Organizations lists every organization retention applies to: every one
// registered or known to tracking, whether or not it set a retention.
func Organizations(ctx context.Context, db pg.Beginner) ([]Organization, error) {
	var out []Organization
	err := pg.InTx(ctx, db, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT organization_id::text, coalesce(retention_months, 0), coalesce(activity_window_days, 0), time_zone, shared
			FROM tracking.retention_organizations()`)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Organization, error) {
			var o Organization
			var days int
			err := r.Scan(&o.ID, &o.Retention, &days, &o.ZoneName, &o.Shared)
			o.Window = Window(days)
			if z, zerr := time.LoadLocation(o.ZoneName); zerr == nil && o.ZoneName != "Local" {
				o.Zone = z
			}
			return o, err
		})
		return err
	})
	return out, err
}

// KeepFrom is the first instant o keeps at now: RetentionKeepFrom with its
// own retention and window, or the installation's where it set none.
func (p Policy) KeepFrom(o Organization, now time.Time) time.Time {
	retention, window := o.Retention, o.Window
	if retention == 0 {
		retention = p.Retention
	}
	if window == 0 {
		window = p.Window
	}
	return RetentionKeepFrom(now, o.Zone, retention, window)
}

// ApplyRetention deletes, for every organization, its rows dated before
// its Policy.KeepFrom, in batches of RetentionBatch rows: its own
// retention where it set one, the installation's (SHARED_RETENTION_MONTHS)
// otherwise, counted in its local months. Whole months of the shared tree
// are dropped by the operator's shared storage pass; this removes what
// dropping months cannot: one organization's rows among others', its
// summaries, dedup keys, stopped sessions, alerts and audit log. It is DML
// only, so it takes no schema lock; running it twice at once deletes
// nothing twice. One statement first finds the organizations holding
// anything expired (retentionDue), and only those get deletes: in most
// hours that is none. It returns what was removed of those. An
// organization whose zone this binary does not know is skipped and
// reported in the error; the others are still done.
func (m *Maintainer) ApplyRetention(ctx context.Context) ([]Retained, error) {
	if m.Policy.Retention < 1 {
		return nil, errors.New("storage: the installation's retention (SHARED_RETENTION_MONTHS) is not set")
	}
	orgs, err := Organizations(ctx, m.DB)
	if err != nil {
		return nil, err
	}
	now := m.Clock.Now()
	var cutoffs []Retained
	var skipped []error
	for _, o := range orgs {
		if o.Zone == nil {
			skipped = append(skipped, fmt.Errorf("retention of organization %s: time zone %q is unknown here, nothing deleted", o.ID, o.ZoneName))
			continue
		}
		since := m.Policy.KeepFrom(o, now)
		local := since.In(o.Zone)
		cutoffs = append(cutoffs, Retained{OrganizationID: o.ID, Cutoff: Month{time.Date(local.Year(), local.Month(), 1, 0, 0, 0, 0, time.UTC)}, Since: since})
	}
	due, err := m.retentionDue(ctx, cutoffs)
	if err != nil {
		return nil, err
	}
	var done []Retained
	for _, r := range due {
		if r.Deleted, err = m.deleteBefore(ctx, r); err != nil {
			return done, fmt.Errorf("retention of organization %s: %w", r.OrganizationID, err)
		}
		done = append(done, r)
	}
	return done, errors.Join(skipped...)
}

// retentionDue keeps of cutoffs the organizations that hold a row dated
// before their cutoff in any table retention deletes from, in one
// statement (tracking.retention_due).
func (m *Maintainer) retentionDue(ctx context.Context, cutoffs []Retained) ([]Retained, error) {
	ids, since, days := make([]string, len(cutoffs)), make([]time.Time, len(cutoffs)), make([]string, len(cutoffs))
	byID := make(map[string]Retained, len(cutoffs))
	for i, r := range cutoffs {
		ids[i], since[i], days[i] = r.OrganizationID, r.Since, r.Cutoff.Format(time.DateOnly)
		byID[r.OrganizationID] = r
	}
	var due []Retained
	err := pg.InTx(ctx, m.DB, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT id::text FROM tracking.retention_due($1::uuid[], $2::timestamptz[], $3::date[]) id", ids, since, days)
		if err != nil {
			return err
		}
		found, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, id := range found {
			due = append(due, byID[id])
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("retention: organizations with expired rows: %w", err)
	}
	return due, nil
}

// deleteBefore deletes an organization's rows dated before its cutoff,
// one batch per transaction, and counts them per table. Each batch runs in
// the organization's row-level security scope: the operator's role sees
// no other organization's rows even where a statement went wrong.
func (m *Maintainer) deleteBefore(ctx context.Context, r Retained) (map[string]int64, error) {
	deleted := map[string]int64{}
	for _, d := range retentionDeletes {
		var before any = r.Since
		if d.byDate {
			// The first local date kept, as a date: a timestamp would be
			// cast in the session's zone.
			before = r.Cutoff.Format(time.DateOnly)
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
