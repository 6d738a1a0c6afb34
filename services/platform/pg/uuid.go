package pg

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

// UUID is id as a uuid parameter goes to PostgreSQL cheapest: pgx writes a
// pgtype.UUID in binary directly. A []string for a uuid[] parameter goes
// as text only after a failed attempt at the binary form whose error
// prints the whole slice, and a []uuid.UUID through reflection element by
// element: about 10 and 25 times the cost (BenchmarkEncodingIDs). The
// statements that run per post or per fetched event take their ids so.
func UUID(id string) (pgtype.UUID, error) {
	u, err := uuid.Parse(id)
	return pgtype.UUID{Bytes: u, Valid: err == nil}, err
}

// UUIDs is ids as UUID gives each, for a uuid[] parameter. A nil list
// stays nil, which goes as NULL, and an empty one stays empty: statements
// read a NULL list as everyone ("$n::uuid[] IS NULL OR ...") and an empty
// one as no one.
func UUIDs(ids []string) ([]pgtype.UUID, error) {
	if ids == nil {
		return nil, nil
	}
	out := make([]pgtype.UUID, len(ids))
	for i, id := range ids {
		var err error
		if out[i], err = UUID(id); err != nil {
			return nil, fmt.Errorf("pg: id %d of %d, %q: %w", i, len(ids), id, err)
		}
	}
	return out, nil
}

// NewUUID is a new random id as UUID gives it.
func NewUUID() pgtype.UUID { return pgtype.UUID{Bytes: uuid.New(), Valid: true} }
