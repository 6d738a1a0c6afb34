-- The install-wide figures of the dashboard's business row, for the session
-- service's metrics: how many people are tracking now, and the seconds of
-- activity since the start of the day. They read across tenants, so through
-- this function only; the service asks at most once per scrape interval.
-- +goose Up
CREATE FUNCTION tracking.business_figures(p_recent_since timestamptz, p_day_start timestamptz,
  OUT people_tracking bigint, OUT active_seconds bigint, OUT idle_seconds bigint)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$
    SELECT (SELECT count(*) FROM tracking.work_sessions WHERE status = 'active' AND last_activity_at >= p_recent_since),
           coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'active'), 0),
           coalesce(sum(duration_seconds) FILTER (WHERE activity_type = 'idle'), 0)
    FROM tracking.activity_logs WHERE occurred_at >= p_day_start
  $$;
REVOKE ALL ON FUNCTION tracking.business_figures(timestamptz, timestamptz) FROM PUBLIC;

-- +goose Down
DROP FUNCTION tracking.business_figures(timestamptz, timestamptz);
