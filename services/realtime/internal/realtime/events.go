package realtime

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/tracking"
)

// Names of the messages, on /api/ws and as Socket.IO events.
const (
	EventSessionState  = "session:state"
	EventRequestState  = "session:request-state"
	EventUserOnline    = "user:online"
	EventUserOffline   = "user:offline"
	EventSessionUpdate = "session:update"
	EventAlertInactive = "alert:inactive"
	EventAlertOvertime = "alert:overtime"
	EventPing          = "ping"
	EventPong          = "pong"
	EventError         = "error"

	alertTypeIdle     = "idle"
	alertTypeOvertime = "overtime"
)

// Topics the service consumes.
var consumedTopics = []string{events.TopicOrganizations, events.TopicSessions, events.TopicActivity, events.TopicAlerts}

// wire is one message on the WebSocket.
type wire struct {
	Event     string    `json:"event"`
	Data      any       `json:"data"`
	Timestamp time.Time `json:"timestamp"`
}

func encode(event string, data any, at time.Time) ([]byte, error) {
	return json.Marshal(wire{Event: event, Data: data, Timestamp: at.UTC()})
}

// userPresence is the data of user:online and user:offline.
type userPresence struct {
	UserID         string `json:"user_id"`
	Name           string `json:"name"`
	OrganizationID string `json:"organization_id"`
}

// sessionUpdate is the data of session:update.
type sessionUpdate struct {
	SessionID          string     `json:"session_id"`
	UserID             string     `json:"user_id"`
	TotalActiveSeconds int64      `json:"total_active_seconds"`
	TotalIdleSeconds   int64      `json:"total_idle_seconds"`
	LastActivityAt     *time.Time `json:"last_activity_at"`
	// LastActivityType is whether that activity was active or idle
	// (absent from the events of earlier releases).
	LastActivityType *string `json:"last_activity_type,omitempty"`
}

// The data of the Socket.IO events, in the shapes of the original
// system's gateway: user:online and user:offline and the alerts;
// session:update carries the tracking core's SessionState (the contract's
// session object without created_at and updated_at, which events do not
// carry).
type (
	sioPresence struct {
		UserID    string    `json:"userId"`
		UserName  string    `json:"userName"`
		Timestamp time.Time `json:"timestamp"`
	}
	sioAlert struct {
		SessionID *string   `json:"sessionId"`
		Message   string    `json:"message"`
		Timestamp time.Time `json:"timestamp"`
	}
	// sioPong answers a ping emitted without an ack.
	sioPong struct {
		Timestamp time.Time `json:"timestamp"`
	}
)

// presenceChange travels on the Redis presence channel when a user's
// first connection opens or last one closes anywhere in the cluster.
type presenceChange struct {
	Event string       `json:"event"`
	User  userPresence `json:"user"`
	Time  time.Time    `json:"time"`
}

// boardEvents are the event types handleEvent sends to connections, all
// about a member of the event's organization.
var boardEvents = map[string]bool{
	events.TypeSessionStarted: true, events.TypeSessionStopped: true,
	events.TypeActivityRecorded: true, events.TypeActivityCorrected: true, events.TypeAlertRaised: true,
}

// unwatched tells the consumer (kafkax.ConsumerConfig.Skip) to pass over
// an event for the board of an organization that has no connection here:
// only its connections would receive it. Agents post all day in every
// organization while a few boards are open, so most events end here,
// before their envelope is decoded (and, for presence, before the member's
// name is looked up in Redis). A malformed one then goes unnoticed by this
// replica, which would only have dead-lettered it. The directory's events
// are always applied.
func (s *Server) unwatched(eventType, organizationID string) bool {
	return boardEvents[eventType] && !s.hub.watches(organizationID)
}

