package testkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/test/testkit"
)

func TestMigrationsRollBackCompletelyAndReapply(t *testing.T) {
	db, m := testkit.NewRolledBackDB(t)
	ctx := context.Background()
	var schemas int
	if err := db.Owner.QueryRow(ctx, "SELECT count(*) FROM pg_namespace WHERE nspname IN ('auth','tracking','reporting')").Scan(&schemas); err != nil {
		t.Fatal(err)
	}
	if schemas != 0 {
		t.Fatalf("%d WorkPulse schemas remain after rolling back everything", schemas)
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatalf("reapplying: %v", err)
	}
	status, err := m.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range status {
		if strings.HasSuffix(s, "pending") {
			t.Fatalf("after up, a migration is still pending: %s", s)
		}
	}
}
