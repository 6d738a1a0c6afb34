package testkit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/migrations"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestMigrationsRollBackCompletelyAndReapply(t *testing.T) {
	db := testkit.NewDB(t)
	ctx := context.Background()
	m, err := migrations.Open(db.URL, testkit.Roles)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.DownTo(ctx, 0); err != nil {
		t.Fatalf("rolling back every migration: %v", err)
	}
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
