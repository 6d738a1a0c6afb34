-- Reporting data, owned by the report service: daily summaries, alerts,
-- the tenant settings and user names it learns from events, triggered jobs
-- and the progress of the nightly summary (see docs/reports.md).
-- +goose Up

-- Per-tenant settings from tenant.updated. A NULL threshold means "the
-- service's default" (INACTIVE_THRESHOLD_SECONDS, IDLE_THRESHOLD_SECONDS,
-- OVERTIME_THRESHOLD_HOURS), so changing a default reaches every tenant
-- that never overrode it.
CREATE TABLE reporting.tenant_settings (
  organization_id            uuid PRIMARY KEY,
  time_zone                  text NOT NULL DEFAULT 'UTC',
  inactive_threshold_seconds integer CHECK (inactive_threshold_seconds > 0),
  idle_threshold_seconds     integer CHECK (idle_threshold_seconds > 0),
  overtime_threshold_hours   integer CHECK (overtime_threshold_hours BETWEEN 1 AND 24),
  generation                 bigint NOT NULL DEFAULT 0,
  updated_at                 timestamptz NOT NULL DEFAULT now()
);

-- Directory of members from user.created, for names in reports.
CREATE TABLE reporting.users (
  user_id         uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  email           text NOT NULL,
  name            text NOT NULL,
  role            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_org_name ON reporting.users (organization_id, lower(name), user_id);

CREATE TABLE reporting.daily_summaries (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  organization_id    uuid NOT NULL,
  user_id            uuid NOT NULL,
  date               date NOT NULL,
  total_work_seconds bigint NOT NULL CHECK (total_work_seconds >= 0),
  active_seconds     bigint NOT NULL CHECK (active_seconds >= 0),
  idle_seconds       bigint NOT NULL CHECK (idle_seconds >= 0),
  productivity_score numeric(5,2) NOT NULL CHECK (productivity_score BETWEEN 0 AND 100),
  sessions_count     integer NOT NULL CHECK (sessions_count >= 0),
  -- json, not jsonb: reports send it out as stored, and json is text
  -- that needs no conversion on the way out.
  app_usage          json NOT NULL DEFAULT '[]',
  computed_at        timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT daily_summaries_org_user_date_key UNIQUE (organization_id, user_id, date)
);
-- The organization report reads a date range of one tenant.
CREATE INDEX daily_summaries_org_date ON reporting.daily_summaries (organization_id, date DESC);

CREATE TABLE reporting.alerts (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  session_id      uuid,
  alert_type      text NOT NULL CHECK (alert_type IN ('idle','overtime')),
  message         text NOT NULL,
  -- The tenant-local day an overtime alert is for.
  local_date      date,
  -- What the idle rule saw: the last activity (or last active work) the
  -- alert is about. Only active work after it resolves the alert.
  last_seen_at    timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  resolved_at     timestamptz,
  resolved_by     uuid,
  CONSTRAINT alerts_idle_has_session CHECK (alert_type <> 'idle' OR session_id IS NOT NULL),
  CONSTRAINT alerts_overtime_has_day CHECK (alert_type <> 'overtime' OR local_date IS NOT NULL)
);
-- Never two open idle alerts for one session, whatever runs concurrently.
CREATE UNIQUE INDEX alerts_one_open_idle ON reporting.alerts (session_id)
  WHERE alert_type = 'idle' AND resolved_at IS NULL;
-- At most one overtime alert per user and tenant-local day, resolved or not.
CREATE UNIQUE INDEX alerts_one_overtime_per_day ON reporting.alerts (organization_id, user_id, local_date)
  WHERE alert_type = 'overtime';
CREATE INDEX alerts_org_created ON reporting.alerts (organization_id, created_at DESC);
CREATE INDEX alerts_org_user_created ON reporting.alerts (organization_id, user_id, created_at DESC);

-- Jobs triggered through the API; they run in the service process and
-- record their state here. heartbeat_at lets a reader tell a running job
-- from one whose process died.
CREATE TABLE reporting.jobs (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  job_type        text NOT NULL CHECK (job_type IN ('daily-summary','idle-detection','overtime-check')),
  params          jsonb NOT NULL DEFAULT '{}',
  state           text NOT NULL CHECK (state IN ('queued','running','succeeded','failed')),
  result          jsonb,
  error           text,
  requested_by    uuid,
  created_at      timestamptz NOT NULL DEFAULT now(),
  started_at      timestamptz,
  heartbeat_at    timestamptz,
  finished_at     timestamptz
);
CREATE INDEX jobs_org_created ON reporting.jobs (organization_id, created_at DESC);

-- The last tenant-local day whose summary the catch-up completed.
CREATE TABLE reporting.summary_progress (
  organization_id     uuid PRIMARY KEY,
  last_completed_date date NOT NULL,
  updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Bumped in the transaction of every change to a tenant's summaries or
-- member names, so that a cached organization report can be checked for
-- freshness with one row.
CREATE TABLE reporting.report_versions (
  organization_id uuid PRIMARY KEY,
  version         bigint NOT NULL DEFAULT 0
);

CREATE TABLE reporting.outbox (
  id              bigserial PRIMARY KEY,
  event_id        uuid NOT NULL UNIQUE,
  topic           text NOT NULL,
  key             text NOT NULL,
  payload         jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text
);

CREATE TABLE reporting.processed_events (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tenant_settings','users','daily_summaries','alerts','jobs','summary_progress','report_versions'] LOOP
    EXECUTE format('ALTER TABLE reporting.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON reporting.%I USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org())', t);
  END LOOP;
END $$;
-- +goose StatementEnd

-- The application an activity belongs to: the host of a URL (lower case,
-- without "www."), the text itself otherwise (an application name).
CREATE FUNCTION reporting.app_name(p_url text) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT CASE
      WHEN p_url IS NULL OR btrim(p_url) = '' THEN 'unknown'
      WHEN p_url ~* '^[a-z][a-z0-9+.-]*://' THEN coalesce(nullif(regexp_replace(lower(
             substring(p_url from '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)')), '^www\.', ''), ''), 'unknown')
      ELSE btrim(p_url)
    END
  $$;

-- Scheduled jobs work through every tenant; each tenant's work then runs
-- scoped to it (RLS). This definer function is the only cross-tenant read:
-- it lists tenant ids and nothing else.
CREATE FUNCTION reporting.tenant_ids() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT organization_id FROM reporting.tenant_settings
    UNION SELECT organization_id FROM reporting.users
    UNION SELECT organization_id FROM tracking.work_sessions WHERE status = 'active'
  $$;
REVOKE ALL ON FUNCTION reporting.tenant_ids() FROM PUBLIC;

GRANT USAGE ON SCHEMA reporting TO workpulse_report;
GRANT SELECT, INSERT, UPDATE ON reporting.tenant_settings, reporting.users, reporting.daily_summaries,
  reporting.alerts, reporting.jobs, reporting.summary_progress, reporting.report_versions TO workpulse_report;
GRANT SELECT, INSERT, UPDATE, DELETE ON reporting.outbox TO workpulse_report;
GRANT USAGE ON SEQUENCE reporting.outbox_id_seq TO workpulse_report;
GRANT SELECT, INSERT, DELETE ON reporting.processed_events TO workpulse_report;
GRANT DELETE ON reporting.jobs TO workpulse_report;
GRANT EXECUTE ON FUNCTION reporting.tenant_ids(), reporting.app_name(text) TO workpulse_report;

-- +goose Down
DROP FUNCTION reporting.tenant_ids();
DROP FUNCTION reporting.app_name(text);
DROP TABLE reporting.processed_events;
DROP TABLE reporting.outbox;
DROP TABLE reporting.report_versions;
DROP TABLE reporting.summary_progress;
DROP TABLE reporting.jobs;
DROP TABLE reporting.alerts;
DROP TABLE reporting.daily_summaries;
DROP TABLE reporting.users;
DROP TABLE reporting.tenant_settings;
