-- Each organization's idle detection looks up its own open idle alerts.
-- alerts_one_open_idle (session_id) holds every organization's, so with
-- statistics that have not caught up (an organization that has just
-- raised 10,000 alerts) the planner scanned all of them for each other
-- organization, tens of milliseconds each. Led by the organization, this
-- index keeps that lookup to the organization's own alerts.
-- +goose Up
CREATE INDEX alerts_open_idle_by_org ON reporting.alerts (organization_id, session_id)
  WHERE alert_type = 'idle' AND resolved_at IS NULL;

-- +goose Down
DROP INDEX reporting.alerts_open_idle_by_org;
