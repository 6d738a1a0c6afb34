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

// A MemberRemover applies the removal of a member to what one service
// owns of them, within the transaction of their organization; u says
// whether to erase it.
type MemberRemover func(ctx context.Context, tx pgx.Tx, u events.UserRemoved) error

// UserConsumer applies user.removed for the service that owns what remove
// changes, in its own consumer group: session stops the member's active
// session and, when erasing, deletes the work sessions; ingest erases the
// activity and its dedup keys.
func UserConsumer(db *pgxpool.Pool, kafka kafkax.ConsumerConfig, group string, remove MemberRemover,
	m *kafkax.ConsumerMetrics, log *slog.Logger) *kafkax.Consumer {
	return kafkax.NewConsumer(kafka.For(group, events.TopicOrganizations),
		func(ctx context.Context, e events.Envelope) error { return ApplyUserEvent(ctx, db, group, remove, e) }, m, log)
}

// ApplyUserEvent applies user.removed once per consumer; every other
// event of the topic changes nothing.
func ApplyUserEvent(ctx context.Context, db *pgxpool.Pool, consumer string, remove MemberRemover, e events.Envelope) error {
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
	return pg.InOrg(ctx, db, e.OrganizationID, func(tx pgx.Tx) error {
		first, err := kafkax.FirstDelivery(ctx, tx, ProcessedTable, consumer, e.ID)
		if err != nil || !first {
			return err
		}
		return remove(ctx, tx, u)
	})
}
