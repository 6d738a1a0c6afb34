-- Retention for every organization: an organization's own
-- retention_months (PATCH /api/organization, or its WorkPulseTenant) is
-- copied here from tenant.updated, and the storage maintenance deletes
-- that organization's rows of older months in batches (the shared tree's
-- months hold every organization's rows, so they cannot be dropped for
-- one). The index lets those batches find the expired dedup keys.
-- +goose Up
ALTER TABLE tracking.tenants ADD COLUMN retention_months integer CHECK (retention_months BETWEEN 1 AND 120);
CREATE INDEX activity_dedup_org_time ON tracking.activity_dedup (organization_id, occurred_at);

-- +goose Down
DROP INDEX tracking.activity_dedup_org_time;
ALTER TABLE tracking.tenants DROP COLUMN retention_months;
