-- Endpoint secrets are sealed at rest (AES-256-GCM with the installation's
-- SIGNING_KEY_ENCRYPTION_KEY), so that a copy of the database cannot sign
-- deliveries. The column becomes bytes; the secrets stored so far are
-- marked as stored without a cipher ("wpp1"), and the report service
-- seals them when it starts with a key.
-- +goose Up
ALTER TABLE reporting.webhook_endpoints
  ALTER COLUMN secret TYPE bytea USING '\x77707031'::bytea || convert_to(secret, 'UTF8');

-- Ids only, so that the report service reseals each organization's
-- secrets in its own transaction under row-level security.
CREATE FUNCTION reporting.tenant_ids_with_webhooks() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT DISTINCT organization_id FROM reporting.webhook_endpoints $$;
REVOKE ALL ON FUNCTION reporting.tenant_ids_with_webhooks() FROM PUBLIC;

-- +goose Down
-- Only secrets stored without a cipher ("wpp1") convert back: a sealed
-- one opens with the key only, in the service.
DROP FUNCTION reporting.tenant_ids_with_webhooks();
ALTER TABLE reporting.webhook_endpoints
  ALTER COLUMN secret TYPE text USING convert_from(substring(secret FROM 5), 'UTF8');
