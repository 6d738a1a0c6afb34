-- Ingest writes every entry of auth's audit log it records (redaction
-- changes, data exports and idle decisions) through one function, so that
-- what it may record is one list. auth.record_time_audit, which recorded
-- the idle decisions only, goes.
-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('organization.redaction_changed', 'user.data_exported', 'time.idle_decided') THEN
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
DROP FUNCTION auth.record_time_audit(timestamptz, uuid, text, uuid, jsonb);

-- +goose Down
-- +goose StatementBegin
CREATE FUNCTION auth.record_time_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('time.idle_decided') THEN
    RAISE EXCEPTION 'auth.record_time_audit records time corrections only, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_time_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, 'user', p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION auth.record_time_audit(timestamptz, uuid, text, uuid, jsonb) FROM PUBLIC;
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('organization.redaction_changed', 'user.data_exported') THEN
    RAISE EXCEPTION 'auth.record_tracking_audit records redaction changes and data exports only, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_tracking_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, CASE WHEN p_subject IS NULL THEN 'organization' ELSE 'user' END,
          p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd
