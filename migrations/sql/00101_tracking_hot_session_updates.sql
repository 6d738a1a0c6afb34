-- Activity increments update a session's total_*_seconds, last_activity_at,
-- version and updated_at thousands of times a second. The index on
-- last_activity_at made each of those a non-HOT update: a new entry in
-- every index of work_sessions, and dead entries piling up under the
-- primary key that every activity request looks up. With it gone no column
-- that ingest updates is indexed, so the updates are HOT, and a lower
-- fillfactor keeps room on each page for them. Idle detection reads the
-- active sessions of an organization, which work_sessions_user_start and
-- work_sessions_one_active serve without it.
-- +goose Up
DROP INDEX tracking.work_sessions_active_last;
ALTER TABLE tracking.work_sessions SET (fillfactor = 50);

-- +goose Down
ALTER TABLE tracking.work_sessions RESET (fillfactor);
CREATE INDEX work_sessions_active_last ON tracking.work_sessions (last_activity_at) WHERE status = 'active';
