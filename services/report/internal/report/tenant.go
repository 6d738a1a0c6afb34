package report

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

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

// emitSummaryReady publishes that the summaries of org's local day are
// computed, in the transaction that computed them.
func emitSummaryReady(ctx context.Context, tx pgx.Tx, org string, day time.Time, users int64, now time.Time) error {
	ev, err := events.New(now, source, events.TypeSummaryReady, org, org, events.SummaryReady{
		OrganizationID: org, Date: day.Format(time.DateOnly), Users: users, ComputedAt: now.UTC()})
	if err != nil {
		return err
	}
	return outbox.Enqueue(ctx, tx, OutboxTable, ev)
}

// emitAll publishes every alert of alerts as eventType.
func emitAll(ctx context.Context, tx pgx.Tx, alerts []Alert, eventType string) (int, error) {
	for _, a := range alerts {
		if err := emitAlert(ctx, tx, eventType, a); err != nil {
			return 0, err
		}
	}
	return len(alerts), nil
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
