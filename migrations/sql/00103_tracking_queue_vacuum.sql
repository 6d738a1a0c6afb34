-- The outbox is a queue: every activity request inserts a row that the
-- relay deletes moments later, so the table holds a few hundred live rows
-- and, between vacuums, up to millions of dead ones that the relay's index
-- scan has to step over. At the default threshold (20% of the table)
-- autovacuum waits far too long on a table whose live size is near zero;
-- a fixed threshold has it reclaim the space every few thousand events.
-- work_sessions takes an update per activity request, which HOT pruning
-- mostly absorbs, but its indexes still need the same attention.
-- +goose Up
ALTER TABLE tracking.outbox SET (autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 5000,
  autovacuum_vacuum_cost_delay = 0, autovacuum_analyze_scale_factor = 0, autovacuum_analyze_threshold = 5000);
ALTER TABLE tracking.work_sessions SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_threshold = 5000);

-- +goose Down
ALTER TABLE tracking.outbox RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold,
  autovacuum_vacuum_cost_delay, autovacuum_analyze_scale_factor, autovacuum_analyze_threshold);
ALTER TABLE tracking.work_sessions RESET (autovacuum_vacuum_scale_factor, autovacuum_vacuum_threshold);
