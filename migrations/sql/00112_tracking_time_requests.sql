-- Manual time entries: an employee asks for time they worked without the
-- agent (project, bounds, note) to count; a manager of one of their teams
-- or an admin approves or rejects it. Until approved nothing counts. On
-- approval the entry becomes a stopped work session of its own whose time
-- is stored as active activity, so the session totals, the summaries and
-- the reports count it through the path every tracked second takes (see
-- docs/time-corrections.md).
-- +goose Up
CREATE TABLE tracking.time_requests (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  project_id      uuid REFERENCES tracking.projects(id),
  start_time      timestamptz NOT NULL,
  end_time        timestamptz NOT NULL,
  note            text NOT NULL DEFAULT '' CHECK (length(note) <= 1000),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','rejected')),
  requested_at    timestamptz NOT NULL,
  reviewed_by     uuid,
  reviewed_at     timestamptz,
  review_note     text CHECK (length(review_note) <= 1000),
  -- The session an approved entry became; an erasure of the member's
  -- sessions takes their requests with it.
  session_id      uuid REFERENCES tracking.work_sessions(id) ON DELETE CASCADE,
  CONSTRAINT time_requests_bounds CHECK (end_time > start_time),
  CONSTRAINT time_requests_reviewed CHECK ((status = 'pending') = (reviewed_at IS NULL)),
  CONSTRAINT time_requests_applied CHECK ((status = 'approved') = (session_id IS NOT NULL))
);
CREATE INDEX time_requests_user ON tracking.time_requests (organization_id, user_id, start_time);
CREATE INDEX time_requests_pending ON tracking.time_requests (organization_id, requested_at) WHERE status = 'pending';

ALTER TABLE tracking.time_requests ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tracking.time_requests USING (organization_id = public.current_org())
  WITH CHECK (organization_id = public.current_org());

-- Each request, approval and rejection is a time correction of the audit
-- log, written by ingest in the transaction of the change.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('organization.redaction_changed', 'user.data_exported', 'time.idle_decided', 'time.requested', 'time.approved', 'time.rejected') THEN
    RAISE EXCEPTION 'auth.record_tracking_audit records redaction changes, data exports and time corrections only, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_tracking_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, CASE WHEN p_subject IS NULL THEN 'organization' ELSE 'user' END,
          p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('organization.redaction_changed', 'user.data_exported', 'time.idle_decided') THEN
    RAISE EXCEPTION 'auth.record_tracking_audit records redaction changes, data exports and time corrections only, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_tracking_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, CASE WHEN p_subject IS NULL THEN 'organization' ELSE 'user' END,
          p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd
DROP TABLE tracking.time_requests;
