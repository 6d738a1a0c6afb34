-- Revocations every service applies to the access tokens it verifies, so
-- that a deactivated user or organization, or a signed-out
-- session is refused within seconds rather than when its tokens expire.
-- Each service keeps the list in memory and polls it for rows whose seq
-- is past the last one it read: a change takes a new seq, so a row that
-- changes is read again. Writers take an advisory lock, so rows commit in
-- seq order and a poll never skips a lower seq committed later.
--   user:         blocked while the user is deactivated; tokens whose
--                 version (claim ver) is below min_version are refused.
--   organization: blocked while the organization is deactivated (a
--                 suspended one keeps reading; its writes are refused).
--   session:      blocked: every token of the session (claim sid) is
--                 refused; expires_at is when its last token expires.
-- +goose Up
CREATE SEQUENCE auth.revocations_seq;
CREATE TABLE auth.revocations (
  kind        text NOT NULL CHECK (kind IN ('user','organization','session')),
  subject     uuid NOT NULL,
  blocked     boolean NOT NULL DEFAULT false,
  min_version integer NOT NULL DEFAULT 0,
  expires_at  timestamptz,
  seq         bigint NOT NULL DEFAULT nextval('auth.revocations_seq'),
  PRIMARY KEY (kind, subject)
);
CREATE INDEX revocations_seq_idx ON auth.revocations (seq);

-- The version an access token carries: raising it (a role change, "sign
-- out everywhere") refuses every token issued before.
ALTER TABLE auth.users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- The services read the list through this function only: it names no
-- tenant and no person beyond the ids they already meet in tokens.
CREATE FUNCTION auth.revocations_after(p_seq bigint, p_limit integer)
  RETURNS TABLE (kind text, subject uuid, blocked boolean, min_version integer, expires_at timestamptz, seq bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT kind, subject, blocked, min_version, expires_at, seq FROM auth.revocations
        WHERE seq > p_seq ORDER BY seq LIMIT p_limit $$;
REVOKE ALL ON FUNCTION auth.revocations_after(bigint, integer) FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE, DELETE ON auth.revocations TO workpulse_auth;
GRANT USAGE ON SEQUENCE auth.revocations_seq TO workpulse_auth;
GRANT USAGE ON SCHEMA auth TO workpulse_session, workpulse_ingest, workpulse_report, workpulse_realtime;
GRANT EXECUTE ON FUNCTION auth.revocations_after(bigint, integer)
  TO workpulse_auth, workpulse_session, workpulse_ingest, workpulse_report, workpulse_realtime;

-- +goose Down
REVOKE USAGE ON SCHEMA auth FROM workpulse_session, workpulse_ingest, workpulse_report, workpulse_realtime;
DROP FUNCTION auth.revocations_after(bigint, integer);
ALTER TABLE auth.users DROP COLUMN token_version;
DROP TABLE auth.revocations;
DROP SEQUENCE auth.revocations_seq;
