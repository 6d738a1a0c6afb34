-- The number of active sessions across tenants, for the session service's
-- workpulse_sessions_active gauge; the only cross-tenant read it has.
-- +goose Up
CREATE FUNCTION tracking.active_session_count() RETURNS bigint
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT count(*) FROM tracking.work_sessions WHERE status = 'active' $$;
REVOKE ALL ON FUNCTION tracking.active_session_count() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION tracking.active_session_count() TO workpulse_session;

-- +goose Down
DROP FUNCTION tracking.active_session_count();
