-- Idle time decisions: for an idle stretch of a session the employee keeps
-- the idle time as work, discards it, or assigns it to a project as work.
-- The activity itself is never changed (it is the audit trail of what the
-- agent saw); a decision pins the idle activities it covers by id, so the
-- session totals, the summaries and the reports all read the same
-- classification, and idle activity posted later into the same stretch
-- stays idle until a decision of its own (see docs/time-corrections.md).
-- +goose Up
CREATE TABLE tracking.idle_decisions (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  -- A session's erasure or retention takes its decisions with it.
  session_id      uuid NOT NULL REFERENCES tracking.work_sessions(id) ON DELETE CASCADE,
  user_id         uuid NOT NULL,
  start_time      timestamptz NOT NULL,
  end_time        timestamptz NOT NULL,
  decision        text NOT NULL CHECK (decision IN ('keep','discard','assign')),
  project_id      uuid REFERENCES tracking.projects(id),
  -- What the decision covered when it was made, for the audit trail.
  activities      integer NOT NULL CHECK (activities > 0),
  idle_seconds    bigint NOT NULL CHECK (idle_seconds > 0),
  decided_by      uuid NOT NULL,
  decided_at      timestamptz NOT NULL,
  CONSTRAINT idle_decisions_bounds CHECK (end_time > start_time),
  CONSTRAINT idle_decisions_assign_has_project CHECK ((decision = 'assign') = (project_id IS NOT NULL))
);
CREATE INDEX idle_decisions_session ON tracking.idle_decisions (session_id, start_time);

-- The idle activities each decision covers. The primary key makes one
-- activity part of at most one decision, whatever runs concurrently.
-- decision is copied from the decision so that summaries need one join.
CREATE TABLE tracking.idle_decision_activity (
  activity_id     uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  decision_id     uuid NOT NULL REFERENCES tracking.idle_decisions(id) ON DELETE CASCADE,
  decision        text NOT NULL CHECK (decision IN ('keep','discard','assign')),
  occurred_at     timestamptz NOT NULL
);
CREATE INDEX idle_decision_activity_decision ON tracking.idle_decision_activity (decision_id);
-- Summaries read the decided activity of a tenant-local day.
CREATE INDEX idle_decision_activity_org_time ON tracking.idle_decision_activity (organization_id, occurred_at);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['idle_decisions','idle_decision_activity'] LOOP
    EXECUTE format('ALTER TABLE tracking.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY tenant_isolation ON tracking.%I USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org())', t);
  END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP TABLE tracking.idle_decision_activity;
DROP TABLE tracking.idle_decisions;
