-- GET /api/sessions/today reads an organization's sessions started since
-- its midnight (and the running ones, which work_sessions_one_active
-- finds). work_sessions_user_start leads with user_id, so without this
-- index that read walks every session the organization ever had. No column
-- ingest updates is in it, so its updates stay HOT.
-- +goose Up
CREATE INDEX work_sessions_org_start ON tracking.work_sessions (organization_id, start_time);

-- +goose Down
DROP INDEX tracking.work_sessions_org_start;
