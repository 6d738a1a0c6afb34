-- The members whose data an admin erased, by id only. Their activity may
-- still reach the report service after the erasure (an event relayed just
-- before it, activity ingest has not erased yet): summaries never count a
-- member named here, so that nothing of theirs is summarized again.
-- +goose Up
CREATE TABLE reporting.erased_members (
  organization_id uuid NOT NULL,
  user_id         uuid NOT NULL,
  erased_at       timestamptz NOT NULL,
  PRIMARY KEY (organization_id, user_id)
);
ALTER TABLE reporting.erased_members ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON reporting.erased_members
  USING (organization_id = public.current_org()) WITH CHECK (organization_id = public.current_org());

-- +goose Down
DROP TABLE reporting.erased_members;
