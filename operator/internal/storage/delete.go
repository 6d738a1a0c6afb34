package storage

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
)

// deleteBatches remove batch ($2) rows of the organization's ($1) shared
// activity and dedup keys each.
var deleteBatches = []string{
	`DELETE FROM tracking.activity_logs WHERE (organization_id, occurred_at, id) IN (
		SELECT organization_id, occurred_at, id FROM tracking.activity_logs WHERE organization_id = $1 LIMIT $2)`,
	`DELETE FROM tracking.activity_dedup WHERE (user_id, client_activity_id) IN (
		SELECT user_id, client_activity_id FROM tracking.activity_dedup WHERE organization_id = $1 LIMIT $2)`,
}

// DeleteData removes the organization's activity and returns the rows
// deleted: a Dedicated tenant's partition is dropped whole; a Shared
// tenant's rows are deleted batch rows at a time, each batch its own short
// transaction in the organization's row-level security scope, so ingest of
// other tenants never waits long and no other tenant's row can go. The
// dedup index of the rows goes with them.
func (s *Store) DeleteData(ctx context.Context, orgID string, batch int) (int64, error) {
	exists, _, err := s.TableState(ctx, DedicatedTable(orgID))
	if err != nil {
		return 0, err
	}
	var total int64
	if exists {
		if total, err = s.dropDedicated(ctx, orgID); err != nil {
			return 0, err
		}
	}
	for i, q := range deleteBatches {
		for {
			var n int64
			err := pg.InOrg(ctx, s.db, orgID, func(tx pgx.Tx) error {
				tag, err := tx.Exec(ctx, q, orgID, batch)
				n = tag.RowsAffected()
				return err
			})
			if err != nil {
				return 0, err
			}
			if i == 0 {
				total += n
			}
			if n < int64(batch) {
				break
			}
		}
	}
	return total, nil
}
