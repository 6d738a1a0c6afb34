package storage

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
)

// DeleteData removes the organization's activity and returns the rows
// deleted: a Dedicated tenant's partition is dropped whole; a Shared
// tenant's rows are deleted batch rows at a time, each batch its own short
// transaction, so ingest of other tenants never waits long. The dedup
// index of the rows goes with them.
func (s *Store) DeleteData(ctx context.Context, orgID string, batch int) (int64, error) {
	var total int64
	table := DedicatedTable(orgID)
	exists, attached, err := s.TableState(ctx, table)
	if err != nil {
		return 0, err
	}
	if exists {
		if total, err = s.count(ctx, s.db, table, orgID); err != nil {
			return 0, err
		}
		err := s.withDDL(ctx, func(tx pgx.Tx) error {
			if attached {
				if _, err := tx.Exec(ctx, fmt.Sprintf("ALTER TABLE %s DETACH PARTITION %s", qualified(RootTable), qualified(table))); err != nil {
					return err
				}
			}
			return s.dropTable(ctx, tx, table)
		})
		if err != nil {
			return 0, err
		}
	}
	batches := []string{
		fmt.Sprintf(`DELETE FROM %[1]s WHERE (organization_id, occurred_at, id) IN (
			SELECT organization_id, occurred_at, id FROM %[1]s WHERE organization_id = $1 LIMIT $2)`, qualified(SharedTable)),
		`DELETE FROM tracking.activity_dedup WHERE (user_id, client_activity_id) IN (
			SELECT user_id, client_activity_id FROM tracking.activity_dedup WHERE organization_id = $1 LIMIT $2)`,
	}
	for i, q := range batches {
		for {
			var n int64
			err := pg.InTx(ctx, s.db, func(tx pgx.Tx) error {
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
