-- The open alerts of every tenant by kind, for the report service's
-- workpulse_alerts_open gauge (the dashboard's business row). It reads
-- across tenants, so through this function only; the partial index keeps
-- it to the open alerts however many resolved ones the years keep.
-- +goose Up
CREATE INDEX alerts_open_kind ON reporting.alerts (alert_type) WHERE resolved_at IS NULL;
CREATE FUNCTION reporting.open_alert_counts(OUT kind text, OUT open bigint) RETURNS SETOF record
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT alert_type, count(*) FROM reporting.alerts WHERE resolved_at IS NULL GROUP BY alert_type $$;
REVOKE ALL ON FUNCTION reporting.open_alert_counts() FROM PUBLIC;

-- +goose Down
DROP FUNCTION reporting.open_alert_counts();
DROP INDEX reporting.alerts_open_kind;
