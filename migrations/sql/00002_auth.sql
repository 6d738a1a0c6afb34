-- +goose Up
CREATE TABLE auth.organizations (
  id          uuid PRIMARY KEY,
  name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
  plan_type   text NOT NULL DEFAULT 'free' CHECK (plan_type IN ('free','pro','enterprise')),
  active      boolean NOT NULL DEFAULT true,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE auth.users (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  email           text NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
  name            text NOT NULL CHECK (length(name) BETWEEN 2 AND 200),
  password_hash   text NOT NULL,
  role            text NOT NULL CHECK (role IN ('admin','employee')),
  active          boolean NOT NULL DEFAULT true,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_org_email_key ON auth.users (organization_id, lower(email));
CREATE INDEX users_email_idx ON auth.users (lower(email));

CREATE TABLE auth.invitations (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  email           text NOT NULL,
  role            text NOT NULL CHECK (role IN ('admin','employee')),
  token_hash      bytea NOT NULL UNIQUE,
  created_by      uuid NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Signing keys: more than one may be published at a time so that keys
-- rotate without invalidating tokens that are still valid.
CREATE TABLE auth.signing_keys (
  kid          text PRIMARY KEY,
  private_key  bytea NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  -- After retire_at the key no longer signs; it is still published until
  -- expire_at so that tokens it signed stay verifiable.
  retire_at    timestamptz NOT NULL,
  expire_at    timestamptz NOT NULL
);

CREATE TABLE auth.outbox (
  id              bigserial PRIMARY KEY,
  event_id        uuid NOT NULL UNIQUE,
  topic           text NOT NULL,
  key             text NOT NULL,
  payload         jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  attempts        integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  last_error      text
);

ALTER TABLE auth.organizations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.organizations
  USING (id = public.current_org()) WITH CHECK (id = public.current_org());
ALTER TABLE auth.users ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.users
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());
ALTER TABLE auth.invitations ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.invitations
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- Login and registration must look across organizations (an email may
-- belong to several); these definer functions are the only way through.
CREATE FUNCTION auth.login_candidates(p_email text)
  RETURNS TABLE (id uuid, organization_id uuid, password_hash text, active boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT u.id, u.organization_id, u.password_hash, (u.active AND o.active)
    FROM auth.users u JOIN auth.organizations o ON o.id = u.organization_id
    WHERE lower(u.email) = lower(p_email)
  $$;

CREATE FUNCTION auth.email_registered(p_email text) RETURNS boolean
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT EXISTS (SELECT 1 FROM auth.users WHERE lower(email) = lower(p_email)) $$;

-- An invitation is presented by someone who is not yet a member.
CREATE FUNCTION auth.invitation_by_token(p_token_hash bytea)
  RETURNS TABLE (id uuid, organization_id uuid, email text, role text, expires_at timestamptz, used_at timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT i.id, i.organization_id, i.email, i.role, i.expires_at, i.used_at
        FROM auth.invitations i WHERE i.token_hash = p_token_hash $$;

REVOKE ALL ON FUNCTION auth.login_candidates(text), auth.email_registered(text), auth.invitation_by_token(bytea) FROM PUBLIC;
GRANT USAGE ON SCHEMA auth TO workpulse_auth;
GRANT SELECT, INSERT, UPDATE ON auth.organizations, auth.users, auth.invitations TO workpulse_auth;
GRANT SELECT, INSERT, UPDATE, DELETE ON auth.signing_keys, auth.outbox TO workpulse_auth;
GRANT USAGE ON SEQUENCE auth.outbox_id_seq TO workpulse_auth;
GRANT EXECUTE ON FUNCTION auth.login_candidates(text), auth.email_registered(text), auth.invitation_by_token(bytea) TO workpulse_auth;

-- +goose Down
DROP FUNCTION auth.invitation_by_token(bytea);
DROP FUNCTION auth.email_registered(text);
DROP FUNCTION auth.login_candidates(text);
DROP TABLE auth.outbox;
DROP TABLE auth.signing_keys;
DROP TABLE auth.invitations;
DROP TABLE auth.users;
DROP TABLE auth.organizations;
