-- Settings an admin changes through PATCH /api/organization, for the
-- organizations no WorkPulseTenant manages (a managed one keeps its
-- settings in tenant_settings, from the operator). A NULL number is the
-- installation's default, so changing a default reaches every
-- organization that never set its own.
-- +goose Up
ALTER TABLE auth.organizations
  ADD COLUMN time_zone                  text NOT NULL DEFAULT 'UTC',
  ADD COLUMN inactive_threshold_seconds integer CHECK (inactive_threshold_seconds BETWEEN 1 AND 86400),
  ADD COLUMN idle_threshold_seconds     integer CHECK (idle_threshold_seconds BETWEEN 1 AND 86400),
  ADD COLUMN overtime_threshold_hours   integer CHECK (overtime_threshold_hours BETWEEN 1 AND 24),
  ADD COLUMN activity_window_days       integer CHECK (activity_window_days BETWEEN 1 AND 366),
  ADD COLUMN retention_months           integer CHECK (retention_months BETWEEN 1 AND 120);

-- +goose Down
ALTER TABLE auth.organizations
  DROP COLUMN retention_months, DROP COLUMN activity_window_days, DROP COLUMN overtime_threshold_hours,
  DROP COLUMN idle_threshold_seconds, DROP COLUMN inactive_threshold_seconds, DROP COLUMN time_zone;
