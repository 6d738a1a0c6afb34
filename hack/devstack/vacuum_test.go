package main

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/test/testkit"
)

func TestVacuumGivesBackTheSpaceOfRelayedEvents(t *testing.T) {
	db := testkit.NewDB(t)
	ctx := context.Background()
	// Ten thousand events enqueued and relayed: the rows are gone, their
	// pages are not until a vacuum.
	if _, err := db.Owner.Exec(ctx, `INSERT INTO tracking.outbox (event_id, topic, key, payload)
		SELECT gen_random_uuid(), 'activity', 'k', '{"data": {}}' FROM generate_series(1, 10000)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Owner.Exec(ctx, "DELETE FROM tracking.outbox"); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		var n int64
		if err := db.Owner.QueryRow(ctx, "SELECT pg_relation_size('tracking.outbox')").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := size()
	conn, err := pgx.Connect(ctx, db.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := vacuum(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if after := size(); before == 0 || after != 0 {
		t.Errorf("the outbox took %d bytes before the vacuum and %d after; want its pages given back", before, after)
	}
}
