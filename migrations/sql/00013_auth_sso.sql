-- Single sign-on: an organization's OpenID Provider (one per
-- organization), the verified email domains whose people it signs in, and
-- the sign-ins under way between the redirect to the provider and the
-- callback. The client secret is sealed like the signing keys' private
-- parts. A domain belongs to one organization at most, so that the start
-- of a sign-in finds its organization from an email address alone.
-- +goose Up
CREATE TABLE auth.sso_configs (
  organization_id uuid PRIMARY KEY REFERENCES auth.organizations(id) ON DELETE CASCADE,
  issuer_url      text NOT NULL CHECK (length(issuer_url) BETWEEN 1 AND 2048),
  client_id       text NOT NULL CHECK (length(client_id) BETWEEN 1 AND 256),
  client_secret   bytea NOT NULL,
  sso_only        boolean NOT NULL DEFAULT false,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);

CREATE TABLE auth.sso_domains (
  domain          text PRIMARY KEY CHECK (domain = lower(domain) AND length(domain) BETWEEN 1 AND 253),
  organization_id uuid NOT NULL REFERENCES auth.sso_configs(organization_id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_organization_idx ON auth.sso_domains (organization_id);

-- Only the state's hash is stored; the browser holds the state itself.
CREATE TABLE auth.sso_logins (
  state_hash      bytea PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  nonce           text NOT NULL,
  code_verifier   text NOT NULL,
  expires_at      timestamptz NOT NULL
);
CREATE INDEX sso_logins_expires_idx ON auth.sso_logins (organization_id, expires_at);

ALTER TABLE auth.sso_configs ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_domains ENABLE ROW LEVEL SECURITY;
ALTER TABLE auth.sso_logins ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.sso_configs
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());
CREATE POLICY tenant_isolation ON auth.sso_domains
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());
CREATE POLICY tenant_isolation ON auth.sso_logins
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- A sign-in starts from an email address and comes back with a state,
-- neither naming the organization: these find the one to enter.
CREATE FUNCTION auth.sso_domain_organization(p_domain text) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT organization_id FROM auth.sso_domains WHERE domain = lower(p_domain) $$;
CREATE FUNCTION auth.sso_login_organization(p_state_hash bytea) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT organization_id FROM auth.sso_logins WHERE state_hash = p_state_hash $$;
-- Resealing the client secrets after the encryption key rotates visits
-- every organization that has one.
CREATE FUNCTION auth.sso_organizations() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT organization_id FROM auth.sso_configs $$;
REVOKE ALL ON FUNCTION auth.sso_domain_organization(text), auth.sso_login_organization(bytea), auth.sso_organizations() FROM PUBLIC;

-- +goose Down
DROP FUNCTION auth.sso_organizations();
DROP FUNCTION auth.sso_login_organization(bytea);
DROP FUNCTION auth.sso_domain_organization(text);
DROP TABLE auth.sso_logins;
DROP TABLE auth.sso_domains;
DROP TABLE auth.sso_configs;
