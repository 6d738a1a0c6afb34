-- Webhook operations: the serving process exports how many deliveries wait
-- and how old the oldest is (of enabled endpoints: a disabled one's wait
-- until it is enabled again), and forgets finished deliveries once they are
-- older than the delivery log keeps. Both read or delete every
-- organization's rows, which row-level security would hide, so they are
-- functions; the pruning deletes a bounded batch per call.
-- +goose Up
CREATE INDEX webhook_deliveries_finished ON reporting.webhook_deliveries (created_at) WHERE status <> 'pending';

CREATE FUNCTION reporting.webhook_queue() RETURNS TABLE (pending bigint, oldest timestamptz)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT count(*), min(d.created_at) FROM reporting.webhook_deliveries d
        JOIN reporting.webhook_endpoints e ON e.id = d.endpoint_id
        WHERE d.status = 'pending' AND e.enabled $$;
REVOKE ALL ON FUNCTION reporting.webhook_queue() FROM PUBLIC;

CREATE FUNCTION reporting.prune_webhook_deliveries(p_before timestamptz, p_limit integer) RETURNS bigint
  LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    WITH gone AS (
      DELETE FROM reporting.webhook_deliveries WHERE id IN (
        SELECT id FROM reporting.webhook_deliveries WHERE status <> 'pending' AND created_at < p_before
        ORDER BY created_at LIMIT p_limit FOR UPDATE SKIP LOCKED)
      RETURNING 1)
    SELECT count(*) FROM gone
  $$;
REVOKE ALL ON FUNCTION reporting.prune_webhook_deliveries(timestamptz, integer) FROM PUBLIC;

-- +goose Down
DROP FUNCTION reporting.prune_webhook_deliveries(timestamptz, integer);
DROP FUNCTION reporting.webhook_queue();
DROP INDEX reporting.webhook_deliveries_finished;
