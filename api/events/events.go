// Package events defines the one envelope every WorkPulse event travels in
// and the payload of each event type. Producers write envelopes through the
// transactional outbox; consumers decode them and use Envelope.ID to apply
// each event at most once.
package events

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Topics group event types by the aggregate that emits them, so that a
// consumer subscribes only to what it needs and per-key ordering holds
// within one aggregate.
const (
	TopicOrganizations = "workpulse.organizations.v1"
	TopicSessions      = "workpulse.sessions.v1"
	TopicActivity      = "workpulse.activity.v1"
	TopicAlerts        = "workpulse.alerts.v1"
	TopicTenants       = "workpulse.tenants.v1"
	// TopicTime carries the steps of time requests (manual entries and
	// session edits), apart from the activity stream so that their few
	// events are not read among every heartbeat.
	TopicTime = "workpulse.time.v1"
	// TopicSummaries says when an organization's daily summaries are
	// ready: one event per organization and day.
	TopicSummaries = "workpulse.summaries.v1"
)

// EventTopics are the topics events are published on.
var EventTopics = []string{TopicOrganizations, TopicSessions, TopicActivity, TopicAlerts, TopicTenants, TopicTime, TopicSummaries}

// DeadLetterTopic is where a consumer of topic puts the events it can
// never apply (malformed, or failing every attempt), so that they stop
// holding back the events behind them on their partition.
func DeadLetterTopic(topic string) string { return topic + ".dlq" }

// AllTopics lists every topic, the dead-letter ones too, so that brokers
// can be prepared at start-up.
var AllTopics = func() []string {
	all := slices.Clone(EventTopics)
	for _, t := range EventTopics {
		all = append(all, DeadLetterTopic(t))
	}
	return all
}()

// Event types.
const (
	TypeOrganizationCreated = "organization.created"
	TypeUserCreated         = "user.created"
	// TypeUserUpdated carries a member's new name or role, in the payload
	// of user.created.
	TypeUserUpdated = "user.updated"
	// TypeUserRemoved tells the owners of a removed member's data to
	// erase it when the admin chose to (UserRemoved.EraseData).
	TypeUserRemoved      = "user.removed"
	TypeSessionStarted   = "session.started"
	TypeSessionStopped   = "session.stopped"
	TypeActivityRecorded = "activity.recorded"
	// TypeActivityCorrected carries a session's totals after a correction
	// of its recorded time (an idle decision) and the span it changed.
	TypeActivityCorrected = "activity.corrected"
	TypeAlertRaised       = "alert.raised"
	TypeAlertResolved     = "alert.resolved"
	TypeTenantUpdated     = "tenant.updated"
	// A time request was filed, approved or rejected (payload TimeRequest).
	TypeTimeRequested = "time.requested"
	TypeTimeApproved  = "time.approved"
	TypeTimeRejected  = "time.rejected"
	// TypeSummaryReady: the daily summaries of an organization's local
	// day are computed (payload SummaryReady).
	TypeSummaryReady = "summary.ready"
)

// TopicFor returns the topic an event type is published on.
func TopicFor(eventType string) (string, error) {
	switch eventType {
	case TypeOrganizationCreated, TypeUserCreated, TypeUserUpdated, TypeUserRemoved:
		return TopicOrganizations, nil
	case TypeSessionStarted, TypeSessionStopped:
		return TopicSessions, nil
	case TypeActivityRecorded, TypeActivityCorrected:
		return TopicActivity, nil
	case TypeAlertRaised, TypeAlertResolved:
		return TopicAlerts, nil
	case TypeTenantUpdated:
		return TopicTenants, nil
	case TypeTimeRequested, TypeTimeApproved, TypeTimeRejected:
		return TopicTime, nil
	case TypeSummaryReady:
		return TopicSummaries, nil
	}
	return "", fmt.Errorf("events: unknown event type %q", eventType)
}

// Envelope is the single wire format of every event.
type Envelope struct {
	// ID is unique per event; consumers store it to apply an event once.
	ID   string `json:"id"`
	Type string `json:"type"`
	// Source names the emitting service.
	Source         string `json:"source"`
	OrganizationID string `json:"organization_id"`
	// Key orders events: events with the same key land on one partition.
	Key  string          `json:"key"`
	Time time.Time       `json:"time"`
	Data json.RawMessage `json:"data"`
}

// New builds an envelope with a fresh random ID around a typed payload,
// stamped at, the producer's clock reading.
func New(at time.Time, source, eventType, organizationID, key string, data any) (Envelope, error) {
	if _, err := TopicFor(eventType); err != nil {
		return Envelope{}, err
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return Envelope{}, fmt.Errorf("events: encode %s: %w", eventType, err)
	}
	if key == "" {
		key = organizationID
	}
	return Envelope{ID: newUUID(), Type: eventType, Source: source, OrganizationID: organizationID,
		Key: key, Time: at.UTC(), Data: raw}, nil
}

// ErrMalformed marks an event that can never be processed; consumers skip
// it rather than retrying forever.
var ErrMalformed = errors.New("events: malformed event")

// Decode parses and validates an envelope.
func Decode(b []byte) (Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return Envelope{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if e.ID == "" || e.Type == "" || e.OrganizationID == "" || len(e.Data) == 0 {
		return Envelope{}, fmt.Errorf("%w: id, type, organization_id and data are required", ErrMalformed)
	}
	// Consumers key their idempotency records and row-level security on
	// these: anything but a UUID would fail there on every attempt.
	if !isUUID(e.ID) || !isUUID(e.OrganizationID) {
		return Envelope{}, fmt.Errorf("%w: id and organization_id must be UUIDs", ErrMalformed)
	}
	return e, nil
}

// Payload decodes the envelope's data into v.
func (e Envelope) Payload(v any) error {
	if err := json.Unmarshal(e.Data, v); err != nil {
		return fmt.Errorf("%w: %s data: %v", ErrMalformed, e.Type, err)
	}
	return nil
}

// isUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case '0' <= c && c <= '9', 'a' <= c && c <= 'f', 'A' <= c && c <= 'F':
		default:
			return false
		}
	}
	return true
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
