-- Late uploads correct a past day's summaries within seconds: the
-- activity consumer records each (organization, tenant-local day) that
-- received activity after the day ended, and the serving process
-- summarizes those days again and forgets them. The nightly run stays as
-- a reconciliation: what it still finds different is counted per
-- organization (summary_reconciliation), and the total is the metric
-- workpulse_summary_reconciliation_differences_total.
-- +goose Up
CREATE TABLE reporting.summary_corrections (
  organization_id uuid NOT NULL,
  date            date NOT NULL,
  marked_at       timestamptz NOT NULL,
  PRIMARY KEY (organization_id, date)
);
ALTER TABLE reporting.summary_corrections ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reporting.summary_corrections
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

CREATE TABLE reporting.summary_reconciliation (
  organization_id uuid PRIMARY KEY,
  differences     bigint NOT NULL,
  updated_at      timestamptz NOT NULL
);
ALTER TABLE reporting.summary_reconciliation ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reporting.summary_reconciliation
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- Ids only, oldest correction first, so the correcting loop can visit
-- each organization in its own transaction under row-level security.
CREATE FUNCTION reporting.tenant_ids_with_corrections() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT organization_id FROM reporting.summary_corrections GROUP BY 1 ORDER BY min(marked_at)
  $$;
REVOKE ALL ON FUNCTION reporting.tenant_ids_with_corrections() FROM PUBLIC;

-- One number for the whole installation, for the metric.
CREATE FUNCTION reporting.reconciliation_differences() RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT coalesce(sum(differences), 0)::bigint FROM reporting.summary_reconciliation $$;
REVOKE ALL ON FUNCTION reporting.reconciliation_differences() FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON reporting.summary_corrections, reporting.summary_reconciliation TO workpulse_report;
GRANT EXECUTE ON FUNCTION reporting.tenant_ids_with_corrections(), reporting.reconciliation_differences() TO workpulse_report;

-- +goose Down
DROP FUNCTION reporting.reconciliation_differences();
DROP FUNCTION reporting.tenant_ids_with_corrections();
DROP TABLE reporting.summary_reconciliation;
DROP TABLE reporting.summary_corrections;
