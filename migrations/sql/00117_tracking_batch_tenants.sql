-- Ingest writes the single activity posts of many organizations that
-- arrive together as one statement per round (group commit across
-- tenants). Its transaction then names the set of organizations of the
-- batch in app.org_ids (a uuid array) instead of one tenant in app.org_id,
-- and these policies let it read and write the rows of those
-- organizations and of no other; the statement itself ties each post to
-- the session of its own organization. They apply to ingest's role only
-- (migrations/roles/grants.sql points them at the installation's role):
-- for every other service the setting widens nothing, and their queries
-- keep the single-tenant policy alone.
-- Policies are made under an ACCESS EXCLUSIVE lock of their table, and
-- these four are written by every post while an upgrade runs this beside
-- the previous release. So each table gets its policy in a transaction of
-- its own (a statement of its own, below): holding one of them while
-- waiting for the next can close a cycle with a post's transaction, which
-- the server then breaks by failing the post, and taking all four together
-- failed for two minutes on a loaded machine, each try giving up on one
-- table while it held the others. A run stopped half-way leaves some
-- tables with their policy, harmless while no ingest names a batch;
-- running it again finishes them.
-- +goose NO TRANSACTION
-- +goose Up
-- The organizations of the transaction's batch; NULL when none is set, so
-- that the policies below then accept no row. Like public.current_org() it
-- stays executable by every role: the policies apply to an installation
-- whose ingest role is workpulse_ingest from the moment they are created,
-- while the previous release's pods still serve and before `migrate up`
-- runs the grants, and a policy whose function its role may not execute
-- fails every statement on the table. It reads only the caller's own
-- setting.
CREATE OR REPLACE FUNCTION tracking.batch_orgs() RETURNS uuid[]
  LANGUAGE sql STABLE PARALLEL SAFE
  AS $$ SELECT NULLIF(current_setting('app.org_ids', true), '')::uuid[] $$;

-- Takes the tables a migration changes in ACCESS EXCLUSIVE mode beside the
-- running writes: a try that has to wait gives up after 100 ms, before the
-- server's deadlock check (1 s by default) would fail anyone else, releases
-- what it took and tries again. Waiting without a timeout would queue every
-- post behind the waiting lock for as long as the longest read before it.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tracking.lock_written_tables(tables regclass[]) RETURNS void
  LANGUAGE plpgsql AS $$
DECLARE
  previous text := current_setting('lock_timeout');
BEGIN
  PERFORM set_config('lock_timeout', '100ms', true);
  FOR attempt IN 1..1200 LOOP
    BEGIN
      EXECUTE 'LOCK TABLE ' || (SELECT string_agg(t::text, ', ') FROM unnest(tables) AS t) || ' IN ACCESS EXCLUSIVE MODE';
      PERFORM set_config('lock_timeout', previous, true);
      RETURN;
    EXCEPTION WHEN lock_not_available THEN
      PERFORM pg_sleep(0.02);
    END;
  END LOOP;
  RAISE EXCEPTION 'could not lock % for 2 minutes beside the running writes', tables;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION tracking.lock_written_tables(regclass[]) FROM PUBLIC;

-- Creates policy on table t unless the table has it already, after taking
-- t through lock_written_tables. Each call is a statement and so (in a
-- migration without a transaction) a transaction of its own, which holds
-- no other written table while it waits.
-- +goose StatementBegin
CREATE OR REPLACE FUNCTION tracking.create_policy_beside_writes(t regclass, policy name, definition text) RETURNS void
  LANGUAGE plpgsql AS $$
BEGIN
  PERFORM tracking.lock_written_tables(ARRAY[t]);
  IF NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = t AND polname = policy) THEN
    EXECUTE format('CREATE POLICY %I ON %s %s', policy, t, definition);
  END IF;
END $$;
-- +goose StatementEnd
REVOKE ALL ON FUNCTION tracking.create_policy_beside_writes(regclass, name, text) FROM PUBLIC;

-- What a batch's statement touches: the sessions it locks and updates, the
-- activity and claims it inserts and reads back, and (read only) whether an
-- organization of the batch is suspended.
SELECT tracking.create_policy_beside_writes('tracking.work_sessions', 'tenant_batch', 'TO workpulse_ingest'
  ' USING (organization_id = ANY (tracking.batch_orgs())) WITH CHECK (organization_id = ANY (tracking.batch_orgs()))');
SELECT tracking.create_policy_beside_writes('tracking.activity_logs', 'tenant_batch', 'TO workpulse_ingest'
  ' USING (organization_id = ANY (tracking.batch_orgs())) WITH CHECK (organization_id = ANY (tracking.batch_orgs()))');
SELECT tracking.create_policy_beside_writes('tracking.activity_dedup', 'tenant_batch', 'TO workpulse_ingest'
  ' USING (organization_id = ANY (tracking.batch_orgs())) WITH CHECK (organization_id = ANY (tracking.batch_orgs()))');
SELECT tracking.create_policy_beside_writes('tracking.tenants', 'tenant_batch', 'FOR SELECT TO workpulse_ingest'
  ' USING (organization_id = ANY (tracking.batch_orgs()))');

-- +goose Down
DROP POLICY IF EXISTS tenant_batch ON tracking.tenants;
DROP POLICY IF EXISTS tenant_batch ON tracking.activity_dedup;
DROP POLICY IF EXISTS tenant_batch ON tracking.activity_logs;
DROP POLICY IF EXISTS tenant_batch ON tracking.work_sessions;
DROP FUNCTION IF EXISTS tracking.batch_orgs();
DROP FUNCTION IF EXISTS tracking.create_policy_beside_writes(regclass, name, text);
DROP FUNCTION IF EXISTS tracking.lock_written_tables(regclass[]);
