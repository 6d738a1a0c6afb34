package tracking

import (
	"context"
	"log/slog"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// An Eraser deletes what one service owns of a removed member, within the
// transaction of their organization.
type Eraser func(ctx context.Context, tx pgx.Tx, userID string) error

// UserConsumer applies user.removed for the service that owns what erase
// deletes, in its own consumer group: session erases the work sessions,
// ingest the activity and its dedup keys.
func UserConsumer(db *pgxpool.Pool, brokers []string, sec kafkax.Security, maxAttempts int, group string, erase Eraser,
	m *kafkax.ConsumerMetrics, log *slog.Logger) *kafkax.Consumer {
	return kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: brokers, Security: sec, GroupID: group, Topics: []string{events.TopicOrganizations},
		MaxAttempts: maxAttempts},
		func(ctx context.Context, e events.Envelope) error { return ApplyUserEvent(ctx, db, group, erase, e) }, m, log)
}

// ApplyUserEvent erases a removed member's data once per consumer when
// the admin chose to erase it; every other event of the topic, and a
// removal that keeps the data, changes nothing.
func ApplyUserEvent(ctx context.Context, db *pgxpool.Pool, consumer string, erase Eraser, e events.Envelope) error {
	if e.Type != events.TypeUserRemoved {
		return nil
	}
	var u events.UserRemoved
	if err := e.Payload(&u); err != nil {
		return err
	}
	if u.OrganizationID != e.OrganizationID || u.UserID == "" {
		return events.ErrMalformed
	}
	if !u.EraseData {
		return nil
	}
	return pg.InOrg(ctx, db, e.OrganizationID, func(tx pgx.Tx) error {
		first, err := kafkax.FirstDelivery(ctx, tx, ProcessedTable, consumer, e.ID)
		if err != nil || !first {
			return err
		}
		return erase(ctx, tx, u.UserID)
	})
}
