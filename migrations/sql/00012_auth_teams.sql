-- Teams: admins group members into teams; a team's managers see the
-- reports, presence, sessions, alerts and realtime events of its members.
-- team_scopes is what the other services read of it: for each manager,
-- every member of the teams they manage, in one row rewritten (with a new
-- seq) whenever that set may have changed. The services keep the rows in
-- memory and poll for seqs past the last one read, as they do the
-- revocation list, so that a change of membership takes effect within a
-- poll without a call to auth on any request. Writers take an advisory
-- lock, so rows commit in seq order and a poll never skips a lower seq
-- committed later.
-- +goose Up
CREATE TABLE auth.teams (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX teams_org_name_key ON auth.teams (organization_id, lower(name));

CREATE TABLE auth.team_members (
  team_id         uuid NOT NULL REFERENCES auth.teams(id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  role            text NOT NULL CHECK (role IN ('member','manager')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (team_id, user_id)
);
-- A manager's teams, and a user's teams when they are removed.
CREATE INDEX team_members_user_idx ON auth.team_members (user_id, role);

CREATE SEQUENCE auth.team_scopes_seq;
CREATE TABLE auth.team_scopes (
  manager_id      uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  members         uuid[] NOT NULL,
  seq             bigint NOT NULL DEFAULT nextval('auth.team_scopes_seq')
);
CREATE INDEX team_scopes_seq_idx ON auth.team_scopes (seq);

ALTER TABLE auth.teams ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.teams
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());
ALTER TABLE auth.team_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.team_members
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());
ALTER TABLE auth.team_scopes ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.team_scopes
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- The services read the scopes through this function only: ids, no names.
CREATE FUNCTION auth.team_scopes_after(p_seq bigint, p_limit integer)
  RETURNS TABLE (manager_id uuid, organization_id uuid, members uuid[], seq bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT manager_id, organization_id, members, seq FROM auth.team_scopes
        WHERE seq > p_seq ORDER BY seq LIMIT p_limit $$;
REVOKE ALL ON FUNCTION auth.team_scopes_after(bigint, integer) FROM PUBLIC;

-- +goose Down
DROP FUNCTION auth.team_scopes_after(bigint, integer);
DROP TABLE auth.team_scopes;
DROP SEQUENCE auth.team_scopes_seq;
DROP TABLE auth.team_members;
DROP TABLE auth.teams;
