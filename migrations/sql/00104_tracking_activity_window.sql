-- An organization's own accepted window: how many days back the API takes
-- an activity's timestamp or a session's start_time. NULL is the
-- installation's default (ACTIVITY_WINDOW_DAYS). Storage maintenance keeps
-- the shared tree's months back to the widest window any organization has.
-- +goose Up
ALTER TABLE tracking.tenants ADD COLUMN activity_window_days integer CHECK (activity_window_days BETWEEN 1 AND 366);

-- +goose Down
ALTER TABLE tracking.tenants DROP COLUMN activity_window_days;
