package testkit

import (
	"context"
	"testing"

	"github.com/workpulse/workpulse/services/platform/authn"
)

// Teams are the team scopes a service under test reads, from its own
// database as auth writes them, so that its tests need no auth service.
type Teams struct {
	*authn.Teams
	db *DB
}

// NewTeams returns the team scopes of db, read through the auth function
// every service's role may call (as role), and makes v hand them to the
// managers it verifies.
func NewTeams(t testing.TB, db *DB, role string, v *authn.Verifier) *Teams {
	t.Helper()
	teams := authn.NewTeams(authn.PGTeamScopes{DB: db.Pool(t, role)})
	v.WithTeams(teams)
	return &Teams{Teams: teams, db: db}
}

// Manage records, as auth does when an admin names manager a manager of a
// team, that the teams manager manages have exactly members, and polls
// the scopes: a service's next request sees the change.
func (s *Teams) Manage(t testing.TB, org, manager string, members ...string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name) VALUES ($1, 'Teams test') ON CONFLICT DO NOTHING", org); err != nil {
		t.Fatal(err)
	}
	if members == nil {
		members = []string{}
	}
	if _, err := s.db.Owner.Exec(ctx, `INSERT INTO auth.team_scopes (manager_id, organization_id, members) VALUES ($1, $2, $3::uuid[])
		ON CONFLICT (manager_id) DO UPDATE SET members = EXCLUDED.members, seq = nextval('auth.team_scopes_seq')`, manager, org, members); err != nil {
		t.Fatal(err)
	}
	if err := s.Poll(ctx); err != nil {
		t.Fatal(err)
	}
}
