-- Device token renewal: an agent trades its device token for a new one
-- before, or shortly after, it expires, so that it never needs the
-- password again. token_version is the version claim (ver) of the
-- device's current token; a renewal raises it, and the device's row of
-- the revocation list refuses every token of a lower version (the
-- row's min_version) until the last of them has expired.
-- +goose Up
ALTER TABLE auth.devices ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE auth.devices DROP COLUMN token_version;
