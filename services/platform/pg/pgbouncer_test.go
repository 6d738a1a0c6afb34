package pg_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestRowLevelSecurityHoldsThroughPgBouncerInTransactionMode(t *testing.T) {
	db, orgA, orgB := seededDB(t)
	ctx := context.Background()
	// One server connection for 16 clients: every transaction of either
	// organization runs on the same PostgreSQL session, one after another.
	bouncer := testkit.StartPgBouncer(t, 1, "workpulse_auth")
	pool, err := pg.Connect(ctx, bouncer.URL(db.URL), pg.Login{User: "workpulse_auth"}, 16)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	t.Run("Interleaved transactions of two organizations each see their own rows only.", func(t *testing.T) {
		const rounds = 200
		errs := make(chan error, 2*rounds)
		backends := sync.Map{}
		var wg sync.WaitGroup
		for i := range 2 * rounds {
			org, other := orgA, orgB
			if i%2 == 1 {
				org, other = orgB, orgA
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- seesOnly(ctx, pool, org, other, i%4 < 2, &backends)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		backends.Range(func(any, any) bool { n++; return true })
		if n != 1 {
			t.Fatalf("the transactions ran on %d server sessions; want the pooler's one, or the test proves nothing", n)
		}
	})

	t.Run("A statement outside any organization's transaction sees no tenant rows.", func(t *testing.T) {
		if err := pg.InOrg(ctx, pool, orgA, func(pgx.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := pool.QueryRow(ctx, "SELECT count(*) FROM auth.users").Scan(&n); err != nil || n != 0 {
			t.Fatalf("unscoped through the pooler: %d users (%v); want 0", n, err)
		}
	})

	// Last, since it leaves the setting on the pooler's one server session:
	// what InOrg avoids, shown to leak, so the cases above can fail.
	t.Run("A session-wide setting would leak to another client through the pooler.", func(t *testing.T) {
		if _, err := pool.Exec(ctx, "SELECT set_config('app.org_id', $1, false)", orgA); err != nil {
			t.Fatal(err)
		}
		other, err := pg.Connect(ctx, bouncer.URL(db.URL), pg.Login{User: "workpulse_auth"}, 1)
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		var n int
		if err := other.QueryRow(ctx, "SELECT count(*) FROM auth.users").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("another client saw %d users after a session-wide setting; want the leaked 1, or the pooler is not sharing sessions", n)
		}
	})
}

// seesOnly reads users scoped to org, in a transaction (InOrg) or in one
// round trip (QueryRowInOrg), and fails if any row of other shows.
func seesOnly(ctx context.Context, pool *pgxpool.Pool, org, other string, inTx bool, backends *sync.Map) error {
	const q = "SELECT count(*) FILTER (WHERE organization_id = $1), count(*) FILTER (WHERE organization_id = $2), pg_backend_pid() FROM auth.users"
	var own, leaked, pid int
	scan := func(r pgx.Row) error { return r.Scan(&own, &leaked, &pid) }
	var err error
	if inTx {
		err = pg.InOrg(ctx, pool, org, func(tx pgx.Tx) error { return scan(tx.QueryRow(ctx, q, org, other)) })
	} else {
		err = pg.QueryRowInOrg(ctx, pool, org, q, scan, org, other)
	}
	if err != nil {
		return err
	}
	backends.Store(pid, true)
	if own != 1 || leaked != 0 {
		return fmt.Errorf("scoped to %s (in a transaction: %v): %d own users and %d of the other organization; want 1 and 0", org, inTx, own, leaked)
	}
	return nil
}
