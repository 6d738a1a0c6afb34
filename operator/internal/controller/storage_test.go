package controller

import (
	"testing"
	"time"

	v1alpha1 "github.com/workpulse/workpulse/api/v1alpha1"
	"github.com/workpulse/workpulse/operator/internal/storage"
	"github.com/workpulse/workpulse/services/platform/clock"
)

func TestSwitchingStorageKeepsEveryRowWhileActivityArrives(t *testing.T) {
	e := newParallelEnv(t)
	// The rows go up to 40 days back: late in a month, that is still the
	// previous month, which the operator keeps.
	e.clock.Set(time.Date(2027, 5, 28, 12, 0, 0, 0, time.UTC))
	e.create(e.tenant("mover"))
	org := e.waitReady("mover").Status.OrganizationID
	// A neighbour in the shared tree must not be touched.
	e.create(e.tenant("neighbour"))
	neighbour := e.waitReady("neighbour").Status.OrganizationID
	now := e.clock.Now()
	if _, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.activity_logs
		(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
		SELECT gen_random_uuid(), o, gen_random_uuid(), gen_random_uuid(), $3::timestamptz - (g % 40) * interval '1 day', 'active', 30
		FROM unnest(ARRAY[$1::uuid, $2::uuid]) AS o, generate_series(1, 3000) AS g`, org, neighbour, now); err != nil {
		t.Fatal(err)
	}

	// Ingest goes on throughout: one insert after the other, each timed.
	stop := make(chan struct{})
	type result struct {
		inserted, failed int64
		slowest          time.Duration
		lastErr          error
	}
	done := make(chan result)
	go func() {
		var r result
		for {
			select {
			case <-stop:
				done <- r
				return
			default:
			}
			start := clock.Start()
			_, err := e.db.Owner.Exec(e.ctx, `INSERT INTO tracking.activity_logs
				(id, organization_id, session_id, user_id, occurred_at, activity_type, duration_seconds)
				VALUES (gen_random_uuid(), $1, gen_random_uuid(), gen_random_uuid(), $2, 'idle', 5)`, org, now)
			if err != nil {
				r.failed++
				r.lastErr = err
			} else {
				r.inserted++
			}
			r.slowest = max(r.slowest, start.Elapsed())
			time.Sleep(2 * time.Millisecond)
		}
	}()

	e.update("mover", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageDedicated })
	got := e.waitReady("mover")
	table := storage.DedicatedTable(org)
	if got.Status.Storage != v1alpha1.StorageDedicated || !e.attached(table) {
		t.Fatalf("storage %s, attached %t", got.Status.Storage, e.attached(table))
	}
	if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs_shared WHERE organization_id = $1", org); n != 0 {
		t.Errorf("%d rows of the tenant left in the shared tree", n)
	}
	time.Sleep(300 * time.Millisecond) // some activity lands in the dedicated tree
	e.update("mover", func(s *v1alpha1.WorkPulseTenantSpec) { s.Storage = v1alpha1.StorageShared })
	got = e.waitReady("mover")
	if got.Status.Storage != v1alpha1.StorageShared || e.attached(table) || e.queryInt("SELECT count(*) FROM pg_class WHERE relname = $1", table) != 0 {
		t.Fatalf("after moving back: storage %s, table still there", got.Status.Storage)
	}
	close(stop)
	r := <-done

	if r.failed > 0 {
		t.Errorf("%d inserts failed during the moves, last: %v", r.failed, r.lastErr)
	}
	if r.inserted == 0 {
		t.Fatal("no activity was inserted during the moves")
	}
	want := 3000 + r.inserted
	total := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", org)
	distinct := e.queryInt("SELECT count(DISTINCT id) FROM tracking.activity_logs WHERE organization_id = $1", org)
	if total != want || distinct != want {
		t.Errorf("rows %d (distinct %d), want %d: rows were lost or duplicated", total, distinct, want)
	}
	if n := e.queryInt("SELECT count(*) FROM tracking.activity_logs WHERE organization_id = $1", neighbour); n != 3000 {
		t.Errorf("neighbour has %d rows, want 3000", n)
	}
	t.Logf("inserted %d rows during two moves; slowest insert %s", r.inserted, r.slowest)
	if r.slowest > 5*time.Second {
		t.Errorf("an insert waited %s", r.slowest)
	}
}
