package report

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/kafkax"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// Consumer groups of the report service. The directory (names, tenant
// settings) and the activity stream are consumed separately so that a
// burst of activity never delays a tenant's new settings.
const (
	GroupDirectory = "report-directory"
	GroupActivity  = "report-activity"
	// GroupWebhooks turns alert, session, time request and summary events into webhook
	// deliveries, apart from the others so that a tenant's endpoints never
	// slow down its alerts.
	GroupWebhooks = "report-webhooks"
)

// ActivityBatchWait is how long the activity stream's fetches wait to
// fill: every agent's heartbeat is an event, and a batch costs one
// round trip to PostgreSQL and one commit whatever its size. An idle
// alert is resolved and a late day marked that much later, well inside
// the corrections' own second.
const ActivityBatchWait = 100 * time.Millisecond

// Consumers applies the events the report service listens to.
type Consumers struct {
	db  *pgxpool.Pool
	log *slog.Logger
	// clock stamps resolved alerts and updated settings.
	clock clock.Clock
}

// NewConsumers returns the event handlers over db.
func NewConsumers(db *pgxpool.Pool, log *slog.Logger, clk clock.Clock) *Consumers {
	return &Consumers{db: db, log: log, clock: clk}
}

// Workers returns the consumer loops, for app.Service.Workers; base is
// the service's Kafka (app.Deps.KafkaConsumer).
func (c *Consumers) Workers(base kafkax.ConsumerConfig, m *kafkax.ConsumerMetrics) []func(context.Context) error {
	activity := base.For(GroupActivity, events.TopicActivity, events.TopicSessions)
	activity.Prefilter, activity.BatchWait = c.PrefilterActivity, ActivityBatchWait
	dir := kafkax.NewConsumer(base.For(GroupDirectory, events.TopicOrganizations, events.TopicTenants), c.HandleDirectory, m, c.log)
	act := kafkax.NewConsumer(activity, c.HandleActivity, m, c.log)
	hooks := kafkax.NewConsumer(base.For(GroupWebhooks, events.TopicAlerts, events.TopicSessions, events.TopicTime, events.TopicSummaries), c.HandleWebhooks, m, c.log)
	return []func(context.Context) error{dir.Run, act.Run, hooks.Run}
}

// HandleDirectory stores members (user.created, user.updated), erases
// a removed one's data when asked to (user.removed) and stores tenant
// settings (tenant.updated); other events of those topics are not for us.
func (c *Consumers) HandleDirectory(ctx context.Context, e events.Envelope) error {
	if !isUUID(e.OrganizationID) {
		return fmt.Errorf("%w: organization_id is not a UUID", events.ErrMalformed)
	}
	switch e.Type {
	case events.TypeUserCreated, events.TypeUserUpdated:
		var u events.UserCreated
		if err := e.Payload(&u); err != nil {
			return err
		}
		if u.OrganizationID != e.OrganizationID || !isUUID(u.UserID) {
			return fmt.Errorf("%w: user.created for another organization or without user", events.ErrMalformed)
		}
		return c.once(ctx, e, GroupDirectory, func(tx pgx.Tx) error {
			if err := upsertMember(ctx, tx, u); err != nil {
				return err
			}
			return bumpReportVersion(ctx, tx, u.OrganizationID)
		})
	case events.TypeUserRemoved:
		var u events.UserRemoved
		if err := e.Payload(&u); err != nil {
			return err
		}
		if u.OrganizationID != e.OrganizationID || !isUUID(u.UserID) {
			return fmt.Errorf("%w: user.removed for another organization or without user", events.ErrMalformed)
		}
		if !u.EraseData {
			// Kept: the member's summaries and alerts stay, and so does
			// their name, which their reports are shown under.
			return nil
		}
		return c.once(ctx, e, GroupDirectory, func(tx pgx.Tx) error {
			if err := eraseMember(ctx, tx, u.UserID, c.clock.Now()); err != nil {
				return err
			}
			return bumpReportVersion(ctx, tx, u.OrganizationID)
		})
	case events.TypeTenantUpdated:
		var t events.TenantUpdated
		if err := e.Payload(&t); err != nil {
			return err
		}
		if t.OrganizationID != e.OrganizationID {
			return fmt.Errorf("%w: tenant.updated for another organization", events.ErrMalformed)
		}
		return c.once(ctx, e, GroupDirectory, func(tx pgx.Tx) error {
			tz, err := c.validZone(ctx, tx, t.TimeZone)
			if err != nil {
				return err
			}
			return upsertTenantSettings(ctx, tx, t, tz, c.clock.Now())
		})
	}
	return nil
}

// validZone returns tz when PostgreSQL knows it, else UTC: a tenant with a
// misspelt zone still gets reports, and the problem is logged.
func (c *Consumers) validZone(ctx context.Context, tx pgx.Tx, tz string) (string, error) {
	if tz == "" {
		return "UTC", nil
	}
	ok, err := zoneKnown(ctx, tx, tz)
	if err != nil {
		return "", err
	}
	if !ok {
		c.log.Warn("unknown time zone in tenant settings; using UTC", "time_zone", tz)
		return "UTC", nil
	}
	return tz, nil
}

