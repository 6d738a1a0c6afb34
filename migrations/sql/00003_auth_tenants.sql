-- Tenant settings pushed by the operator through auth's internal API; auth
-- republishes them as tenant.updated events.
-- +goose Up
ALTER TABLE auth.organizations
  ADD COLUMN tenant_settings jsonb,
  ADD COLUMN tenant_generation bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE auth.organizations DROP COLUMN tenant_generation, DROP COLUMN tenant_settings;
