-- The operator logs in as its own role, which owns nothing and cannot
-- create tables or roles: every change it makes to the activity partition
-- trees goes through these functions, which run as the schema's owner. They
-- reach the activity trees only (the shared one, or an organization's own,
-- named from its ID), never another table, and read of tenant rows nothing
-- but what they need to decide: which months hold rows, whether a month
-- holds a recent one, how many rows a move carried. Callers hold the
-- migrations' advisory lock (storage.Locked). EXECUTE is granted in
-- migrations/roles/grants.sql, never to PUBLIC.
-- +goose Up
-- +goose StatementBegin
CREATE FUNCTION tracking.dedicated_tree(p_org uuid) RETURNS text
  LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT 'activity_logs_t_' || replace(p_org::text, '-', '') $$;
-- +goose StatementEnd

-- Refuses any name but an activity tree's, so that the functions taking a
-- tree by name cannot be pointed at another table.
-- +goose StatementBegin
CREATE FUNCTION tracking.check_activity_tree(p_tree text) RETURNS void
  LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF p_tree IS NULL OR p_tree !~ '^activity_logs_(shared|t_[0-9a-f]{32})$' THEN
    RAISE EXCEPTION 'tracking: % is not an activity tree', p_tree USING ERRCODE = 'insufficient_privilege';
  END IF;
END $$;
-- +goose StatementEnd

-- The columns of tracking.activity_logs, so that copies name them rather
-- than rely on column order.
-- +goose StatementBegin
CREATE FUNCTION tracking.activity_columns() RETURNS text
  LANGUAGE sql STABLE AS $$
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_catalog.pg_attribute
  WHERE attrelid = 'tracking.activity_logs'::regclass AND attnum > 0 AND NOT attisdropped $$;
-- +goose StatementEnd

-- Makes p_parent's month of p_month (tracking.ensure_month_partition) as
-- the owner, on an activity tree only.
-- +goose StatementBegin
CREATE FUNCTION tracking.ensure_tree_month(p_parent text, p_month date) RETURNS text
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM tracking.check_activity_tree(p_parent);
  RETURN tracking.ensure_month_partition(p_parent, p_month);
END $$;
-- +goose StatementEnd

-- Detaches and drops p_parent's month of p_month unless it holds a row
-- dated from p_keep_from on: a partition made by hand with wider bounds,
-- or rows moved in from elsewhere, are never lost to retention. True when
-- dropped.
-- +goose StatementBegin
CREATE FUNCTION tracking.drop_month_partition(p_parent text, p_month date, p_keep_from timestamptz) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  part text := p_parent || '_' || to_char(date_trunc('month', p_month)::date, 'YYYY_MM');
  recent boolean;
BEGIN
  PERFORM tracking.check_activity_tree(p_parent);
  IF NOT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(format('tracking.%I', part))
                 AND inhparent = to_regclass(format('tracking.%I', p_parent))) THEN
    RETURN false;
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM tracking.%I WHERE occurred_at >= $1)', part) INTO recent USING p_keep_from;
  IF recent THEN
    RETURN false;
  END IF;
  EXECUTE format('ALTER TABLE tracking.%I DETACH PARTITION tracking.%I', p_parent, part);
  EXECUTE format('DROP TABLE tracking.%I', part);
  RETURN true;
END $$;
-- +goose StatementEnd

-- The months (UTC) in which the organization has rows in p_tree: the
-- shared tree or its own.
-- +goose StatementBegin
CREATE FUNCTION tracking.activity_months(p_org uuid, p_tree text) RETURNS SETOF date
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF p_tree IS DISTINCT FROM 'activity_logs_shared' AND p_tree IS DISTINCT FROM tracking.dedicated_tree(p_org) THEN
    RAISE EXCEPTION 'tracking: % is not a tree of organization %', p_tree, p_org USING ERRCODE = 'insufficient_privilege';
  END IF;
  IF to_regclass(format('tracking.%I', p_tree)) IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY EXECUTE format('SELECT DISTINCT date_trunc(''month'', occurred_at AT TIME ZONE ''UTC'')::date FROM tracking.%I WHERE organization_id = $1', p_tree) USING p_org;
END $$;
-- +goose StatementEnd

