-- Manual time entries and session edits go through an approval; each
-- request, approval and rejection is a time correction of the audit log
-- like an idle decision, written by ingest in the transaction of the change.
-- +goose Up
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_time_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
BEGIN
  IF p_action NOT IN ('time.idle_decided', 'time.requested', 'time.approved', 'time.rejected') THEN
    RAISE EXCEPTION 'auth.record_time_audit records time corrections only, not %', p_action;
  END IF;
  IF public.current_org() IS NULL THEN
    RAISE EXCEPTION 'auth.record_time_audit runs in an organization''s transaction';
  END IF;
  INSERT INTO auth.audit_log (id, organization_id, occurred_at, actor_id, action, subject_type, subject_id, details)
  VALUES (gen_random_uuid(), public.current_org(), p_at, p_actor, p_action, 'user', p_subject, coalesce(p_details, '{}'));
END $$;
-- +goose StatementEnd

-- +goose Down
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION auth.record_time_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
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
