package report

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/segmentio/kafka-go"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/outbox"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestEventsFlowThroughKafka runs the consumers and the outbox relay
// against a broker: directory events land in the database, an idle alert
// goes out as alert.raised, and active work on the session resolves it
// and goes out as alert.resolved.
func TestEventsFlowThroughKafka(t *testing.T) {
	e := newEnv(t)
	brokers := testkit.Kafka(t)
	ctx, writer := e.runConsumers(t, brokers, func(w *kafka.Writer) func(context.Context) error {
		return outbox.NewRelay(e.pool, OutboxTable, w, nil, e.log).Run
	})

	org, user := uuid.NewString(), uuid.NewString()
	publish := func(typ string, data any) {
		t.Helper()
		ev, err := events.New(e.clock.Now(), "test", typ, org, user, data)
		if err != nil {
			t.Fatal(err)
		}
		topic, _ := events.TopicFor(typ)
		raw, _ := json.Marshal(ev)
		if err := writer.WriteMessages(ctx, kafka.Message{Topic: topic, Key: []byte(ev.Key), Value: raw}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor := func(what, sql string, args ...any) {
		t.Helper()
		eventually(t, 30*time.Second, what, func() bool { return e.count(sql, args...) > 0 })
	}

	publish(events.TypeUserCreated, events.UserCreated{UserID: user, OrganizationID: org, Email: "ada@example.com", Name: "Ada", Role: "employee"})
	publish(events.TypeTenantUpdated, events.TenantUpdated{OrganizationID: org, TenantSettings: events.TenantSettings{TimeZone: "Europe/Berlin", IdleThresholdSeconds: 120, Generation: 1}})
	waitFor("user.created", "SELECT count(*) FROM reporting.users WHERE user_id = $1", user)
	waitFor("tenant.updated", "SELECT count(*) FROM reporting.tenant_settings WHERE organization_id = $1 AND idle_threshold_seconds = 120", org)

	now := e.clock.Now()
	e.partitions(now)
	last := now.Add(-15 * time.Minute)
	sess := e.session(org, user, now.Add(-time.Hour), nil, &last)
	e.activities(org, user, sess, act{at: last, typ: "active", dur: 30})
	if res, err := e.jobs.DetectIdle(ctx, org); err != nil || res.Raised != 1 {
		t.Fatalf("idle detection: %+v %v", res, err)
	}
	active := now.Add(time.Second)
	publish(events.TypeActivityRecorded, events.ActivityRecorded{Session: events.Session{SessionID: sess, OrganizationID: org, UserID: user,
		Status: "active", LastActivityAt: &active}, Stored: 1, ActiveSeconds: 30, LastActiveAt: &active})
	waitFor("auto-resolve", "SELECT count(*) FROM reporting.alerts WHERE session_id = $1 AND resolved_at IS NOT NULL", sess)

	r := kafka.NewReader(kafka.ReaderConfig{Brokers: brokers, GroupID: "test-" + uuid.NewString(), GroupTopics: []string{events.TopicAlerts},
		StartOffset: kafka.FirstOffset, MaxWait: 100 * time.Millisecond})
	defer r.Close()
	rctx, rcancel := context.WithTimeout(ctx, 30*time.Second)
	defer rcancel()
	seen := map[string]events.Alert{}
	for len(seen) < 2 {
		m, err := r.ReadMessage(rctx)
		if err != nil {
			t.Fatalf("reading alerts (seen %v): %v", seen, err)
		}
		ev, err := events.Decode(m.Value)
		if err != nil {
			t.Fatal(err)
		}
		var a events.Alert
		if err := ev.Payload(&a); err != nil {
			t.Fatal(err)
		}
		if a.SessionID != nil && *a.SessionID == sess {
			seen[ev.Type] = a
		}
	}
	raised, resolved := seen[events.TypeAlertRaised], seen[events.TypeAlertResolved]
	if raised.AlertType != "idle" || raised.ResolvedAt != nil || raised.UserID != user || raised.Message == "" {
		t.Errorf("alert.raised %+v", raised)
	}
	if resolved.AlertID != raised.AlertID || resolved.ResolvedAt == nil {
		t.Errorf("alert.resolved %+v for raised %+v", resolved, raised)
	}
}
