-- Timesheet locks: an admin locks every day of the organization up to and
-- including a date, so that the payroll numbers of those days cannot
-- change. The lock keeps the date and the instant the locked period ends
-- (the local midnight after it, in the zone the organization had when it
-- was locked), so that checking a time is one comparison and needs no zone
-- arithmetic. Ingest writes it; ingest and session refuse every change of
-- time before locked_until (see docs/time-corrections.md).
-- +goose Up
CREATE TABLE tracking.timesheet_locks (
  organization_id uuid PRIMARY KEY,
  locked_through  date NOT NULL,
  locked_until    timestamptz NOT NULL,
  time_zone       text NOT NULL,
  locked_by       uuid NOT NULL,
  locked_at       timestamptz NOT NULL
);
ALTER TABLE tracking.timesheet_locks ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tracking.timesheet_locks
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- tracking.known_zone is p_zone when PostgreSQL knows it and UTC otherwise,
-- as the report service summarizes the days of a zone it does not know.
-- pg_timezone_names reads every zone file; trying the zone is cheaper.
-- +goose StatementBegin
CREATE FUNCTION tracking.known_zone(p_zone text) RETURNS text
  LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  PERFORM now() AT TIME ZONE p_zone;
  RETURN p_zone;
EXCEPTION WHEN invalid_parameter_value THEN
  RETURN 'UTC';
END $$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('organization.redaction_changed', 'user.data_exported', 'time.idle_decided', 'time.requested', 'time.approved', 'time.rejected',
                      'timesheet.locked', 'timesheet.unlocked') THEN
    RAISE EXCEPTION 'auth.record_tracking_audit records redaction changes, data exports, time corrections and timesheet locks only, not %', p_action;
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
DROP FUNCTION tracking.known_zone(text);
DROP TABLE tracking.timesheet_locks;
