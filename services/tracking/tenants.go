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

// TenantConsumer keeps tracking.tenants in step with the operator's
// tenant.updated events. Each service runs it in its own consumer group,
// so each learns of a suspension itself; both write the same row, which
// the generation guard makes harmless.
func TenantConsumer(db *pgxpool.Pool, kafka kafkax.ConsumerConfig, group string, m *kafkax.ConsumerMetrics, log *slog.Logger) *kafkax.Consumer {
	return kafkax.NewConsumer(kafka.For(group, events.TopicTenants),
		func(ctx context.Context, e events.Envelope) error { return ApplyTenantEvent(ctx, db, group, e) }, m, log)
}

// ApplyTenantEvent applies one event of the tenants topic once per
// consumer; events older than the stored generation change nothing.
func ApplyTenantEvent(ctx context.Context, db *pgxpool.Pool, consumer string, e events.Envelope) error {
	if e.Type != events.TypeTenantUpdated {
		return nil
	}
	var t events.TenantUpdated
	if err := e.Payload(&t); err != nil {
		return err
	}
	if t.OrganizationID != e.OrganizationID {
		return events.ErrMalformed
	}
	tz := t.TimeZone
	if tz == "" {
		tz = "UTC"
	}
	return pg.InOrg(ctx, db, e.OrganizationID, func(tx pgx.Tx) error {
		first, err := kafkax.FirstDelivery(ctx, tx, ProcessedTable, consumer, e.ID)
		if err != nil || !first {
			return err
		}
		return upsertTenant(ctx, tx, e.OrganizationID, t, tz)
	})
}
