-- Adoption tokens: an organization's admin proves through the API that a
-- WorkPulseTenant may take the organization over. Only the token's hash is
-- stored; it is spent once, by the resource recorded in used_by.
-- organizations.managed_by is the WorkPulseTenant (its metadata.uid) that
-- manages the organization: the operator's calls for any other resource
-- need a token.
-- +goose Up
CREATE TABLE auth.adoption_tokens (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  token_hash      bytea NOT NULL UNIQUE,
  created_by      uuid NOT NULL,
  expires_at      timestamptz NOT NULL,
  used_at         timestamptz,
  used_by         uuid,
  created_at      timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE auth.adoption_tokens ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.adoption_tokens
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

ALTER TABLE auth.organizations ADD COLUMN managed_by uuid;
-- An organization the operator created has the resource's uid as its id.
UPDATE auth.organizations SET managed_by = id WHERE tenant_generation > 0;

-- +goose Down
ALTER TABLE auth.organizations DROP COLUMN managed_by;
DROP TABLE auth.adoption_tokens;
