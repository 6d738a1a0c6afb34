-- Time corrections are audited in the organization's audit log like every
-- other change: who changed whose time, when, and the numbers before and
-- after. The tracking services write these entries through this function,
-- in the transaction of the change, and nothing else of the audit log.
-- +goose Up
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

-- +goose Down
DROP FUNCTION auth.record_time_audit(timestamptz, uuid, text, uuid, jsonb);
