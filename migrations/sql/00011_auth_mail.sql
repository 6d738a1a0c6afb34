-- Mail: auth queues each message in the transaction that causes it (a
-- password reset, an invitation) and a sender delivers it afterwards, so
-- that a slow or unreachable SMTP server never holds up a request and a
-- message is sent only for a change that committed. A row is deleted once
-- the server accepted it; until then it holds the rendered message, link
-- included, as the outbox holds events.
--
-- Password resets: only the token's hash is stored; a token is spent once
-- and expires.
-- +goose Up
CREATE TABLE auth.mail_outbox (
  id              bigserial PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  recipient       text NOT NULL,
  subject         text NOT NULL,
  body            text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text
);
CREATE INDEX mail_outbox_due_idx ON auth.mail_outbox (next_attempt_at);

CREATE TABLE auth.password_resets (
  token_hash      bytea PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz
);
CREATE INDEX password_resets_user_idx ON auth.password_resets (user_id) WHERE used_at IS NULL;
ALTER TABLE auth.password_resets ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.password_resets
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- A reset is presented by someone who is not signed in: this finds the
-- organization to enter.
CREATE FUNCTION auth.password_reset_organization(p_token_hash bytea) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT organization_id FROM auth.password_resets WHERE token_hash = p_token_hash $$;
REVOKE ALL ON FUNCTION auth.password_reset_organization(bytea) FROM PUBLIC;

-- +goose Down
DROP FUNCTION auth.password_reset_organization(bytea);
DROP TABLE auth.password_resets;
DROP TABLE auth.mail_outbox;
