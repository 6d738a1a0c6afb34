-- Archived projects: hidden from the project pickers and refused for new
-- sessions, kept (never deleted) so that past sessions and reports still
-- name them. NULL is a project in use.
-- +goose Up
ALTER TABLE tracking.projects ADD COLUMN archived_at timestamptz;
GRANT UPDATE (archived_at) ON tracking.projects TO workpulse_session;

-- +goose Down
REVOKE UPDATE (archived_at) ON tracking.projects FROM workpulse_session;
ALTER TABLE tracking.projects DROP COLUMN archived_at;
