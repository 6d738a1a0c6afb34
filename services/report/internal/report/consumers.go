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
)

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

// Workers returns the consumer loops, for app.Service.Workers.
func (c *Consumers) Workers(brokers []string, sec kafkax.Security, maxAttempts int, m *kafkax.ConsumerMetrics) []func(context.Context) error {
	dir := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: brokers, Security: sec, GroupID: GroupDirectory, MaxAttempts: maxAttempts,
		Topics: []string{events.TopicOrganizations, events.TopicTenants}}, c.HandleDirectory, m, c.log)
	act := kafkax.NewConsumer(kafkax.ConsumerConfig{Brokers: brokers, Security: sec, GroupID: GroupActivity, MaxAttempts: maxAttempts,
		Topics: []string{events.TopicActivity, events.TopicSessions}, Prefilter: c.PrefilterActivity}, c.HandleActivity, m, c.log)
	return []func(context.Context) error{dir.Run, act.Run}
}

// HandleDirectory stores members (user.created) and tenant settings
// (tenant.updated); other events of those topics are not for us.
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
// no open alert and cost one index probe; only those that resolve one are
// recorded as processed.
//
// An activity.recorded event that stored activity on days that have
// ended marks them for correction (see markLateDays); marking twice is
// harmless, so that needs no record.
func (c *Consumers) HandleActivity(ctx context.Context, e events.Envelope) error {
	if _, _, _, err := lateSpan(e); err != nil {
		return err
	}
	if err := c.markLateDays(ctx, []events.Envelope{e}); err != nil {
		return err
	}
	sessionID, activeAt, ok, err := idleTarget(e)
	if err != nil || !ok {
		return err
	}
	// Nearly every event finds no open alert: one round trip tells, and
	// only an open alert costs a transaction.
	var open bool
	if err := pg.QueryRowInOrg(ctx, c.db, e.OrganizationID, openIdleAlertSQL, func(r pgx.Row) error { return r.Scan(&open) }, sessionID); err != nil || !open {
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

// idleTarget tells which session's idle alert e could resolve (ok), and
// with active work at which time (nil: whatever the alert was about).
func idleTarget(e events.Envelope) (sessionID string, activeAt *time.Time, ok bool, err error) {
	switch e.Type {
	case events.TypeActivityRecorded:
		var a events.ActivityRecorded
		if err := e.Payload(&a); err != nil {
			return "", nil, false, err
		}
		if a.LastActiveAt == nil {
			return "", nil, false, nil
		}
		sessionID, activeAt = a.SessionID, a.LastActiveAt
	case events.TypeSessionStopped:
		var s events.SessionStopped
		if err := e.Payload(&s); err != nil {
			return "", nil, false, err
		}
		sessionID = s.SessionID
	default:
		return "", nil, false, nil
	}
	if !isUUID(e.OrganizationID) || !isUUID(sessionID) {
		return "", nil, false, fmt.Errorf("%w: organization_id and session_id must be UUIDs", events.ErrMalformed)
	}
	return sessionID, activeAt, true, nil
}

// PrefilterActivity passes on to HandleActivity only the events of
// sessions with an open idle alert, found with one query per tenant of
// the batch instead of one per event, after marking the batch's late
// days, also one statement per tenant. Events it cannot read go on too,
// for the handler to report.
func (c *Consumers) PrefilterActivity(ctx context.Context, es []events.Envelope) ([]bool, error) {
	if err := c.markLateDays(ctx, es); err != nil {
		return nil, err
	}
	need := make([]bool, len(es))
	candidates := map[string]map[string][]int{} // organization -> session -> events
	for i, e := range es {
		sessionID, _, ok, err := idleTarget(e)
		switch {
		case err != nil:
			need[i] = true
		case ok:
			if candidates[e.OrganizationID] == nil {
				candidates[e.OrganizationID] = map[string][]int{}
			}
			candidates[e.OrganizationID][sessionID] = append(candidates[e.OrganizationID][sessionID], i)
		}
	}
	for org, sessions := range candidates {
		ids := make([]string, 0, len(sessions))
		for id := range sessions {
			ids = append(ids, id)
		}
		var open []string
		if err := pg.QueryRowInOrg(ctx, c.db, org, openIdleAlertsSQL, func(r pgx.Row) error { return r.Scan(&open) }, ids); err != nil {
			return nil, err
		}
		for _, id := range open {
			for _, i := range sessions[id] {
				need[i] = true
			}
		}
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
