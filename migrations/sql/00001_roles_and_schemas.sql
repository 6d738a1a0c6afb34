-- Every service connects as the migrating user and drops to its own role
-- (SET ROLE), so that row-level security applies to it: owners and
-- superusers bypass RLS, service roles never do.
-- +goose Up
-- +goose StatementBegin
DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['workpulse_auth','workpulse_session','workpulse_ingest','workpulse_report','workpulse_realtime'] LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I NOLOGIN', r);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- roles are cluster-wide: another database of this cluster made it
    END;
    EXECUTE format('GRANT %I TO %I', r, current_user);
  END LOOP;
END $$;
-- +goose StatementEnd

CREATE SCHEMA auth;
CREATE SCHEMA tracking;
CREATE SCHEMA reporting;

-- The tenant of the current transaction; NULL when none is set, so that
-- tenant rows are then invisible rather than an error.
CREATE FUNCTION public.current_org() RETURNS uuid
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.org_id', true), '')::uuid $$;

-- +goose Down
DROP FUNCTION public.current_org();
DROP SCHEMA reporting CASCADE;
DROP SCHEMA tracking CASCADE;
DROP SCHEMA auth CASCADE;
-- Roles are shared by every database of the cluster; they stay.
