-- The batch policies of ingest (00117) and report (00212) compared each
-- row with tracking.batch_orgs(), which PostgreSQL evaluates again for
-- every row it checks: the text of the set, 64 organization ids for a
-- batch of 64 organizations, parsed into a uuid[] for each row read or
-- written. That parsing was a quarter of ingest's database time on the
-- posts of 64 organizations. As a sub-select the set is read once per
-- statement (an initplan) and each row compares against the array.
-- +goose Up
SELECT tracking.lock_written_tables(ARRAY['tracking.work_sessions', 'tracking.activity_logs', 'tracking.activity_dedup', 'tracking.tenants',
  'reporting.alerts', 'reporting.summary_corrections', 'reporting.tenant_settings']::regclass[]);

-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tracking.work_sessions', 'tracking.activity_logs', 'tracking.activity_dedup'] LOOP
    EXECUTE format('ALTER POLICY tenant_batch ON %s USING (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]))'
      ' WITH CHECK (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]))', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['tracking.tenants', 'reporting.alerts', 'reporting.tenant_settings'] LOOP
    EXECUTE format('ALTER POLICY tenant_batch ON %s USING (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]))', t);
  END LOOP;
END $$;
-- +goose StatementEnd
ALTER POLICY tenant_batch ON reporting.summary_corrections WITH CHECK (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]));

-- +goose Down
-- The per-row form of 00117 and 00212.
SELECT tracking.lock_written_tables(ARRAY['tracking.work_sessions', 'tracking.activity_logs', 'tracking.activity_dedup', 'tracking.tenants',
  'reporting.alerts', 'reporting.summary_corrections', 'reporting.tenant_settings']::regclass[]);
ALTER POLICY tenant_batch ON tracking.work_sessions USING (organization_id = ANY (tracking.batch_orgs())) WITH CHECK (organization_id = ANY (tracking.batch_orgs()));
ALTER POLICY tenant_batch ON tracking.activity_logs USING (organization_id = ANY (tracking.batch_orgs())) WITH CHECK (organization_id = ANY (tracking.batch_orgs()));
ALTER POLICY tenant_batch ON tracking.activity_dedup USING (organization_id = ANY (tracking.batch_orgs())) WITH CHECK (organization_id = ANY (tracking.batch_orgs()));
ALTER POLICY tenant_batch ON tracking.tenants USING (organization_id = ANY (tracking.batch_orgs()));
ALTER POLICY tenant_batch ON reporting.alerts USING (organization_id = ANY (tracking.batch_orgs()));
ALTER POLICY tenant_batch ON reporting.tenant_settings USING (organization_id = ANY (tracking.batch_orgs()));
ALTER POLICY tenant_batch ON reporting.summary_corrections WITH CHECK (organization_id = ANY (tracking.batch_orgs()));
