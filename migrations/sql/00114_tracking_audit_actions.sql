-- What ingest may record in auth's audit log becomes a table that
-- auth.record_tracking_audit reads, so a feature that records a new kind
-- of entry inserts one row instead of restating the whole function (as
-- 00111 and 00112 had to).
-- +goose Up
CREATE TABLE auth.tracking_audit_actions (
  action text PRIMARY KEY CHECK (action ~ '^[a-z_]+\.[a-z_]+$')
);
INSERT INTO auth.tracking_audit_actions (action) VALUES
  ('organization.redaction_changed'), ('user.data_exported'), ('time.idle_decided'),
  ('time.requested'), ('time.approved'), ('time.rejected');

-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM auth.tracking_audit_actions WHERE action = p_action) THEN
    RAISE EXCEPTION 'auth.record_tracking_audit records only the actions listed in auth.tracking_audit_actions, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_tracking_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, CASE WHEN p_subject IS NULL THEN 'organization' ELSE 'user' END,
          p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('organization.redaction_changed', 'user.data_exported', 'time.idle_decided', 'time.requested', 'time.approved', 'time.rejected') THEN
    RAISE EXCEPTION 'auth.record_tracking_audit records redaction changes, data exports and time corrections only, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_tracking_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, CASE WHEN p_subject IS NULL THEN 'organization' ELSE 'user' END,
          p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd
DROP TABLE auth.tracking_audit_actions;
