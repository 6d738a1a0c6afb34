package systemtest

import (
	"sync"
	"time"
)

// Ledger is what clients know they got accepted: the reference every
// total, summary and event count is checked against.
type Ledger struct {
	mu sync.Mutex
	// accepted maps a session to its distinct accepted activities by
	// client activity id.
	accepted map[string]map[string]Activity
	owner    map[string]string // session -> user
	// storingRequests counts, per organization, requests that stored at
	// least one new activity: each yields one session:update per watcher.
	storingRequests map[string]int
}

func NewLedger() *Ledger {
	return &Ledger{accepted: map[string]map[string]Activity{}, owner: map[string]string{}, storingRequests: map[string]int{}}
}

// Accept records activities the API answered as stored (or duplicates of
// stored ones: those change nothing, so recording them again is harmless).
func (l *Ledger) Accept(org, user, session string, stored int, acts ...Activity) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.accepted[session]
	if m == nil {
		m = map[string]Activity{}
		l.accepted[session] = m
	}
	for _, a := range acts {
		m[a.ClientActivityID] = a
	}
	l.owner[session] = user
	if stored > 0 {
		l.storingRequests[org]++
	}
}

// Totals are the expected session totals.
func (l *Ledger) Totals(session string) (active, idle int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, a := range l.accepted[session] {
		if a.ActivityType == "active" {
			active += int64(a.DurationSeconds)
		} else {
			idle += int64(a.DurationSeconds)
		}
	}
	return active, idle
}

// Sessions lists every session with accepted activity.
func (l *Ledger) Sessions() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.accepted))
	for s := range l.accepted {
		out = append(out, s)
	}
	return out
}

// Day is one user's expected summary of a UTC date.
type Day struct{ Active, Idle int64 }

// Days returns each user's expected totals per UTC date.
func (l *Ledger) Days() map[string]map[string]Day {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string]map[string]Day{}
	for s, acts := range l.accepted {
		user := l.owner[s]
		if out[user] == nil {
			out[user] = map[string]Day{}
		}
		for _, a := range acts {
			date := a.Timestamp.UTC().Format(time.DateOnly)
			d := out[user][date]
			if a.ActivityType == "active" {
				d.Active += int64(a.DurationSeconds)
			} else {
				d.Idle += int64(a.DurationSeconds)
			}
			out[user][date] = d
		}
	}
	return out
}

// StoringRequests is how many session:update events org's admins should see.
func (l *Ledger) StoringRequests(org string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.storingRequests[org]
}