// HandleActivity resolves the open idle alert of a session when an
// activity.recorded event carries active work after what the alert is
// about, or when the session stops (session.stopped). Most events find
// no open alert and cost one round trip, which also marks the ended days
// the event stored activity on (see PrefilterActivity); only those that
// resolve one cost a transaction and are recorded as processed.
func (c *Consumers) HandleActivity(ctx context.Context, e events.Envelope) error {
	p, err := activityPayload(e)
	if err != nil {
		return err
	}
	if _, _, _, err := lateSpan(e, p); err != nil {
		return err
	}
	sessionID, activeAt, _, err := idleTarget(e, p)
	if err != nil {
		return err
	}
	need, err := c.PrefilterActivity(ctx, []events.Envelope{e})
	if err != nil || !need[0] {
		return err
	}
	return pg.InOrg(ctx, c.db, e.OrganizationID, func(tx pgx.Tx) error {
		first, err := kafkax.FirstDelivery(ctx, tx, processedTable, GroupActivity, e.ID)
		if err != nil || !first {
			return err
		}
		_, err = resolveIdle(ctx, tx, sessionID, activeAt, c.clock.Now())
		return err
	})
}

// idleTarget tells which session's idle alert e, of payload p
// (activityPayload), could resolve (ok), and with active work at which
// time (nil: whatever the alert was about).
func idleTarget(e events.Envelope, p any) (sessionID string, activeAt *time.Time, ok bool, err error) {
	switch a := p.(type) {
	case *events.ActivityRecorded:
		if a.LastActiveAt == nil {
			return "", nil, false, nil
		}
		sessionID, activeAt = a.SessionID, a.LastActiveAt
	case *events.SessionStopped:
		sessionID = a.SessionID
	default:
		return "", nil, false, nil
	}
	if !isUUID(e.OrganizationID) || !isUUID(sessionID) {
		return "", nil, false, fmt.Errorf("%w: organization_id and session_id must be UUIDs", events.ErrMalformed)
	}
	return sessionID, activeAt, true, nil
}

// PrefilterActivity passes on to HandleActivity only the events of
// sessions with an open idle alert, and marks the ended days the batch's
// activity.recorded events stored activity on (a late upload; marking
// twice is harmless, so that needs no record). The whole batch takes one
// statement for each, whatever its number of tenants, in one round trip:
// row-level security is switched to the set of the batch's tenants
// (migration 00212), and each statement keeps every event to its own
// tenant's rows. Events it cannot read go on too, for the handler to report.
func (c *Consumers) PrefilterActivity(ctx context.Context, es []events.Envelope) ([]bool, error) {
	type idleKey struct{ org, session string }
	need := make([]bool, len(es))
	var orgs []string
	inBatch := map[string]bool{}
	add := func(org string) {
		if !inBatch[org] {
			inBatch[org] = true
			orgs = append(orgs, org)
		}
	}
	var lateOrgs []string
	var firsts, lasts []time.Time
	// The events that an open idle alert of their session would need.
	waiting := map[idleKey][]int{}
	var idleOrgs, idleSessions []string
	for i, e := range es {
		p, err := activityPayload(e)
		if err != nil {
			need[i] = true
			continue
		}
		if first, last, ok, err := lateSpan(e, p); err == nil && ok {
			add(e.OrganizationID)
			lateOrgs, firsts, lasts = append(lateOrgs, e.OrganizationID), append(firsts, first), append(lasts, last)
		}
		sessionID, _, ok, err := idleTarget(e, p)
		switch {
		case err != nil:
			need[i] = true
		case ok:
			add(e.OrganizationID)
			k := idleKey{e.OrganizationID, sessionID}
			if waiting[k] == nil {
				idleOrgs, idleSessions = append(idleOrgs, k.org), append(idleSessions, k.session)
			}
			waiting[k] = append(waiting[k], i)
		}
	}
	if len(orgs) == 0 {
		return need, nil
	}
	b := &pgx.Batch{}
	pg.QueueInOrgs(b, orgs)
	if len(lateOrgs) > 0 {
		if err := queueMarkCorrections(b, lateOrgs, firsts, lasts, c.clock.Now()); err != nil {
			return nil, err
		}
	}
	if len(idleOrgs) > 0 {
		if err := queueOpenIdleAlerts(b, idleOrgs, idleSessions, func(org, session string) {
			for _, i := range waiting[idleKey{org, session}] {
				need[i] = true
			}
		}); err != nil {
			return nil, err
		}
	}
	if err := c.db.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	return need, nil
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// once applies fn in the event's tenant unless the event was applied before.
func (c *Consumers) once(ctx context.Context, e events.Envelope, consumer string, fn func(pgx.Tx) error) error {
	return pg.InOrg(ctx, c.db, e.OrganizationID, func(tx pgx.Tx) error {
		first, err := kafkax.FirstDelivery(ctx, tx, processedTable, consumer, e.ID)
		if err != nil || !first {
			return err
		}
		return fn(tx)
	})
}
