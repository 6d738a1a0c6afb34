package storage_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/migrations/storage"
	"github.com/workpulse/workpulse/test/testkit"
)

func sharedMonths(t *testing.T, db *testkit.DB) map[storage.Month]string {
	t.Helper()
	var got map[storage.Month]string
	err := storage.Locked(context.Background(), db.Owner, func(tx pgx.Tx) (err error) {
		got, err = storage.Partitions(context.Background(), tx, storage.SharedTree)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestMaintenanceMakesEveryMonthFromTheWindowToPremakeAhead(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	clk := testkit.NewClock(time.Date(2031, 3, 1, 0, 30, 0, 0, time.UTC))
	m := &storage.Maintainer{DB: db.Owner, Clock: clk, Policy: storage.Policy{Premake: 4, Window: storage.Window(30)}}
	rep, err := m.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	// 30 days before 1 March 2031 is 30 January.
	for _, s := range []string{"2031_01", "2031_02", "2031_03", "2031_04", "2031_05", "2031_06", "2031_07"} {
		if _, ok := sharedMonthsByName(t, db)["activity_logs_shared_"+s]; !ok {
			t.Errorf("month %s is missing after maintenance", s)
		}
	}
	if rep.MonthsAhead != 4 || len(rep.Created) != 7 || rep.Newest.String() != "2031-07" {
		t.Errorf("report %v: want 4 months ahead, 7 created, newest 2031-07", rep)
	}
	if _, err := db.Owner.Exec(context.Background(), "INSERT INTO tracking.activity_logs (id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)"+
		" VALUES ($1, $2, $1, $1, $3, 'active', 30)", uuid.NewString(), uuid.NewString(), time.Date(2031, 1, 30, 1, 0, 0, 0, time.UTC)); err != nil {
		t.Errorf("an activity at the window's start is refused: %v", err)
	}

	again, err := m.Run(context.Background())
	if err != nil || len(again.Created) != 0 || again.MonthsAhead != 4 {
		t.Errorf("a second pass = %v, %v: want nothing created", again, err)
	}
	clk.Set(time.Date(2031, 5, 31, 23, 0, 0, 0, time.UTC))
	later, err := m.Run(context.Background())
	if err != nil || len(later.Created) != 2 || later.MonthsAhead != 4 || !sharedMonthsByName(t, db)["activity_logs_shared_2031_01"] {
		t.Errorf("two months later = %v, %v: want 2031-08 and 2031-09 created, the old months kept", later, err)
	}
}

func sharedMonthsByName(t *testing.T, db *testkit.DB) map[string]bool {
	out := map[string]bool{}
	for _, n := range sharedMonths(t, db) {
		out[n] = true
	}
	return out
}

func TestAnOrganizationsWiderWindowWidensTheSharedTree(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	ctx := context.Background()
	if _, err := db.Owner.Exec(ctx, "INSERT INTO tracking.tenants (organization_id, activity_window_days) VALUES ($1, 90), ($2, 10)",
		uuid.NewString(), uuid.NewString()); err != nil {
		t.Fatal(err)
	}
	clk := testkit.NewClock(time.Date(2032, 4, 15, 12, 0, 0, 0, time.UTC))
	rep, err := (&storage.Maintainer{DB: db.Owner, Clock: clk, Policy: storage.Policy{Premake: 1, Window: storage.Window(30)}}).Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 90 days before 15 April 2032 is 16 January.
	if rep.Window != storage.Window(90) || !sharedMonthsByName(t, db)["activity_logs_shared_2032_01"] {
		t.Errorf("report %v: want a window of 90 days and January 2032 made", rep)
	}
}

func TestConcurrentPassesTakeTurnsUnderTheMigrationsLock(t *testing.T) {
	t.Parallel()
	db := testkit.NewDB(t)
	clk := testkit.NewClock(time.Date(2033, 7, 1, 0, 0, 0, 0, time.UTC))
	var wg sync.WaitGroup
	errs := make([]error, 4)
	created := make([]int, 4)
	for i := range errs {
		wg.Go(func() {
			rep, err := (&storage.Maintainer{DB: db.Owner, Clock: clk, Policy: storage.Policy{Premake: 4, Window: storage.Window(30)}}).Run(context.Background())
			errs[i], created[i] = err, len(rep.Created)
		})
	}
	wg.Wait()
	total := 0
	for i, err := range errs {
		if err != nil {
			t.Errorf("pass %d: %v", i, err)
		}
		total += created[i]
	}
	if total != 6 {
		t.Errorf("the passes created %d months together, want each of the 6 once", total)
	}
}
