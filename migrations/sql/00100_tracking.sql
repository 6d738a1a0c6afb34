-- Tracking data: projects, sessions and the activity heartbeats. The
-- session service owns projects and the session lifecycle; the ingest
-- service owns activity and the session totals (see docs/tracking-data.md).
-- +goose Up
CREATE TABLE tracking.tenants (
  organization_id uuid PRIMARY KEY,
  suspended       boolean NOT NULL DEFAULT false,
  time_zone       text NOT NULL DEFAULT 'UTC',
  generation      bigint NOT NULL DEFAULT 0,
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tracking.projects (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  description     text CHECK (length(description) <= 2000),
  created_by      uuid NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX projects_org_name_key ON tracking.projects (organization_id, lower(name));

CREATE TABLE tracking.work_sessions (
  id                   uuid PRIMARY KEY,
  organization_id      uuid NOT NULL,
  user_id              uuid NOT NULL,
  project_id           uuid REFERENCES tracking.projects(id),
  start_time           timestamptz NOT NULL,
  end_time             timestamptz,
  status               text NOT NULL CHECK (status IN ('active','stopped')),
  total_active_seconds bigint NOT NULL DEFAULT 0 CHECK (total_active_seconds >= 0),
  total_idle_seconds   bigint NOT NULL DEFAULT 0 CHECK (total_idle_seconds >= 0),
  last_activity_at     timestamptz,
  version              bigint NOT NULL DEFAULT 1,
  created_at           timestamptz NOT NULL DEFAULT now(),
  updated_at           timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT work_sessions_status_end CHECK ((status = 'active') = (end_time IS NULL)),
  CONSTRAINT work_sessions_end_after_start CHECK (end_time IS NULL OR end_time >= start_time)
);
-- One active session per user, enforced by the database.
CREATE UNIQUE INDEX work_sessions_one_active ON tracking.work_sessions (user_id) WHERE status = 'active';
CREATE INDEX work_sessions_user_start ON tracking.work_sessions (organization_id, user_id, start_time DESC, id DESC);
CREATE INDEX work_sessions_active_last ON tracking.work_sessions (last_activity_at) WHERE status = 'active';

-- Activity: LIST by organization (a DEFAULT partition is the shared tree,
-- a dedicated tenant gets its own list partition), each RANGE by month of
-- occurred_at. The operator creates months ahead and applies retention.
CREATE TABLE tracking.activity_logs (
  id                 uuid NOT NULL,
  organization_id    uuid NOT NULL,
  session_id         uuid NOT NULL,
  user_id            uuid NOT NULL,
  client_activity_id text CHECK (length(client_activity_id) BETWEEN 1 AND 128),
  occurred_at        timestamptz NOT NULL,
  activity_type      text NOT NULL CHECK (activity_type IN ('active','idle')),
  duration_seconds   integer NOT NULL CHECK (duration_seconds BETWEEN 1 AND 3600),
  url                text CHECK (length(url) <= 2048),
  created_at         timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (organization_id, occurred_at, id)
) PARTITION BY LIST (organization_id);
CREATE TABLE tracking.activity_logs_shared PARTITION OF tracking.activity_logs DEFAULT
  PARTITION BY RANGE (occurred_at);
CREATE INDEX activity_logs_session ON tracking.activity_logs (session_id, occurred_at);
CREATE INDEX activity_logs_user_day ON tracking.activity_logs (organization_id, user_id, occurred_at);

-- A unique constraint on activity_logs would have to include the partition
-- keys, so it could not make client_activity_id unique per user for all
-- time. This unpartitioned table does, and points at the stored row.
CREATE TABLE tracking.activity_dedup (
  user_id            uuid NOT NULL,
  client_activity_id text NOT NULL,
  organization_id    uuid NOT NULL,
  activity_id        uuid NOT NULL,
  occurred_at        timestamptz NOT NULL,
  PRIMARY KEY (user_id, client_activity_id)
);

-- Creates the month partition of parent holding p_month, if missing.
-- Partition names are <parent>_YYYY_MM. Returns the partition's name.
-- +goose StatementBegin
CREATE FUNCTION tracking.ensure_month_partition(p_parent text, p_month date) RETURNS text
  LANGUAGE plpgsql AS $$
DECLARE
  first date := date_trunc('month', p_month)::date;
  part text := p_parent || '_' || to_char(first, 'YYYY_MM');
BEGIN
  IF to_regclass(format('tracking.%I', part)) IS NULL THEN
    EXECUTE format('CREATE TABLE tracking.%I PARTITION OF tracking.%I FOR VALUES FROM (%L) TO (%L)',
      part, p_parent, first::timestamp AT TIME ZONE 'UTC', (first + interval '1 month')::timestamp AT TIME ZONE 'UTC');
  END IF;
  RETURN part;
END $$;
-- +goose StatementEnd

-- So that make dev and a fresh install work before any operator runs.
SELECT tracking.ensure_month_partition('activity_logs_shared', (date_trunc('month', now() AT TIME ZONE 'UTC') + m * interval '1 month')::date)
FROM generate_series(0, 2) AS m;

CREATE TABLE tracking.outbox (
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

CREATE TABLE tracking.processed_events (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['projects','work_sessions','activity_logs','activity_dedup','tenants'] LOOP
    EXECUTE format('ALTER TABLE tracking.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON tracking.%I USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org())', t);
  END LOOP;
END $$;
-- +goose StatementEnd

GRANT USAGE ON SCHEMA tracking TO workpulse_session, workpulse_ingest, workpulse_report, workpulse_realtime;
GRANT SELECT, INSERT ON tracking.projects TO workpulse_session;
GRANT SELECT, INSERT, UPDATE ON tracking.work_sessions TO workpulse_session;
GRANT SELECT, UPDATE ON tracking.work_sessions TO workpulse_ingest;
GRANT SELECT, INSERT ON tracking.activity_logs, tracking.activity_dedup TO workpulse_ingest;
GRANT SELECT ON tracking.projects TO workpulse_ingest;
GRANT SELECT, INSERT, UPDATE ON tracking.tenants TO workpulse_session, workpulse_ingest;
GRANT SELECT, INSERT, DELETE ON tracking.outbox TO workpulse_session, workpulse_ingest;
GRANT UPDATE ON tracking.outbox TO workpulse_session, workpulse_ingest;
GRANT USAGE ON SEQUENCE tracking.outbox_id_seq TO workpulse_session, workpulse_ingest;
GRANT SELECT, INSERT, DELETE ON tracking.processed_events TO workpulse_session, workpulse_ingest;
-- Reports and the realtime service read tracking data; they never write it.
GRANT SELECT ON tracking.work_sessions, tracking.activity_logs, tracking.projects TO workpulse_report, workpulse_realtime;

-- +goose Down
DROP TABLE tracking.processed_events;
DROP TABLE tracking.outbox;
DROP FUNCTION tracking.ensure_month_partition(text, date);
DROP TABLE tracking.activity_dedup;
DROP TABLE tracking.activity_logs;
DROP TABLE tracking.work_sessions;
DROP TABLE tracking.projects;
DROP TABLE tracking.tenants;
