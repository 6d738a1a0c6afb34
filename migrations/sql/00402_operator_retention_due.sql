-- The hourly retention pass runs for every organization, and most have
-- nothing expired: deleting batch by batch, table by table, cost each of
-- them six transactions an hour (24,000 statements a pass with 1,000
-- organizations). This answers in one statement which of the organizations
-- given (each with the instant its oldest kept local month starts and that
-- month's first date, for the summaries) hold any row retention would
-- delete, so that the pass deletes for those only. It reads nothing but
-- whether such a row exists, through the indexes led by the organization.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tracking.retention_due(p_orgs uuid[], p_since timestamptz[], p_first_days date[])
  RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT o.id FROM unnest(p_orgs, p_since, p_first_days) AS o (id, since, first_day)
  WHERE EXISTS (SELECT 1 FROM tracking.activity_logs a WHERE a.organization_id = o.id AND a.occurred_at < o.since)
     OR EXISTS (SELECT 1 FROM tracking.activity_dedup d WHERE d.organization_id = o.id AND d.occurred_at < o.since)
     -- A session ends after it starts: the start bounds the index range.
     OR EXISTS (SELECT 1 FROM tracking.work_sessions s WHERE s.organization_id = o.id AND s.start_time < o.since
                AND s.status = 'stopped' AND s.end_time < o.since)
     OR EXISTS (SELECT 1 FROM reporting.daily_summaries s WHERE s.organization_id = o.id AND s.date < o.first_day)
     OR EXISTS (SELECT 1 FROM reporting.alerts l WHERE l.organization_id = o.id AND l.created_at < o.since)
     OR EXISTS (SELECT 1 FROM auth.audit_log l WHERE l.organization_id = o.id AND l.occurred_at < o.since)
  ORDER BY o.id $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION tracking.retention_due(uuid[], timestamptz[], date[]) FROM PUBLIC;

-- +goose Down
DROP FUNCTION tracking.retention_due(uuid[], timestamptz[], date[]);
