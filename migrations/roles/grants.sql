-- Every privilege of the services' login roles, applied after each
-- `migrate up` to roles named after the installation (see package roles).
-- A migration that adds an object a service uses grants it here, not in
-- the migration: the role names are only known when the migrations run.
-- {{.auth}} and the others are the quoted role names.

GRANT USAGE ON SCHEMA auth TO {{.auth}};
GRANT SELECT, INSERT, UPDATE ON auth.organizations, auth.users, auth.invitations TO {{.auth}};
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.signing_keys, auth.outbox TO {{.auth}};
GRANT USAGE ON SEQUENCE auth.outbox_id_seq TO {{.auth}};
GRANT EXECUTE ON FUNCTION auth.login_candidates(text), auth.email_registered(text), auth.invitation_by_token(bytea) TO {{.auth}};
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.revocations TO {{.auth}};
GRANT USAGE ON SEQUENCE auth.revocations_seq TO {{.auth}};
GRANT SELECT, INSERT, UPDATE ON auth.sessions, auth.refresh_tokens TO {{.auth}};
GRANT EXECUTE ON FUNCTION auth.refresh_token_organization(bytea) TO {{.auth}};
GRANT SELECT, INSERT, UPDATE ON auth.adoption_tokens TO {{.auth}};
GRANT SELECT, INSERT, UPDATE ON auth.password_resets TO {{.auth}};
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.mail_outbox TO {{.auth}};
GRANT USAGE ON SEQUENCE auth.mail_outbox_id_seq TO {{.auth}};
GRANT EXECUTE ON FUNCTION auth.password_reset_organization(bytea) TO {{.auth}};
-- Removing a member deletes their row (and, by cascade, their sessions).
GRANT DELETE ON auth.users TO {{.auth}};
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.sso_configs, auth.sso_domains, auth.sso_logins TO {{.auth}};
GRANT EXECUTE ON FUNCTION auth.sso_domain_organization(text), auth.sso_login_organization(bytea), auth.sso_organizations() TO {{.auth}};
GRANT SELECT, INSERT, UPDATE ON auth.devices TO {{.auth}};
GRANT SELECT, INSERT ON auth.audit_log TO {{.auth}};
-- Every service checks revoked tokens, through the function only.
GRANT USAGE ON SCHEMA auth TO {{.session}}, {{.ingest}}, {{.report}}, {{.realtime}};
GRANT EXECUTE ON FUNCTION auth.revocations_after(bigint, integer) TO {{.auth}}, {{.session}}, {{.ingest}}, {{.report}}, {{.realtime}};
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.teams, auth.team_members TO {{.auth}};
GRANT SELECT, INSERT, UPDATE ON auth.team_scopes TO {{.auth}};
GRANT USAGE ON SEQUENCE auth.team_scopes_seq TO {{.auth}};
-- Every service scopes what a manager sees by the teams they manage,
-- through the function only.
GRANT EXECUTE ON FUNCTION auth.team_scopes_after(bigint, integer) TO {{.auth}}, {{.session}}, {{.ingest}}, {{.report}}, {{.realtime}};
-- The services that accept device tokens record their last use.
GRANT EXECUTE ON FUNCTION auth.device_used(uuid, timestamptz) TO {{.session}}, {{.ingest}};
-- The report service records reads of another member's report and exports.
GRANT EXECUTE ON FUNCTION auth.record_report_audit(timestamptz, uuid, text, uuid, jsonb) TO {{.report}};

