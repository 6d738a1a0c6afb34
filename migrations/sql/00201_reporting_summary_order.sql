-- Scheduled summaries (report daily-summary --due) serve the organizations
-- most behind first, so that one whose turn a run's time budget cut off
-- comes first in the next run instead of behind every organization that
-- has nothing due. Like reporting.tenant_ids, it reveals ids and nothing
-- else.
-- +goose Up
CREATE FUNCTION reporting.tenant_ids_most_behind_first() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT t.id FROM reporting.tenant_ids() AS t(id)
    LEFT JOIN reporting.summary_progress p ON p.organization_id = t.id
    ORDER BY p.last_completed_date NULLS FIRST, t.id
  $$;
REVOKE ALL ON FUNCTION reporting.tenant_ids_most_behind_first() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION reporting.tenant_ids_most_behind_first() TO workpulse_report;

-- +goose Down
DROP FUNCTION reporting.tenant_ids_most_behind_first();
