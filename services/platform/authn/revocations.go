package authn

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/feed"
)

// Revocation kinds.
const (
	RevokeUser         = "user"
	RevokeOrganization = "organization"
	RevokeSession      = "session"
	RevokeDevice       = "device"
)

// Revocation is one row of the installation's revocation list (see
// migrations' auth.revocations).
type Revocation struct {
	Kind    string
	Subject string
	// Blocked refuses every token of the subject: a deactivated user or
	// organization, a signed-out session.
	Blocked bool
	// MinVersion refuses a user's tokens of a lower version, or a device's
	// tokens from before its latest renewal.
	MinVersion int
	// ExpiresAt, when set, is when the row stops mattering: every token it
	// refuses has expired by then.
	ExpiresAt *time.Time
	Seq       int64
}

// RevocationSource reads the rows changed after seq, in seq order, at
// most limit of them.
type RevocationSource interface {
	RevocationsAfter(ctx context.Context, seq int64, limit int) ([]Revocation, error)
}

// Revocations is the revocation list held in memory, so that checking a
// token costs no round trip. Poll brings it up to date by reading only
// the rows changed since the last poll; a service polls every second or
// so, which bounds how long a revoked token keeps working.
//
// When the source cannot be read (PostgreSQL unreachable), the list stays
// as it was and tokens are judged by it: revocations made meanwhile take
// effect at the first poll that succeeds, or when the tokens expire.
type Revocations struct {
	src   RevocationSource
	clock clock.Clock

	mu      sync.RWMutex
	seq     int64
	entries map[string]Revocation // by kind and subject
	pruned  time.Time
	// changed is closed and replaced when a poll brings changes, so that
	// holders of long-lived connections re-check them at once.
	changed chan struct{}
}

// NewRevocations returns an empty list read from src; clk drops rows past
// their expiry.
func NewRevocations(src RevocationSource, clk clock.Clock) *Revocations {
	return &Revocations{src: src, clock: clk, entries: map[string]Revocation{}, changed: make(chan struct{})}
}

// pruneEvery bounds how often Poll sweeps expired rows out of memory. A
// row past its expiry refuses nothing (every token it refused has
// expired), and auth deletes such rows from the table, so no poll ever
// brings them back to be dropped: without the sweep a long-running
// service would hold every session ever signed out.
const pruneEvery = time.Minute

// Poll reads every row changed since the last poll.
func (l *Revocations) Poll(ctx context.Context) error {
	l.pruneExpired(l.clock.Now())
	l.mu.RLock()
	seq := l.seq
	l.mu.RUnlock()
	changed, err := feed.ReadAfter(ctx, seq, l.src.RevocationsAfter, func(rows []Revocation) {
		now := l.clock.Now()
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, r := range rows {
			key := r.Kind + ":" + r.Subject
			if r.ExpiresAt != nil && !r.ExpiresAt.After(now) {
				delete(l.entries, key)
			} else {
				l.entries[key] = r
			}
			l.seq = r.Seq
		}
	}, func(r Revocation) int64 { return r.Seq })
	if changed {
		l.notify()
	}
	if err != nil {
		return fmt.Errorf("authn: read revocations: %w", err)
	}
	return nil
}

func (l *Revocations) pruneExpired(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.pruned) < pruneEvery {
		return
	}
	l.pruned = now
	for key, r := range l.entries {
		if r.ExpiresAt != nil && !r.ExpiresAt.After(now) {
			delete(l.entries, key)
		}
	}
}

func (l *Revocations) notify() {
	l.mu.Lock()
	close(l.changed)
	l.changed = make(chan struct{})
	l.mu.Unlock()
}

// Changed returns a channel closed at the next poll that brings changes.
func (l *Revocations) Changed() <-chan struct{} {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.changed
}

// Run polls every interval until ctx is done.
func (l *Revocations) Run(ctx context.Context, interval time.Duration) error {
	feed.PollEvery(ctx, interval, l.Poll, "revocation list not refreshed; tokens are judged by the last one read")
	return nil
}

// Check refuses the caller of a revoked token.
func (l *Revocations) Check(p Principal) error {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if r, ok := l.entries[RevokeOrganization+":"+p.OrganizationID]; ok && r.Blocked {
		return apierr.ErrAccountDisabled
	}
	if r, ok := l.entries[RevokeUser+":"+p.UserID]; ok {
		if r.Blocked {
			return apierr.ErrAccountDisabled
		}
		// A device token is revoked as a device, not by the user's token
		// version: a role change or a new password does not sign agents
		// out (their tokens carry the employee role whatever the user's).
		if !p.IsDevice() && p.TokenVersion < r.MinVersion {
			return apierr.ErrTokenRevoked
		}
	}
	if p.IsDevice() {
		if r, ok := l.entries[RevokeDevice+":"+p.DeviceID]; ok && (r.Blocked || p.TokenVersion < r.MinVersion) {
			return apierr.ErrTokenRevoked
		}
	}
	if p.SessionID != "" {
		if r, ok := l.entries[RevokeSession+":"+p.SessionID]; ok && r.Blocked {
			return apierr.ErrTokenRevoked
		}
	}
	return nil
}
