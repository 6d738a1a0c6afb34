-- The batch policies of ingest (00117) and report (00212) compared each
-- row with tracking.batch_orgs(), which PostgreSQL evaluates again for
-- every row it checks: the text of the set, 64 organization ids for a
-- batch of 64 organizations, parsed into a uuid[] for each row read or
-- written. That parsing was a quarter of ingest's database time on the
-- posts of 64 organizations. As a sub-select the set is read once per
-- statement (an initplan) and each row compares against the array.
--
-- Both forms admit the same rows, so each table changes in a transaction
-- of its own (the COMMIT in the loop): the upgrade runs beside the
-- previous release's writes, and one exclusive lock at a time never holds
-- a written table while it waits for the next. Locking all seven together
-- failed for two minutes on a loaded machine, each try giving up on one
-- table while it held the others. A run stopped half-way leaves some
-- tables in the new form; running it again finishes them.
-- +goose NO TRANSACTION
-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tracking.work_sessions', 'tracking.activity_logs', 'tracking.activity_dedup',
                           'tracking.tenants', 'reporting.alerts', 'reporting.tenant_settings', 'reporting.summary_corrections'] LOOP
    PERFORM tracking.lock_written_tables(ARRAY[t]::regclass[]);
    EXECUTE format('ALTER POLICY tenant_batch ON %s %s', t, CASE
      WHEN t IN ('tracking.tenants', 'reporting.alerts', 'reporting.tenant_settings')
        THEN 'USING (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]))'
      WHEN t = 'reporting.summary_corrections'
        THEN 'WITH CHECK (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]))'
      ELSE 'USING (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]))'
        ' WITH CHECK (organization_id = ANY ((SELECT tracking.batch_orgs())::uuid[]))' END);
    COMMIT;
  END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
-- The per-row form of 00117 and 00212, a table at a time as above.
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tracking.work_sessions', 'tracking.activity_logs', 'tracking.activity_dedup',
                           'tracking.tenants', 'reporting.alerts', 'reporting.tenant_settings', 'reporting.summary_corrections'] LOOP
    PERFORM tracking.lock_written_tables(ARRAY[t]::regclass[]);
    EXECUTE format('ALTER POLICY tenant_batch ON %s %s', t, CASE
      WHEN t IN ('tracking.tenants', 'reporting.alerts', 'reporting.tenant_settings')
        THEN 'USING (organization_id = ANY (tracking.batch_orgs()))'
      WHEN t = 'reporting.summary_corrections'
        THEN 'WITH CHECK (organization_id = ANY (tracking.batch_orgs()))'
      ELSE 'USING (organization_id = ANY (tracking.batch_orgs())) WITH CHECK (organization_id = ANY (tracking.batch_orgs()))' END);
    COMMIT;
  END LOOP;
END $$;
-- +goose StatementEnd
