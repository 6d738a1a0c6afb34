-- Session revocations stop mattering when the session's last access token
-- has expired (expires_at); the auth service deletes them in batches from
-- then on, so the list stays the size of what can still be refused. The
-- partial index finds them without reading the user and organization
-- rows, which never expire.
-- +goose Up
CREATE INDEX revocations_expires_at_idx ON auth.revocations (expires_at) WHERE expires_at IS NOT NULL;

-- +goose Down
DROP INDEX auth.revocations_expires_at_idx;