// handleEvent turns a Kafka event into WebSocket messages for this
// replica's clients. Delivery is not deduplicated: every replica reads
// with a fresh consumer group from the end of the topics, so an event is
// redelivered only when the reader is replaced before its periodic offset
// commit, and a repeated notification is harmless to a dashboard. Most
// events never get here (see unwatched).
func (s *Server) handleEvent(ctx context.Context, e events.Envelope) error {
	switch e.Type {
	case events.TypeUserCreated, events.TypeUserUpdated:
		var u events.UserCreated
		if err := e.Payload(&u); err != nil {
			return err
		}
		if err := sameOrg(e, u.OrganizationID); err != nil {
			return err
		}
		if err := s.presence.SetName(ctx, e.OrganizationID, u.UserID, u.Name); err != nil {
			// Retrying would hold up every live event behind Redis; the
			// user is named by email meanwhile.
			s.log.Warn("user directory not updated", "user_id", u.UserID, "err", err)
		}
		return nil
	case events.TypeUserRemoved:
		// A removed member's connections close with their revoked token;
		// only the directory still holds their name.
		var u events.UserRemoved
		if err := e.Payload(&u); err != nil {
			return err
		}
		if err := sameOrg(e, u.OrganizationID); err != nil {
			return err
		}
		if !u.EraseData {
			return nil
		}
		if err := s.presence.ForgetName(ctx, e.OrganizationID, u.UserID); err != nil {
			s.log.Warn("user directory not updated", "user_id", u.UserID, "err", err)
		}
		return nil
	case events.TypeSessionStarted, events.TypeSessionStopped:
		var sess events.Session
		if err := e.Payload(&sess); err != nil {
			return err
		}
		if err := sameOrg(e, sess.OrganizationID); err != nil {
			return err
		}
		name, err := s.presence.Name(ctx, e.OrganizationID, sess.UserID)
		if err != nil {
			// A name is nice to have; the event is not worth holding up.
			s.log.Warn("user directory unavailable", "err", err)
		}
		event := EventUserOnline
		if e.Type == events.TypeSessionStopped {
			event = EventUserOffline
		}
		return s.sendPresence(event, userPresence{UserID: sess.UserID, Name: name, OrganizationID: e.OrganizationID}, e.Time)
	case events.TypeActivityRecorded, events.TypeActivityCorrected:
		// Both carry the session's new totals first: an idle decision's
		// correction shows on the board like a post does.
		var a events.Session
		if err := e.Payload(&a); err != nil {
			return err
		}
		if err := sameOrg(e, a.OrganizationID); err != nil {
			return err
		}
		return s.send(e.OrganizationID, a.UserID, EventSessionUpdate, sessionUpdate{SessionID: a.SessionID, UserID: a.UserID,
			TotalActiveSeconds: a.TotalActiveSeconds, TotalIdleSeconds: a.TotalIdleSeconds, LastActivityAt: utc(a.LastActivityAt),
			LastActivityType: a.LastActivityType},
			tracking.StateOf(a), e.Time)
	case events.TypeAlertRaised:
		var a events.Alert
		if err := e.Payload(&a); err != nil {
			return err
		}
		if err := sameOrg(e, a.OrganizationID); err != nil {
			return err
		}
		event := ""
		switch a.AlertType {
		case alertTypeIdle:
			event = EventAlertInactive
		case alertTypeOvertime:
			event = EventAlertOvertime
		default:
			return nil
		}
		return s.send(e.OrganizationID, a.UserID, event, a,
			sioAlert{SessionID: a.SessionID, Message: a.Message, Timestamp: a.CreatedAt.UTC()}, e.Time)
	}
	return nil
}

// sameOrg refuses an event whose payload names another organization than
// its envelope: routing by either could leak across tenants.
func sameOrg(e events.Envelope, org string) error {
	if org != e.OrganizationID {
		return fmt.Errorf("%w: %s payload organization %q differs from envelope's %q", events.ErrMalformed, e.Type, org, e.OrganizationID)
	}
	return nil
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// send encodes one message about user of org, with data for /api/ws and
// sioData for Socket.IO, and hands it to the hub. Most events have no one
// watching on this replica (agents post all day, dashboards are open now
// and then), so a message without a recipient is not encoded at all; one
// who connects meanwhile gets the next message and a session state of
// their own.
func (s *Server) send(org, user, event string, data, sioData any, at time.Time) error {
	if !s.hub.listens(org, user) {
		return nil
	}
	ws, err := encode(event, data, at)
	if err != nil {
		return fmt.Errorf("%w: %v", events.ErrMalformed, err)
	}
	sio, err := sioEventMessage(event, sioData)
	if err != nil {
		return fmt.Errorf("%w: %v", events.ErrMalformed, err)
	}
	s.hub.deliver(org, user, outMsg{ws: ws, sio: sio, at: at})
	return nil
}

// sendPresence sends user:online or user:offline about u.
func (s *Server) sendPresence(event string, u userPresence, at time.Time) error {
	return s.send(u.OrganizationID, u.UserID, event, u, sioPresence{UserID: u.UserID, UserName: u.Name, Timestamp: at.UTC()}, at)
}
