package authn

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PGRevocations reads the revocation list from the installation's
// PostgreSQL, where the auth service writes it; every service's role may
// call auth.revocations_after.
type PGRevocations struct{ DB *pgxpool.Pool }

// RevocationsAfter implements RevocationSource.
func (s PGRevocations) RevocationsAfter(ctx context.Context, seq int64, limit int) ([]Revocation, error) {
	rows, err := s.DB.Query(ctx, "SELECT kind, subject::text, blocked, min_version, expires_at, seq FROM auth.revocations_after($1, $2)", seq, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (Revocation, error) {
		var v Revocation
		return v, r.Scan(&v.Kind, &v.Subject, &v.Blocked, &v.MinVersion, &v.ExpiresAt, &v.Seq)
	})
}

// PGTeamScopes reads the team scopes from the installation's PostgreSQL,
// where the auth service writes them; every service's role may call
// auth.team_scopes_after.
type PGTeamScopes struct{ DB *pgxpool.Pool }

// TeamScopesAfter implements TeamScopeSource.
func (s PGTeamScopes) TeamScopesAfter(ctx context.Context, seq int64, limit int) ([]TeamScope, error) {
	rows, err := s.DB.Query(ctx, "SELECT manager_id::text, organization_id::text, members::text[], seq FROM auth.team_scopes_after($1, $2)", seq, limit)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (TeamScope, error) {
		var v TeamScope
		return v, r.Scan(&v.ManagerID, &v.OrganizationID, &v.Members, &v.Seq)
	})
}
