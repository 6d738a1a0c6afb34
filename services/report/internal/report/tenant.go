package report

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/outbox"
)

// OutboxTable is where report's events wait for the relay.
const OutboxTable = "reporting.outbox"

const (
	processedTable = "reporting.processed_events"
	source         = "report"
)

// Settings are one tenant's effective settings.
type Settings struct {
	TimeZone          string
	InactiveThreshold time.Duration
	IdleThreshold     time.Duration
	OvertimeThreshold time.Duration
}

// settings reads the tenant of tx, filling what it did not set from cfg.
func (c Config) settings(ctx context.Context, tx pgx.Tx, org string) (Settings, error) {
	s := Settings{TimeZone: "UTC", InactiveThreshold: c.InactiveThreshold, IdleThreshold: c.IdleThreshold,
		OvertimeThreshold: c.OvertimeThreshold}
	var inactive, idle, overtime *int32
	err := tx.QueryRow(ctx, `SELECT time_zone, inactive_threshold_seconds, idle_threshold_seconds, overtime_threshold_hours
		FROM reporting.tenant_settings WHERE organization_id = $1`, org).Scan(&s.TimeZone, &inactive, &idle, &overtime)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, nil
	}
	if err != nil {
		return s, err
	}
	if inactive != nil {
		s.InactiveThreshold = time.Duration(*inactive) * time.Second
	}
	if idle != nil {
		s.IdleThreshold = time.Duration(*idle) * time.Second
	}
	if overtime != nil {
		s.OvertimeThreshold = time.Duration(*overtime) * time.Hour
	}
	return s, nil
}

// localDay returns the tenant-local date at t and the UTC bounds of that
// day. PostgreSQL's zone database does the arithmetic, so that a day
// across a DST change is 23 or 25 hours long.
func localDay(ctx context.Context, tx pgx.Tx, tz string, t time.Time) (day, lo, hi time.Time, err error) {
	err = tx.QueryRow(ctx, `SELECT d, d::timestamp AT TIME ZONE $2, (d + 1)::timestamp AT TIME ZONE $2
		FROM (SELECT ($1::timestamptz AT TIME ZONE $2)::date AS d) x`, t, tz).Scan(&day, &lo, &hi)
	return day, lo, hi, err
}

// dayBounds returns the UTC bounds of the tenant-local date day.
func dayBounds(ctx context.Context, tx pgx.Tx, tz string, day time.Time) (lo, hi time.Time, err error) {
	err = tx.QueryRow(ctx, `SELECT $1::date::timestamp AT TIME ZONE $2, ($1::date + 1)::timestamp AT TIME ZONE $2`,
		day, tz).Scan(&lo, &hi)
	return lo, hi, err
}

// lockTenant serializes one kind of job for one tenant until tx ends, so
// that two runs of a job at the same time take turns instead of racing.
func lockTenant(ctx context.Context, tx pgx.Tx, job, org string) error {
	_, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", "report:"+job, org)
	return err
}

// TenantIDs lists every tenant the report service knows of, through the
// one definer function that may look across tenants.
func TenantIDs(ctx context.Context, db *pgxpool.Pool) ([]string, error) {
	rows, err := db.Query(ctx, "SELECT id::text FROM reporting.tenant_ids() AS id ORDER BY 1")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// Alert is an idle or overtime alert as the API shows it.
type Alert struct {
	ID             string     `json:"id"`
	OrganizationID string     `json:"organization_id"`
	UserID         string     `json:"user_id"`
	SessionID      *string    `json:"session_id"`
	AlertType      string     `json:"alert_type"`
	Message        string     `json:"message"`
	Date           *string    `json:"date,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	ResolvedAt     *time.Time `json:"resolved_at"`
}

// alertCols lists an alert's columns for scanAlert, of table alias p.
func alertCols(p string) string {
	return fmt.Sprintf("%[1]sid::text, %[1]sorganization_id::text, %[1]suser_id::text, %[1]ssession_id::text, %[1]salert_type, "+
		"%[1]smessage, to_char(%[1]slocal_date, 'YYYY-MM-DD'), %[1]screated_at, %[1]sresolved_at", p)
}

var alertColumns = alertCols("")

func scanAlert(row pgx.Row) (Alert, error) {
	var a Alert
	err := row.Scan(&a.ID, &a.OrganizationID, &a.UserID, &a.SessionID, &a.AlertType, &a.Message, &a.Date, &a.CreatedAt, &a.ResolvedAt)
	return a, err
}

// emitAlert publishes a raised or resolved alert through the outbox, in
// the transaction that raised or resolved it, stamped when that happened.
func emitAlert(ctx context.Context, tx pgx.Tx, eventType string, a Alert) error {
	at := a.CreatedAt
	if a.ResolvedAt != nil {
		at = *a.ResolvedAt
	}
	ev, err := events.New(at, source, eventType, a.OrganizationID, a.UserID, events.Alert{
		AlertID: a.ID, OrganizationID: a.OrganizationID, UserID: a.UserID, SessionID: a.SessionID,
		AlertType: a.AlertType, Message: a.Message, CreatedAt: a.CreatedAt.UTC(), ResolvedAt: utcPtr(a.ResolvedAt)})
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, OutboxTable, ev)
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