-- Creates the organization's own tree, detached, with the indexes of
-- tracking.activity_logs (so attaching builds none under the lock).
-- +goose StatementBegin
CREATE FUNCTION tracking.create_dedicated_tree(p_org uuid) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t text := tracking.dedicated_tree(p_org);
BEGIN
  IF to_regclass(format('tracking.%I', t)) IS NOT NULL THEN
    RETURN false;
  END IF;
  EXECUTE format('CREATE TABLE tracking.%I (LIKE tracking.activity_logs INCLUDING ALL) PARTITION BY RANGE (occurred_at)', t);
  RETURN true;
END $$;
-- +goose StatementEnd

-- Copies the organization's shared rows into its own tree, skipping those
-- already there; the number copied.
-- +goose StatementBegin
CREATE FUNCTION tracking.copy_to_dedicated(p_org uuid) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  cols text := tracking.activity_columns();
  n bigint;
BEGIN
  EXECUTE format('INSERT INTO tracking.%I (%s) SELECT %s FROM tracking.activity_logs_shared WHERE organization_id = $1 ON CONFLICT DO NOTHING',
    tracking.dedicated_tree(p_org), cols, cols) USING p_org;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
-- +goose StatementEnd

-- Checks that p_to holds exactly the organization's rows of p_from and
-- returns their number; raises otherwise, so the move rolls back. A copy
-- left by an earlier interrupted attempt may hold rows deleted since
-- (retention): those are removed, and the counts compared again.
-- +goose StatementBegin
CREATE FUNCTION tracking.same_activity_rows(p_org uuid, p_from text, p_to text) RETURNS bigint
  LANGUAGE plpgsql AS $$
DECLARE
  n_from bigint;
  n_to bigint;
BEGIN
  FOR attempt IN 1..2 LOOP
    EXECUTE format('SELECT count(*) FROM tracking.%I WHERE organization_id = $1', p_from) INTO n_from USING p_org;
    EXECUTE format('SELECT count(*) FROM tracking.%I WHERE organization_id = $1', p_to) INTO n_to USING p_org;
    IF n_from = n_to THEN
      RETURN n_to;
    END IF;
    EXIT WHEN attempt = 2;
    EXECUTE format('DELETE FROM tracking.%1$I d WHERE d.organization_id = $1 AND NOT EXISTS (
      SELECT 1 FROM tracking.%2$I s WHERE s.organization_id = d.organization_id AND s.occurred_at = d.occurred_at AND s.id = d.id)', p_to, p_from) USING p_org;
  END LOOP;
  RAISE EXCEPTION 'tracking: row counts differ after the copy: % in tracking.%, % in tracking.%', n_from, p_from, n_to, p_to;
END $$;
-- +goose StatementEnd

-- Finishes a move to the organization's own tree: holding an EXCLUSIVE
-- lock on tracking.activity_logs (writes wait, reads go on), makes the
-- months of the rows that arrived since the bulk copy, copies them, checks
-- the counts, deletes the rows from the shared tree and attaches the tree.
-- Returns the rows moved.
-- +goose StatementBegin
CREATE FUNCTION tracking.attach_dedicated_tree(p_org uuid) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t text := tracking.dedicated_tree(p_org);
  m date;
  moved bigint;
BEGIN
  LOCK TABLE tracking.activity_logs IN EXCLUSIVE MODE;
  FOR m IN SELECT tracking.activity_months(p_org, 'activity_logs_shared') LOOP
    PERFORM tracking.ensure_month_partition(t, m);
  END LOOP;
  PERFORM tracking.copy_to_dedicated(p_org);
  moved := tracking.same_activity_rows(p_org, 'activity_logs_shared', t);
  DELETE FROM tracking.activity_logs_shared WHERE organization_id = p_org;
  EXECUTE format('ALTER TABLE tracking.activity_logs ATTACH PARTITION tracking.%I FOR VALUES IN (%L)', t, p_org);
  RETURN moved;
END $$;
-- +goose StatementEnd

-- Moves the rows of the organization's own tree into the shared tree and
-- drops it, under an ACCESS EXCLUSIVE lock (a detached partition cannot
-- take inserts). Returns the rows moved.
-- +goose StatementBegin
CREATE FUNCTION tracking.move_to_shared(p_org uuid) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t text := tracking.dedicated_tree(p_org);
  cols text := tracking.activity_columns();
  m date;
  moved bigint;
