package pg_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

// TestIdsReachPostgreSQLAsTheListsTheyWere sends each converted list to
// PostgreSQL as a uuid[] parameter and reads back what the server got:
// NULL and the empty list mean everyone and no one to the statements
// that filter by a list, so neither may turn into the other.
func TestIdsReachPostgreSQLAsTheListsTheyWere(t *testing.T) {
	db := testkit.NewDB(t)
	ctx := context.Background()
	a, b := uuid.NewString(), uuid.NewString()
	cases := []struct {
		name    string
		ids     []string
		want    []string // nil: NULL
		wantErr bool
	}{
		{"A nil list goes as NULL.", nil, nil, false},
		{"An empty list goes as an empty list, not as NULL.", []string{}, []string{}, false},
		{"Ids go in their order, repeats kept.", []string{a, b, a}, []string{a, b, a}, false},
		{"An id in capitals or without hyphens is the same id.", []string{strings.ToUpper(b), strings.ReplaceAll(a, "-", "")}, []string{b, a}, false},
		{"A list with one id that is not a UUID is refused before it reaches the server.", []string{a, "not-a-uuid"}, nil, true},
		{"An empty id is refused.", []string{""}, nil, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ids, err := pg.UUIDs(c.ids)
			if c.wantErr {
				if err == nil {
					t.Fatalf("converted %q to %v; want an error", c.ids, ids)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			if err := db.Owner.QueryRow(ctx, "SELECT $1::uuid[]::text[]", ids).Scan(&got); err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (c.want == nil) || !slices.Equal(got, c.want) {
				t.Errorf("the server got %#v; want %#v", got, c.want)
			}
		})
	}
}
