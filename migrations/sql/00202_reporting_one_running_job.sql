-- At most one triggered job of a kind is queued or running per
-- organization: a second trigger gets the running job back instead of
-- starting another that would wait for the first, holding a database
-- connection, until triggers exhaust the service's pool. Older duplicates
-- left by earlier versions are marked failed first.
-- +goose Up
UPDATE reporting.jobs j SET state = 'failed', finished_at = now(),
  error = 'superseded: one job of a kind runs at a time per organization'
WHERE state IN ('queued','running') AND EXISTS (
  SELECT 1 FROM reporting.jobs k
  WHERE k.organization_id = j.organization_id AND k.job_type = j.job_type AND k.state IN ('queued','running')
    AND (k.created_at, k.id) > (j.created_at, j.id));
CREATE UNIQUE INDEX jobs_one_running ON reporting.jobs (organization_id, job_type) WHERE state IN ('queued','running');

-- +goose Down
DROP INDEX reporting.jobs_one_running;