BEGIN
  LOCK TABLE tracking.activity_logs IN ACCESS EXCLUSIVE MODE;
  FOR m IN SELECT tracking.activity_months(p_org, t) LOOP
    PERFORM tracking.ensure_month_partition('activity_logs_shared', m);
  END LOOP;
  EXECUTE format('ALTER TABLE tracking.activity_logs DETACH PARTITION tracking.%I', t);
  EXECUTE format('INSERT INTO tracking.activity_logs_shared (%s) SELECT %s FROM tracking.%I', cols, cols, t);
  moved := tracking.same_activity_rows(p_org, t, 'activity_logs_shared');
  EXECUTE format('DROP TABLE tracking.%I', t);
  RETURN moved;
END $$;
-- +goose StatementEnd

-- Detaches (when attached) and drops the organization's own tree; the
-- number of rows it held.
-- +goose StatementBegin
CREATE FUNCTION tracking.drop_dedicated_tree(p_org uuid) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  t text := tracking.dedicated_tree(p_org);
  n bigint;
BEGIN
  IF to_regclass(format('tracking.%I', t)) IS NULL THEN
    RETURN 0;
  END IF;
  EXECUTE format('SELECT count(*) FROM tracking.%I', t) INTO n;
  IF EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = to_regclass(format('tracking.%I', t)) AND inhparent = 'tracking.activity_logs'::regclass) THEN
    EXECUTE format('ALTER TABLE tracking.activity_logs DETACH PARTITION tracking.%I', t);
  END IF;
  EXECUTE format('DROP TABLE tracking.%I', t);
  RETURN n;
END $$;
-- +goose StatementEnd

-- The organizations with their own retention, for the storage pass, which
-- then deletes each one's rows inside its own row-level security scope.
-- +goose StatementBegin
CREATE FUNCTION tracking.retention_tenants() RETURNS TABLE (organization_id uuid, retention_months integer, activity_window_days integer, time_zone text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT organization_id, retention_months, activity_window_days, time_zone FROM tracking.tenants
  WHERE retention_months IS NOT NULL ORDER BY organization_id $$;
-- +goose StatementEnd

-- The widest accepted window any organization set (NULL when none did):
-- the shared tree keeps every month back to it.
-- +goose StatementBegin
CREATE FUNCTION tracking.widest_activity_window() RETURNS integer
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT max(activity_window_days) FROM tracking.tenants $$;
-- +goose StatementEnd

REVOKE ALL ON FUNCTION tracking.ensure_tree_month(text, date), tracking.drop_month_partition(text, date, timestamptz),
  tracking.activity_months(uuid, text), tracking.create_dedicated_tree(uuid), tracking.copy_to_dedicated(uuid),
  tracking.same_activity_rows(uuid, text, text), tracking.attach_dedicated_tree(uuid), tracking.move_to_shared(uuid),
  tracking.drop_dedicated_tree(uuid), tracking.retention_tenants(), tracking.widest_activity_window(),
  tracking.activity_columns(), tracking.check_activity_tree(text), tracking.dedicated_tree(uuid) FROM PUBLIC;

-- +goose Down
DROP FUNCTION tracking.widest_activity_window();
DROP FUNCTION tracking.retention_tenants();
DROP FUNCTION tracking.drop_dedicated_tree(uuid);
DROP FUNCTION tracking.move_to_shared(uuid);
DROP FUNCTION tracking.attach_dedicated_tree(uuid);
DROP FUNCTION tracking.same_activity_rows(uuid, text, text);
DROP FUNCTION tracking.copy_to_dedicated(uuid);
DROP FUNCTION tracking.create_dedicated_tree(uuid);
DROP FUNCTION tracking.activity_months(uuid, text);
DROP FUNCTION tracking.drop_month_partition(text, date, timestamptz);
DROP FUNCTION tracking.ensure_tree_month(text, date);
DROP FUNCTION tracking.activity_columns();
DROP FUNCTION tracking.check_activity_tree(text);
DROP FUNCTION tracking.dedicated_tree(uuid);
