-- The report service's activity stream takes the events of many
-- organizations in one fetch. It looks up their open idle alerts and marks
-- their late days in one statement each for the whole fetch, under the set
-- of the fetch's organizations in app.org_ids (tracking.batch_orgs(),
-- migration 00117), instead of one statement per organization. These
-- policies let report's role read and write the rows of those
-- organizations and of no other, for what that lookup and that marking
-- touch; the statements tie each row to its own event's organization. They
-- apply to report's role only (migrations/roles/grants.sql points them at
-- the installation's role); for every other service the set widens nothing.
-- The alerts are written by every idle detection and read by every fetch
-- of the activity stream while an upgrade runs this beside the previous
-- release: each table gets its policy in a transaction of its own, as
-- 00117 does, and a run stopped half-way is finished by running it again.
-- +goose NO TRANSACTION
-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE
  -- Which sessions of the fetch have an open idle alert; the late days
  -- marked for a correction; each organization's time zone, which its
  -- days are counted in. The marking's ON CONFLICT DO NOTHING names no
  -- conflict target, which would make the new rows pass the read policies
  -- as well: the set lets report read no marked day.
  policies text[][] := ARRAY[
    ['alerts', 'FOR SELECT TO workpulse_report USING (organization_id = ANY (tracking.batch_orgs()))'],
    ['summary_corrections', 'FOR INSERT TO workpulse_report WITH CHECK (organization_id = ANY (tracking.batch_orgs()))'],
    ['tenant_settings', 'FOR SELECT TO workpulse_report USING (organization_id = ANY (tracking.batch_orgs()))']];
BEGIN
  FOR i IN 1..array_length(policies, 1) LOOP
    PERFORM tracking.lock_written_tables(ARRAY['reporting.' || policies[i][1]]::regclass[]);
    IF NOT EXISTS (SELECT FROM pg_policies WHERE schemaname = 'reporting' AND tablename = policies[i][1] AND policyname = 'tenant_batch') THEN
      EXECUTE format('CREATE POLICY tenant_batch ON reporting.%I %s', policies[i][1], policies[i][2]);
    END IF;
    COMMIT;
  END LOOP;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP POLICY IF EXISTS tenant_batch ON reporting.tenant_settings;
DROP POLICY IF EXISTS tenant_batch ON reporting.summary_corrections;
DROP POLICY IF EXISTS tenant_batch ON reporting.alerts;
