-- Webhooks: an organization's endpoints hear about its alerts and
-- sessions. The webhook consumer writes one delivery per (event,
-- endpoint) in the transaction that records the event as processed; the
-- serving process sends the due ones, signed with the endpoint's secret,
-- and retries a failed one with backoff for a day.
-- +goose Up
CREATE TABLE reporting.webhook_endpoints (
  id              uuid PRIMARY KEY,
  organization_id uuid NOT NULL,
  url             text NOT NULL,
  event_types     text[] NOT NULL,
  -- Shown once, when the endpoint is created; the API never returns it again.
  secret          text NOT NULL,
  enabled         boolean NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL
);
CREATE INDEX webhook_endpoints_org ON reporting.webhook_endpoints (organization_id, created_at);

CREATE TABLE reporting.webhook_deliveries (
  id               uuid PRIMARY KEY,
  organization_id  uuid NOT NULL,
  endpoint_id      uuid NOT NULL REFERENCES reporting.webhook_endpoints (id) ON DELETE CASCADE,
  event_id         uuid NOT NULL,
  event_type       text NOT NULL,
  -- The exact bytes that are sent and signed.
  body             text NOT NULL,
  status           text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz,
  last_status_code integer,
  last_error       text,
  created_at       timestamptz NOT NULL,
  delivered_at     timestamptz,
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_due ON reporting.webhook_deliveries (organization_id, next_attempt_at)
  WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON reporting.webhook_deliveries (endpoint_id, created_at DESC);

ALTER TABLE reporting.webhook_endpoints ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reporting.webhook_endpoints
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());
ALTER TABLE reporting.webhook_deliveries ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reporting.webhook_deliveries
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- Ids only, so that the sending loop visits each organization with due
-- deliveries in its own transactions under row-level security.
CREATE FUNCTION reporting.tenant_ids_with_due_webhooks(p_now timestamptz) RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT organization_id FROM reporting.webhook_deliveries
    WHERE status = 'pending' AND next_attempt_at <= p_now GROUP BY 1 ORDER BY min(next_attempt_at)
  $$;
REVOKE ALL ON FUNCTION reporting.tenant_ids_with_due_webhooks(timestamptz) FROM PUBLIC;

-- +goose Down
DROP FUNCTION reporting.tenant_ids_with_due_webhooks(timestamptz);
DROP TABLE reporting.webhook_deliveries;
DROP TABLE reporting.webhook_endpoints;
