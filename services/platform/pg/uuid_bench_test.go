package pg_test

import (
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/workpulse/workpulse/services/platform/pg"
)

// BenchmarkEncodingIDs encodes a uuid[] parameter of 64 ids (a full round
// of ingest's group commit) and of 500 (a fetch of the activity stream,
// its consumers' batch) the way pgx does for a prepared statement, in
// each form it accepts: strings (a failed binary attempt, then text),
// uuid.UUID, pgtype.UUID, and strings turned into pgtype.UUID by
// pg.UUIDs first, which is what a caller holding strings pays.
func BenchmarkEncodingIDs(b *testing.B) {
	m := pgtype.NewMap()
	for _, n := range []int{64, 500} {
		strs, uuids, pgs := make([]string, n), make([]uuid.UUID, n), make([]pgtype.UUID, n)
		for i := range strs {
			u := uuid.New()
			strs[i], uuids[i], pgs[i] = u.String(), u, pgtype.UUID{Bytes: u, Valid: true}
		}
		for _, c := range []struct {
			name string
			ids  func() (any, error)
		}{
			{"strings", func() (any, error) { return strs, nil }},
			{"uuid.UUID", func() (any, error) { return uuids, nil }},
			{"pgtype.UUID", func() (any, error) { return pgs, nil }},
			{"pg.UUIDs", func() (any, error) { return pg.UUIDs(strs) }},
		} {
			b.Run(fmt.Sprintf("ids=%d/%s", n, c.name), func(b *testing.B) {
				b.ReportAllocs()
				for range b.N {
					ids, err := c.ids()
					if err != nil {
						b.Fatal(err)
					}
					if _, err := m.Encode(pgtype.UUIDArrayOID, pgtype.BinaryFormatCode, ids, nil); err != nil {
						if _, err := m.Encode(pgtype.UUIDArrayOID, pgtype.TextFormatCode, ids, nil); err != nil {
							b.Fatal(err)
						}
					}
				}
			})
		}
	}
}
