package report

import (
	"context"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/pg"
)

func TestRowLevelSecurityHoldsForTheServiceRole(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, b := uuid.NewString(), uuid.NewString()
	for _, org := range []string{a, b} {
		e.user(org, uuid.NewString(), "Someone")
		e.exec(`INSERT INTO reporting.daily_summaries (organization_id, user_id, date, total_work_seconds, active_seconds, idle_seconds,
			productivity_score, sessions_count) VALUES ($1, $2, '2026-05-04', 10, 10, 0, 100, 1)`, org, uuid.NewString())
	}
	count := func(tx pgx.Tx) int {
		var n int
		if err := tx.QueryRow(ctx, "SELECT count(*) FROM reporting.daily_summaries").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	err := pg.InTx(ctx, e.pool, func(tx pgx.Tx) error {
		if n := count(tx); n != 0 {
			t.Errorf("without a tenant the service role sees %d summaries, want 0", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = pg.InOrg(ctx, e.pool, a, func(tx pgx.Tx) error {
		if n := count(tx); n != 1 {
			t.Errorf("tenant A sees %d summaries, want its 1", n)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	err = pg.InOrg(ctx, e.pool, a, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO reporting.alerts (id, organization_id, user_id, session_id, alert_type, message)
			VALUES (gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), 'idle', 'x')`, b)
		return err
	})
	if err == nil {
		t.Error("tenant A wrote an alert of tenant B")
	}
	ids, err := TenantIDs(ctx, e.pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || !slices.Contains(ids, a) || !slices.Contains(ids, b) {
		t.Errorf("tenant ids %v, want both tenants", ids)
	}
}
