package authn

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/workpulse/workpulse/services/platform/feed"
)

// TeamScope is one manager's row of the installation's team scopes (see
// migrations' auth.team_scopes): every member of the teams they manage.
type TeamScope struct {
	ManagerID      string
	OrganizationID string
	Members        []string
	Seq            int64
}

// TeamScopeSource reads the scopes changed after seq, in seq order, at
// most limit of them.
type TeamScopeSource interface {
	TeamScopesAfter(ctx context.Context, seq int64, limit int) ([]TeamScope, error)
}

// Teams holds in memory, for every manager, the members of the teams they
// manage, so that scoping a manager's reads costs no round trip and no
// call to auth. Poll brings it up to date by reading only the scopes
// changed since the last poll; a service polls as often as its revocation
// list, which bounds how long a change of membership takes to apply.
// While the source cannot be read, the scopes stay as last read.
type Teams struct {
	src TeamScopeSource

	mu     sync.RWMutex
	seq    int64
	scopes map[string]managedScope // by manager id
}

type managedScope struct {
	organizationID string
	members        map[string]struct{}
}

// NewTeams returns empty scopes read from src.
func NewTeams(src TeamScopeSource) *Teams {
	return &Teams{src: src, scopes: map[string]managedScope{}}
}

// Poll reads every scope changed since the last poll.
func (t *Teams) Poll(ctx context.Context) error {
	t.mu.RLock()
	seq := t.seq
	t.mu.RUnlock()
	_, err := feed.ReadAfter(ctx, seq, t.src.TeamScopesAfter, func(rows []TeamScope) {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, r := range rows {
			members := make(map[string]struct{}, len(r.Members))
			for _, m := range r.Members {
				members[m] = struct{}{}
			}
			t.scopes[r.ManagerID] = managedScope{organizationID: r.OrganizationID, members: members}
			t.seq = r.Seq
		}
	}, func(r TeamScope) int64 { return r.Seq })
	if err != nil {
		return fmt.Errorf("authn: read team scopes: %w", err)
	}
	return nil
}

// Run polls every interval until ctx is done.
func (t *Teams) Run(ctx context.Context, interval time.Duration) error {
	feed.PollEvery(ctx, interval, t.Poll, "team scopes not refreshed; managers see the members last read")
	return nil
}

// scope is the members of the teams manager manages in org, as last
// polled (nil when they manage none there). The map is never written
// after a poll stores it, so it is read without the lock.
func (t *Teams) scope(org, manager string) map[string]struct{} {
	if t == nil {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if s, ok := t.scopes[manager]; ok && s.organizationID == org {
		return s.members
	}
	return nil
}

// Sees reports whether p may see what belongs to userID (reports,
// sessions, presence, alerts, realtime events): their own, any member's
// for an admin, a member's of a team they manage for a manager. The
// answer follows the team scopes as polled, so a long-lived connection
// asking it keeps up with changes of membership.
func (p Principal) Sees(userID string) bool {
	switch {
	case userID == p.UserID || p.IsAdmin():
		return true
	case p.Role == RoleManager:
		_, ok := p.teams.scope(p.OrganizationID, p.UserID)[userID]
		return ok
	}
	return false
}

// Visible returns the users whose data p sees, themself first; all is
// true for an admin, who sees every member of the organization, and users
// is nil then.
func (p Principal) Visible() (users []string, all bool) {
	if p.IsAdmin() {
		return nil, true
	}
	users = []string{p.UserID}
	if p.Role == RoleManager {
		for id := range p.teams.scope(p.OrganizationID, p.UserID) {
			if id != p.UserID {
				users = append(users, id)
			}
		}
	}
	return users, false
}
