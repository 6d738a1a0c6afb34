-- The tenant policies' WITH CHECK on the activity tables compared each
-- written row with public.current_org(), which PostgreSQL evaluates again
-- for every row it checks: the setting read and parsed into a uuid for each
-- of a bulk upload's 1,000 activity rows and 1,000 claims. As a sub-select
-- the tenant is read once per statement (an initplan), as 00403 does for
-- the batch policies. Reads (USING) are unchanged.
--
-- Both forms admit the same rows, so each table changes in a transaction of
-- its own (the COMMIT in the loop), beside the previous release's writes,
-- as in 00403.
-- +goose NO TRANSACTION
-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tracking.activity_logs', 'tracking.activity_dedup'] LOOP
    PERFORM tracking.lock_written_tables(ARRAY[t]::regclass[]);
    EXECUTE format('ALTER POLICY tenant_isolation ON %s WITH CHECK (organization_id = (SELECT public.current_org()))', t);
    COMMIT;
  END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['tracking.activity_logs', 'tracking.activity_dedup'] LOOP
    PERFORM tracking.lock_written_tables(ARRAY[t]::regclass[]);
    EXECUTE format('ALTER POLICY tenant_isolation ON %s WITH CHECK (organization_id = public.current_org())', t);
    COMMIT;
  END LOOP;
END $$;
-- +goose StatementEnd
