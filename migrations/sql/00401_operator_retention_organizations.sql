-- Retention applies to every organization, not only to those that set
-- their own: the storage pass deletes each one's rows before the start of
-- its oldest kept local month, in the zone its summaries are counted in,
-- and drops the shared tree's months only once no organization living in
-- it keeps a day they hold. This lists every organization (registered, or
-- known to tracking from tenant.updated) with its own retention and window
-- (NULL: the installation's), its zone (tracking's copy from tenant.updated
-- first, which a WorkPulseTenant sets, then the one auth stores) and
-- whether its activity lives in the shared tree (no dedicated tree of its
-- own is attached). It replaces tracking.retention_tenants, which listed
-- only organizations with their own retention.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tracking.retention_organizations()
  RETURNS TABLE (organization_id uuid, retention_months integer, activity_window_days integer, time_zone text, shared boolean)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT o.id, t.retention_months, t.activity_window_days, coalesce(t.time_zone, a.time_zone, 'UTC'),
         NOT EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = 'tracking.activity_logs'::regclass
                     AND i.inhrelid = to_regclass('tracking.' || tracking.dedicated_tree(o.id)))
  FROM (SELECT organization_id FROM tracking.tenants UNION SELECT id FROM auth.organizations) o (id)
  LEFT JOIN tracking.tenants t ON t.organization_id = o.id
  LEFT JOIN auth.organizations a ON a.id = o.id
  ORDER BY o.id $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION tracking.retention_organizations() FROM PUBLIC;
DROP FUNCTION tracking.retention_tenants();

-- +goose Down
-- +goose StatementBegin
CREATE FUNCTION tracking.retention_tenants() RETURNS TABLE (organization_id uuid, retention_months integer, activity_window_days integer, time_zone text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT organization_id, retention_months, activity_window_days, time_zone FROM tracking.tenants
  WHERE retention_months IS NOT NULL ORDER BY organization_id $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION tracking.retention_tenants() FROM PUBLIC;
DROP FUNCTION tracking.retention_organizations();