GRANT USAGE ON SCHEMA tracking TO {{.session}}, {{.ingest}}, {{.report}}, {{.realtime}};
GRANT SELECT, INSERT ON tracking.projects TO {{.session}};
GRANT SELECT, INSERT, UPDATE ON tracking.work_sessions TO {{.session}};
GRANT UPDATE (archived_at) ON tracking.projects TO {{.session}};
GRANT SELECT, UPDATE ON tracking.work_sessions TO {{.ingest}};
GRANT SELECT, INSERT ON tracking.activity_logs, tracking.activity_dedup TO {{.ingest}};
GRANT SELECT ON tracking.projects TO {{.ingest}};
-- A removed member's data is erased by its owners when the admin chose to.
GRANT DELETE ON tracking.work_sessions TO {{.session}};
GRANT DELETE ON tracking.activity_logs, tracking.activity_dedup TO {{.ingest}};
GRANT SELECT, INSERT, UPDATE ON tracking.tenants TO {{.session}}, {{.ingest}};
GRANT SELECT, INSERT, UPDATE, DELETE ON tracking.outbox TO {{.session}}, {{.ingest}};
GRANT USAGE ON SEQUENCE tracking.outbox_id_seq TO {{.session}}, {{.ingest}};
GRANT SELECT, INSERT, DELETE ON tracking.processed_events TO {{.session}}, {{.ingest}};
GRANT EXECUTE ON FUNCTION tracking.active_session_count() TO {{.session}};
GRANT EXECUTE ON FUNCTION tracking.business_figures(timestamptz, timestamptz) TO {{.session}};
GRANT EXECUTE ON FUNCTION tracking.ensure_activity_month(uuid, date) TO {{.ingest}};
-- ingest owns the session totals, so it makes the idle decisions; an
-- erasure of a member's activity (ingest's) deletes what pins it.
GRANT SELECT, INSERT ON tracking.idle_decisions TO {{.ingest}};
GRANT SELECT, INSERT, DELETE ON tracking.idle_decision_activity TO {{.ingest}};
GRANT SELECT ON tracking.idle_decisions, tracking.idle_decision_activity TO {{.report}};
-- Manual time entries: ingest keeps the requests and, on approval, makes
-- the entry's stopped session and its activity; an erasure of a member's
-- activity (ingest's) deletes their requests.
GRANT SELECT, INSERT, UPDATE, DELETE ON tracking.time_requests TO {{.ingest}};
GRANT INSERT ON tracking.work_sessions TO {{.ingest}};
GRANT SELECT ON tracking.time_requests TO {{.report}};
-- Ingest keeps the organizations' URL redaction rules, reads every
-- organization's changes through the function, and audits changes and
-- idle decisions.
GRANT SELECT, INSERT, UPDATE ON tracking.url_redaction TO {{.ingest}};
GRANT USAGE ON SEQUENCE tracking.url_redaction_seq TO {{.ingest}};
GRANT EXECUTE ON FUNCTION tracking.url_redaction_after(bigint, integer) TO {{.ingest}};
GRANT EXECUTE ON FUNCTION auth.record_tracking_audit(timestamptz, uuid, text, uuid, jsonb) TO {{.ingest}};
-- Ingest sets the timesheet locks; ingest and session refuse changes of
-- time in the days they lock.
GRANT SELECT, INSERT, UPDATE, DELETE ON tracking.timesheet_locks TO {{.ingest}};
GRANT EXECUTE ON FUNCTION tracking.known_zone(text) TO {{.ingest}};
GRANT SELECT ON tracking.timesheet_locks TO {{.session}};
-- The policies that let a combined write of many organizations' posts
-- (migration 00117) read and write the rows of its batch's organizations
-- apply to ingest alone, and those of report's lookups across the
-- organizations of one fetch of the activity stream (00212) to report alone.
GRANT EXECUTE ON FUNCTION tracking.batch_orgs() TO {{.ingest}}, {{.report}};
-- Only where a policy names another role: ALTER POLICY locks its table
-- against every read and write, and every upgrade runs this script while
-- the previous release is still writing (lock_written_tables, 00117, says
-- how the locks are taken then).
DO $$
DECLARE
  tables regclass[] := ARRAY['tracking.work_sessions', 'tracking.activity_logs', 'tracking.activity_dedup', 'tracking.tenants',
    'reporting.alerts', 'reporting.summary_corrections', 'reporting.tenant_settings'];
  roles regrole[] := ARRAY['{{.ingest}}', '{{.ingest}}', '{{.ingest}}', '{{.ingest}}', '{{.report}}', '{{.report}}', '{{.report}}'];
  stale regclass[];
  pair record;
BEGIN
  SELECT array_agg(x.t) INTO stale FROM unnest(tables, roles) AS x(t, r)
    JOIN pg_policy p ON p.polrelid = x.t AND p.polname = 'tenant_batch' AND p.polroles <> ARRAY[x.r::oid];
  IF stale IS NOT NULL THEN
    PERFORM tracking.lock_written_tables(stale);
    FOR pair IN SELECT x.t, x.r FROM unnest(tables, roles) AS x(t, r) WHERE x.t = ANY (stale) LOOP
      EXECUTE format('ALTER POLICY tenant_batch ON %s TO %s', pair.t, pair.r);
    END LOOP;
  END IF;
END $$;
-- Reports and the realtime service read tracking data; they never write it.
GRANT SELECT ON tracking.work_sessions, tracking.activity_logs, tracking.projects TO {{.report}}, {{.realtime}};

GRANT USAGE ON SCHEMA reporting TO {{.report}};
GRANT SELECT, INSERT, UPDATE ON reporting.tenant_settings, reporting.users, reporting.daily_summaries,
  reporting.alerts, reporting.jobs, reporting.summary_progress, reporting.report_versions TO {{.report}};
GRANT SELECT, INSERT, UPDATE, DELETE ON reporting.outbox TO {{.report}};
GRANT USAGE ON SEQUENCE reporting.outbox_id_seq TO {{.report}};
GRANT SELECT, INSERT, DELETE ON reporting.processed_events TO {{.report}};
GRANT DELETE ON reporting.jobs TO {{.report}};
-- A removed member's data is erased when the admin chose to.
GRANT DELETE ON reporting.users, reporting.daily_summaries, reporting.alerts TO {{.report}};
-- Report forgets an erased member's id once nothing of theirs is left to count (erasedRetention).
GRANT SELECT, INSERT, DELETE ON reporting.erased_members TO {{.report}};
GRANT EXECUTE ON FUNCTION reporting.tenant_ids(), reporting.app_name(text), reporting.tenant_ids_most_behind_first() TO {{.report}};
GRANT SELECT, INSERT, UPDATE, DELETE ON reporting.summary_corrections, reporting.summary_reconciliation TO {{.report}};
GRANT EXECUTE ON FUNCTION reporting.tenant_ids_with_corrections(), reporting.reconciliation_differences() TO {{.report}};
GRANT SELECT, INSERT, UPDATE, DELETE ON reporting.webhook_endpoints, reporting.webhook_deliveries TO {{.report}};
GRANT EXECUTE ON FUNCTION reporting.tenant_ids_with_due_webhooks(timestamptz) TO {{.report}};
GRANT EXECUTE ON FUNCTION reporting.tenant_ids_with_webhooks() TO {{.report}};
GRANT EXECUTE ON FUNCTION reporting.webhook_queue(), reporting.prune_webhook_deliveries(timestamptz, integer) TO {{.report}};
GRANT SELECT, INSERT, DELETE ON reporting.category_rules TO {{.report}};
GRANT EXECUTE ON FUNCTION reporting.team_memberships(), reporting.team_exists(uuid) TO {{.report}};

-- The operator owns nothing: it changes the activity trees only through the
-- owner's functions of migrations/sql/00400_operator_storage_functions.sql,
-- and deletes an organization's rows (retention, a deleted tenant) inside
-- that organization's row-level security scope, reading no column but those
-- that select the rows.
GRANT USAGE ON SCHEMA tracking, reporting, auth TO {{.operator}};
GRANT EXECUTE ON FUNCTION tracking.ensure_tree_month(text, date), tracking.drop_month_partition(text, date, timestamptz),
  tracking.activity_months(uuid, text), tracking.create_dedicated_tree(uuid), tracking.copy_to_dedicated(uuid),
  tracking.attach_dedicated_tree(uuid), tracking.move_to_shared(uuid), tracking.drop_dedicated_tree(uuid),
  tracking.retention_organizations(), tracking.retention_due(uuid[], timestamptz[], date[]),
  tracking.widest_activity_window() TO {{.operator}};
GRANT SELECT (organization_id, occurred_at, id), DELETE ON tracking.activity_logs TO {{.operator}};
GRANT SELECT (organization_id, occurred_at, user_id, client_activity_id), DELETE ON tracking.activity_dedup TO {{.operator}};
GRANT SELECT (organization_id, id, status, start_time, end_time), DELETE ON tracking.work_sessions TO {{.operator}};
GRANT SELECT (organization_id, id, date), DELETE ON reporting.daily_summaries TO {{.operator}};
GRANT SELECT (organization_id, id, created_at), DELETE ON reporting.alerts TO {{.operator}};
-- The audit log is kept per the organization's retention like its activity.
GRANT SELECT (organization_id, id, occurred_at), DELETE ON auth.audit_log TO {{.operator}};
-- The business row's open alerts, across tenants, through the function only.
GRANT EXECUTE ON FUNCTION reporting.open_alert_counts() TO {{.report}};
