-- An accepted activity whose month is missing has it made on the spot
-- (storage.EnsureMonths), instead of its upload failing until maintenance
-- runs. The ingest service cannot create tables; this function, running as
-- the schema's owner, creates only the month partition of the tree the
-- organization's rows live in: its dedicated tree when attached, the shared
-- one otherwise. Callers hold the migrations' advisory lock.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tracking.ensure_activity_month(p_org uuid, p_month date) RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  parent text := 'activity_logs_t_' || replace(p_org::text, '-', '');
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_inherits
                 WHERE inhrelid = to_regclass(format('tracking.%I', parent)) AND inhparent = 'tracking.activity_logs'::regclass) THEN
    parent := 'activity_logs_shared';
  END IF;
  RETURN tracking.ensure_month_partition(parent, p_month);
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION tracking.ensure_activity_month(uuid, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tracking.ensure_activity_month(uuid, date) TO workpulse_ingest;

-- +goose Down
DROP FUNCTION tracking.ensure_activity_month(uuid, date);
