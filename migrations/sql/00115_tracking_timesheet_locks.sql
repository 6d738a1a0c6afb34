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

INSERT INTO auth.tracking_audit_actions (action) VALUES ('timesheet.locked'), ('timesheet.unlocked');

-- +goose Down
DELETE FROM auth.tracking_audit_actions WHERE action IN ('timesheet.locked', 'timesheet.unlocked');
DROP FUNCTION tracking.known_zone(text);
DROP TABLE tracking.timesheet_locks;
