package realtime

import (
	"encoding/json"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/test/testkit"
)

// sentAt is when the tests' messages happened; no decision depends on it.
var sentAt = time.Date(2026, 5, 6, 12, 0, 0, 0, time.UTC)

// countedData counts how often a message's data is encoded.
type countedData struct{ n *int }

func (d countedData) MarshalJSON() ([]byte, error) {
	*d.n++
	return json.Marshal("x")
}

// members are an organization's admin and two of its employees, and
// another organization's admin.
func members() (admin, ann, bob, otherAdmin authn.Principal) {
	admin = testkit.Member("", authn.RoleAdmin)
	return admin, testkit.Member(admin.OrganizationID, authn.RoleEmployee), testkit.Member(admin.OrganizationID, authn.RoleEmployee),
		testkit.Member("", authn.RoleAdmin)
}

// serverWith is a server whose hub holds a connection of each of connected.
func serverWith(t *testing.T, connected []authn.Principal) (*Server, []*client) {
	t.Helper()
	hub := NewHub(NewMetrics(prometheus.NewRegistry(), "realtime"), slog.New(slog.DiscardHandler))
	var clients []*client
	for _, p := range connected {
		c := newClient(p.UserID, p, false, nil, 4)
		if !hub.register(c) {
			t.Fatal("hub refused a connection")
		}
		clients = append(clients, c)
	}
	return &Server{hub: hub}, clients
}

func TestAMessageIsEncodedOnlyForSomeoneWhoReceivesIt(t *testing.T) {
	admin, ann, bob, otherAdmin := members()
	for _, tc := range []struct {
		name       string
		connected  []authn.Principal
		wantEncode int
	}{
		{name: "no one connected encodes nothing", wantEncode: 0},
		{name: "another organization's admin encodes nothing", connected: []authn.Principal{otherAdmin}, wantEncode: 0},
		{name: "another employee of the organization encodes nothing", connected: []authn.Principal{bob}, wantEncode: 0},
		// Once for /api/ws and once for Socket.IO.
		{name: "the user's own connection is sent the message", connected: []authn.Principal{ann}, wantEncode: 2},
		{name: "the organization's admin is sent the message", connected: []authn.Principal{admin, bob}, wantEncode: 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, clients := serverWith(t, tc.connected)
			n := 0
			if err := s.send(ann.OrganizationID, ann.UserID, EventSessionUpdate, countedData{&n}, countedData{&n}, sentAt); err != nil {
				t.Fatal(err)
			}
			if n != tc.wantEncode {
				t.Fatalf("encoded %d times, want %d", n, tc.wantEncode)
			}
			queued := 0
			for _, c := range clients {
				queued += len(c.send)
			}
			if want := min(tc.wantEncode, 1); queued != want {
				t.Fatalf("%d messages queued, want %d", queued, want)
			}
		})
	}
}

func TestAConnectionThatJoinsReceivesTheNextMessage(t *testing.T) {
	hub := NewHub(NewMetrics(prometheus.NewRegistry(), "realtime"), slog.New(slog.DiscardHandler))
	s := &Server{hub: hub}
	ann := testkit.Member("", authn.RoleEmployee)
	n := 0
	send := func() {
		t.Helper()
		if err := s.send(ann.OrganizationID, ann.UserID, EventSessionUpdate, countedData{&n}, countedData{&n}, sentAt); err != nil {
			t.Fatal(err)
		}
	}
	send()
	if n != 0 {
		t.Fatalf("encoded %d times with no one connected", n)
	}
	c := newClient("c1", ann, false, nil, 4)
	if !hub.register(c) {
		t.Fatal("hub refused a connection")
	}
	send()
	select {
	case m := <-c.send:
		if len(c.payload(m)) == 0 {
			t.Fatal("empty message")
		}
	default:
		t.Fatal("the connection that joined got nothing")
	}
}

func TestAnEventIsSkippedUndecodedUnlessItsOrganizationHasAConnectionHere(t *testing.T) {
	admin, ann, bob, otherAdmin := members()
	for _, tc := range []struct {
		name        string
		eventType   string
		connected   []authn.Principal
		wantSkipped bool
	}{
		{name: "A post with no one connected is skipped.", eventType: events.TypeActivityRecorded, wantSkipped: true},
		{name: "A post with only another organization's admin connected is skipped.", eventType: events.TypeActivityRecorded,
			connected: []authn.Principal{otherAdmin}, wantSkipped: true},
		{name: "A session's start with no one connected is skipped.", eventType: events.TypeSessionStarted, wantSkipped: true},
		{name: "An alert with no one connected is skipped.", eventType: events.TypeAlertRaised, wantSkipped: true},
		{name: "A post is decoded when another employee of the organization is connected.", eventType: events.TypeActivityRecorded,
			connected: []authn.Principal{bob}},
		{name: "A post is decoded when the organization's admin is connected.", eventType: events.TypeActivityRecorded,
			connected: []authn.Principal{admin}},
		{name: "A correction is decoded when the member is connected.", eventType: events.TypeActivityCorrected,
			connected: []authn.Principal{ann}},
		{name: "A member's new name is decoded with no one connected: it goes to the directory.", eventType: events.TypeUserUpdated},
		{name: "A member's removal is decoded with no one connected: it goes to the directory.", eventType: events.TypeUserRemoved},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := serverWith(t, tc.connected)
			if got := s.unwatched(tc.eventType, ann.OrganizationID); got != tc.wantSkipped {
				t.Fatalf("skipped %v, want %v", got, tc.wantSkipped)
			}
		})
	}
}

func TestAnOrganizationsLastConnectionLeavingStopsTheDecoding(t *testing.T) {
	hub := NewHub(NewMetrics(prometheus.NewRegistry(), "realtime"), slog.New(slog.DiscardHandler))
	ann := testkit.Member("", authn.RoleEmployee)
	bob := testkit.Member(ann.OrganizationID, authn.RoleManager)
	a, b := newClient("a", ann, false, nil, 4), newClient("b", bob, false, nil, 4)
	for _, c := range []*client{a, b} {
		if !hub.register(c) {
			t.Fatal("hub refused a connection")
		}
	}
	hub.unregister(a)
	if !hub.watches(ann.OrganizationID) {
		t.Fatal("the organization is not watched with one of its two connections left")
	}
	hub.unregister(b)
	if hub.watches(ann.OrganizationID) {
		t.Fatal("the organization is still watched after its last connection left")
	}
}
