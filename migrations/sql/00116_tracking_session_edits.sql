-- Session edits: an employee asks to change the project or the bounds of
-- one of their stopped sessions, reviewed like a manual entry. An edit is
-- a time request of kind 'edit' whose session_id names the session from
-- the start; the request carries the session's project and bounds after
-- the edit. On approval the session takes them: its activity timed
-- outside the new bounds stops counting, the time the bounds gain counts
-- as active work as a manual entry's does (see docs/time-corrections.md).
-- +goose Up
ALTER TABLE tracking.time_requests
  ADD COLUMN kind text NOT NULL DEFAULT 'entry' CHECK (kind IN ('entry', 'edit')),
  DROP CONSTRAINT time_requests_applied,
  ADD CONSTRAINT time_requests_applied CHECK (CASE kind WHEN 'entry' THEN (status = 'approved') = (session_id IS NOT NULL)
    ELSE session_id IS NOT NULL END);
-- A session's pending edits, for the reviewer's list and the erasure.
CREATE INDEX time_requests_session ON tracking.time_requests (session_id) WHERE kind = 'edit';

-- +goose Down
DROP INDEX tracking.time_requests_session;
DELETE FROM tracking.time_requests WHERE kind = 'edit';
ALTER TABLE tracking.time_requests
  DROP CONSTRAINT time_requests_applied,
  ADD CONSTRAINT time_requests_applied CHECK ((status = 'approved') = (session_id IS NOT NULL)),
  DROP COLUMN kind;
