-- Sign-ins: each login opens a session whose access tokens carry its id
-- (claim sid) and whose refresh tokens rotate: each is spent by its one
-- refresh, and presenting a spent one again (a stolen copy, or the thief
-- after the owner) revokes the whole session. Only hashes are stored.
-- +goose Up
CREATE TABLE auth.sessions (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  revoked_at      timestamptz
);
CREATE INDEX sessions_live_by_user_idx ON auth.sessions (user_id) WHERE revoked_at IS NULL;

CREATE TABLE auth.refresh_tokens (
  token_hash      bytea PRIMARY KEY,
  session_id      uuid NOT NULL REFERENCES auth.sessions(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL,
  used_at         timestamptz
);
CREATE INDEX refresh_tokens_session_idx ON auth.refresh_tokens (session_id);

ALTER TABLE auth.sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.refresh_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.sessions
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());
CREATE POLICY tenant_isolation ON auth.refresh_tokens
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- A refresh names no organization: this finds the one to enter.
CREATE FUNCTION auth.refresh_token_organization(p_token_hash bytea) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT organization_id FROM auth.refresh_tokens WHERE token_hash = p_token_hash $$;
REVOKE ALL ON FUNCTION auth.refresh_token_organization(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION auth.refresh_token_organization(bytea) TO workpulse_auth;
GRANT SELECT, INSERT, UPDATE ON auth.sessions, auth.refresh_tokens TO workpulse_auth;

-- +goose Down
DROP FUNCTION auth.refresh_token_organization(bytea);
DROP TABLE auth.refresh_tokens;
DROP TABLE auth.sessions;
