-- Productivity categories: an organization's rules put each application
-- and URL in productive, neutral or unproductive, with rules of a team
-- taking precedence for its members. The service matches them (RE2
-- expressions, in Go: see services/platform/urlmatch) and the summaries
-- carry the seconds of each category, which add up to the tracked
-- seconds, and a score from them.
-- +goose Up
CREATE TABLE reporting.category_rules (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  -- NULL: a rule of the organization; else one of the team's, which its
  -- members' activity is matched against first.
  team_id         uuid,
  -- The rules of one scope are tried in position order; the first that
  -- matches decides.
  position        integer NOT NULL CHECK (position >= 0),
  match           text NOT NULL CHECK (match IN ('app', 'host', 'path_prefix', 'regex')),
  pattern         text NOT NULL CHECK (length(pattern) BETWEEN 1 AND 512),
  category        text NOT NULL CHECK (category IN ('productive', 'neutral', 'unproductive')),
  created_at      timestamptz NOT NULL,
  CONSTRAINT category_rules_position_key UNIQUE NULLS NOT DISTINCT (organization_id, team_id, position)
);
ALTER TABLE reporting.category_rules ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reporting.category_rules
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- Summaries stored before there were rules counted as neutral.
ALTER TABLE reporting.daily_summaries
  ADD COLUMN productive_seconds   bigint NOT NULL DEFAULT 0 CHECK (productive_seconds >= 0),
  ADD COLUMN neutral_seconds      bigint NOT NULL DEFAULT 0 CHECK (neutral_seconds >= 0),
  ADD COLUMN unproductive_seconds bigint NOT NULL DEFAULT 0 CHECK (unproductive_seconds >= 0),
  ADD COLUMN category_score       numeric(5,2) NOT NULL DEFAULT 0 CHECK (category_score BETWEEN 0 AND 100);
UPDATE reporting.daily_summaries SET neutral_seconds = total_work_seconds;

ALTER TABLE reporting.jobs DROP CONSTRAINT jobs_job_type_check;
ALTER TABLE reporting.jobs ADD CONSTRAINT jobs_job_type_check
  CHECK (job_type IN ('daily-summary','idle-detection','overtime-check','category-recompute'));

-- The teams of the members of the current organization, for team rules:
-- ids only. auth.team_members is auth's; this definer function is the
-- report service's one read of it.
CREATE FUNCTION reporting.team_memberships() RETURNS TABLE (team_id uuid, user_id uuid)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT team_id, user_id FROM auth.team_members WHERE organization_id = public.current_org() $$;
REVOKE ALL ON FUNCTION reporting.team_memberships() FROM PUBLIC;

-- A team rule must name a team of the organization.
CREATE FUNCTION reporting.team_exists(p_team uuid) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT EXISTS (SELECT 1 FROM auth.teams WHERE id = p_team AND organization_id = public.current_org()) $$;
REVOKE ALL ON FUNCTION reporting.team_exists(uuid) FROM PUBLIC;

-- +goose Down
DROP FUNCTION reporting.team_exists(uuid);
DROP FUNCTION reporting.team_memberships();
ALTER TABLE reporting.jobs DROP CONSTRAINT jobs_job_type_check;
ALTER TABLE reporting.jobs ADD CONSTRAINT jobs_job_type_check
  CHECK (job_type IN ('daily-summary','idle-detection','overtime-check'));
ALTER TABLE reporting.daily_summaries DROP COLUMN category_score, DROP COLUMN unproductive_seconds,
  DROP COLUMN neutral_seconds, DROP COLUMN productive_seconds;
DROP TABLE reporting.category_rules;
