-- Managers: a third role beside admin and employee. Until teams exist a
-- manager sees what an employee sees; admins alone administer.
-- +goose Up
ALTER TABLE auth.users DROP CONSTRAINT users_role_check,
  ADD CONSTRAINT users_role_check CHECK (role IN ('admin','manager','employee'));
ALTER TABLE auth.invitations DROP CONSTRAINT invitations_role_check,
  ADD CONSTRAINT invitations_role_check CHECK (role IN ('admin','manager','employee'));
-- The admin's user list filters by role and state and pages by name.
CREATE INDEX users_org_name_idx ON auth.users (organization_id, lower(name), id);

-- +goose Down
DROP INDEX auth.users_org_name_idx;
UPDATE auth.users SET role = 'employee' WHERE role = 'manager';
UPDATE auth.invitations SET role = 'employee' WHERE role = 'manager';
ALTER TABLE auth.invitations DROP CONSTRAINT invitations_role_check,
  ADD CONSTRAINT invitations_role_check CHECK (role IN ('admin','employee'));
ALTER TABLE auth.users DROP CONSTRAINT users_role_check,
  ADD CONSTRAINT users_role_check CHECK (role IN ('admin','employee'));
