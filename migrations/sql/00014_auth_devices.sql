-- Devices: the desktop agents a user registered. Each holds a device
-- token, a long-lived access token signed like any other whose claims
-- (scope "device", did) let it reach the tracking routes only; the token
-- itself is never stored, only the device it names. Revoking a device
-- writes a 'device' row to the revocation list, which every service
-- applies within a poll; the row expires with the device's token.
-- last_used_at is written by the services that accept device tokens, at
-- most once a minute per device, through auth.device_used.
-- +goose Up
CREATE TABLE auth.devices (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL REFERENCES auth.organizations(id) ON DELETE CASCADE,
  user_id         uuid NOT NULL REFERENCES auth.users(id) ON DELETE CASCADE,
  name            text NOT NULL,
  created_at      timestamptz NOT NULL,
  expires_at      timestamptz NOT NULL,
  last_used_at    timestamptz,
  revoked_at      timestamptz,
  revoked_by      uuid
);
CREATE INDEX devices_live_by_user_idx ON auth.devices (user_id) WHERE revoked_at IS NULL;
ALTER TABLE auth.devices ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON auth.devices
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

ALTER TABLE auth.revocations DROP CONSTRAINT revocations_kind_check,
  ADD CONSTRAINT revocations_kind_check CHECK (kind IN ('user','organization','session','device'));

-- A service that accepted a device token knows its device id and nothing
-- of its organization's rows: this changes the last use and nothing else.
CREATE FUNCTION auth.device_used(p_id uuid, p_at timestamptz) RETURNS void
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ UPDATE auth.devices SET last_used_at = p_at
        WHERE id = p_id AND revoked_at IS NULL AND (last_used_at IS NULL OR last_used_at < p_at) $$;
REVOKE ALL ON FUNCTION auth.device_used(uuid, timestamptz) FROM PUBLIC;

-- +goose Down
DROP FUNCTION auth.device_used(uuid, timestamptz);
DELETE FROM auth.revocations WHERE kind = 'device';
ALTER TABLE auth.revocations DROP CONSTRAINT revocations_kind_check,
  ADD CONSTRAINT revocations_kind_check CHECK (kind IN ('user','organization','session'));
DROP TABLE auth.devices;
