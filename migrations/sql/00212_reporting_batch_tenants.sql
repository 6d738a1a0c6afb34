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
-- release: each table gets its policy in a statement and transaction of
-- its own, as in 00117, and a run stopped half-way is finished by running
-- it again.
-- +goose NO TRANSACTION
-- +goose Up
-- Which sessions of the fetch have an open idle alert.
SELECT tracking.create_policy_beside_writes('reporting.alerts', 'tenant_batch', 'FOR SELECT TO workpulse_report'
  ' USING (organization_id = ANY (tracking.batch_orgs()))');
-- The late days marked for a correction. The marking's ON CONFLICT DO
-- NOTHING names no conflict target, which would make the new rows pass the
-- read policies as well: the set lets report read no marked day.
SELECT tracking.create_policy_beside_writes('reporting.summary_corrections', 'tenant_batch', 'FOR INSERT TO workpulse_report'
  ' WITH CHECK (organization_id = ANY (tracking.batch_orgs()))');
-- Each organization's time zone, which its days are counted in.
SELECT tracking.create_policy_beside_writes('reporting.tenant_settings', 'tenant_batch', 'FOR SELECT TO workpulse_report'
  ' USING (organization_id = ANY (tracking.batch_orgs()))');

-- +goose Down
DROP POLICY IF EXISTS tenant_batch ON reporting.tenant_settings;
DROP POLICY IF EXISTS tenant_batch ON reporting.summary_corrections;
DROP POLICY IF EXISTS tenant_batch ON reporting.alerts;
