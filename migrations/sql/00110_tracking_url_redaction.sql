-- URL redaction: each organization's rules for what of a visited URL (or
-- application name) ingest may keep. Ingest applies them before anything
-- is stored or published, so it keeps every organization's rules in
-- memory and polls for rows with a seq past the last one read, as the
-- services do auth.team_scopes: a change applies within a poll and no
-- activity post reads a row. A writer takes an advisory lock and a new seq
-- in the same transaction, so rows commit in seq order and a poll never
-- skips a lower seq committed later. The function reads every
-- organization's rows, which row-level security would hide.
-- +goose Up
CREATE SEQUENCE tracking.url_redaction_seq;
CREATE TABLE tracking.url_redaction (
  organization_id uuid PRIMARY KEY,
  rules           jsonb NOT NULL CHECK (jsonb_typeof(rules) = 'array'),
  seq             bigint NOT NULL DEFAULT nextval('tracking.url_redaction_seq'),
  updated_at      timestamptz NOT NULL,
  updated_by      uuid
);
CREATE INDEX url_redaction_seq_idx ON tracking.url_redaction (seq);
ALTER TABLE tracking.url_redaction ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON tracking.url_redaction
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

CREATE FUNCTION tracking.url_redaction_after(p_seq bigint, p_limit integer)
  RETURNS TABLE (organization_id uuid, rules jsonb, seq bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT organization_id, rules, seq FROM tracking.url_redaction
        WHERE seq > p_seq ORDER BY seq LIMIT p_limit $$;
REVOKE ALL ON FUNCTION tracking.url_redaction_after(bigint, integer) FROM PUBLIC;

-- Ingest records changes of the rules, and exports of a member's data, in
-- auth's audit log, in its own organization's transaction.
-- +goose StatementBegin
CREATE FUNCTION auth.record_tracking_audit(p_at timestamptz, p_actor uuid, p_action text, p_subject uuid, p_details jsonb) RETURNS void
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
REVOKE ALL ON FUNCTION auth.record_tracking_audit(timestamptz, uuid, text, uuid, jsonb) FROM PUBLIC;

-- +goose Down
DROP FUNCTION auth.record_tracking_audit(timestamptz, uuid, text, uuid, jsonb);
DROP FUNCTION tracking.url_redaction_after(bigint, integer);
DROP TABLE tracking.url_redaction;
DROP SEQUENCE tracking.url_redaction_seq;
