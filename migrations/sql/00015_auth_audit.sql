-- The audit log: who did what to whom in an organization. Auth writes its
-- entries in the transaction of the change they record (role changes,
-- deactivations, revocations, devices, invitations, settings); the report
-- service records reads of another member's report and exports through
-- auth.record_report_audit, in its own organization's transaction. Admins
-- read it through GET /api/audit; the storage maintenance deletes the
-- entries older than the organization's retention_months with its other
-- rows.
-- +goose Up
CREATE TABLE auth.audit_log (
  id              uuid PRIMARY KEY,
  -- No foreign key: an entry outlives what it names (a removed member,
  -- a revoked device), and only retention deletes entries.
  organization_id uuid NOT NULL,
  occurred_at     timestamptz NOT NULL,
  -- actor_id is NULL for what the platform did on its own (the operator).
  actor_id        uuid,
  action          text NOT NULL,
  subject_type    text NOT NULL,
  subject_id      uuid,
  details         jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_by_time_idx ON auth.audit_log (organization_id, occurred_at DESC, id DESC);
CREATE INDEX audit_log_by_actor_idx ON auth.audit_log (organization_id, actor_id, occurred_at DESC);
CREATE INDEX audit_log_by_subject_idx ON auth.audit_log (organization_id, subject_id, occurred_at DESC);
ALTER TABLE auth.audit_log ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.audit_log
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- The report service writes report entries of the organization its
-- transaction is in, and nothing else.
-- +goose StatementBegin
CREATE FUNCTION auth.record_report_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('report.read', 'report.exported') THEN
    RAISE EXCEPTION 'auth.record_report_audit records report reads and exports only, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_report_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, CASE WHEN p_subject IS NULL THEN 'organization' ELSE 'user' END,
          p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION auth.record_report_audit(timestamptz, uuid, text, uuid, jsonb) FROM PUBLIC;

-- +goose Down
DROP FUNCTION auth.record_report_audit(timestamptz, uuid, text, uuid, jsonb);
DROP TABLE auth.audit_log;
