-- The type of a session's latest activity (the one at last_activity_at):
-- whether the person was active or idle when the agent last reported, which
-- last_activity_at alone does not say. Ingest keeps it with
-- last_activity_at. Sessions whose latest activity was stored before the
-- column existed have none until their next activity; nothing is
-- backfilled, as that would lock the running sessions' rows against the
-- posts of the release still running.
-- +goose Up
-- Every post writes the table: wait for its lock in tries of 100 ms (see
-- 00117) rather than queue the posts behind a waiting ALTER.
SELECT tracking.lock_written_tables(ARRAY['tracking.work_sessions']::regclass[]);
ALTER TABLE tracking.work_sessions
  ADD COLUMN last_activity_type text CHECK (last_activity_type IN ('active', 'idle'));

-- +goose Down
ALTER TABLE tracking.work_sessions DROP COLUMN last_activity_type;
