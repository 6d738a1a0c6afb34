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
-- +goose Up
-- The alerts are written by every idle detection and read by every fetch
-- of the activity stream while an upgrade runs this beside the previous
-- release: the three tables are taken together, as 00117 does.
SELECT tracking.lock_written_tables(ARRAY['reporting.alerts', 'reporting.summary_corrections', 'reporting.tenant_settings']::regclass[]);

-- Which sessions of the fetch have an open idle alert.
CREATE POLICY tenant_batch ON reporting.alerts FOR SELECT TO workpulse_report
  USING (organization_id = ANY (tracking.batch_orgs()));
-- The late days marked for a correction. The marking's ON CONFLICT DO
-- NOTHING names no conflict target, which would make the new rows pass the
-- read policies as well: the set lets report read no marked day.
CREATE POLICY tenant_batch ON reporting.summary_corrections FOR INSERT TO workpulse_report
  WITH CHECK (organization_id = ANY (tracking.batch_orgs()));
-- Each organization's time zone, which its days are counted in.
CREATE POLICY tenant_batch ON reporting.tenant_settings FOR SELECT TO workpulse_report
  USING (organization_id = ANY (tracking.batch_orgs()));

-- +goose Down
DROP POLICY tenant_batch ON reporting.tenant_settings;
DROP POLICY tenant_batch ON reporting.summary_corrections;
DROP POLICY tenant_batch ON reporting.alerts;
