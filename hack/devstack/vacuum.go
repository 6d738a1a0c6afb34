package main

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
)

// queueTables take a write for every activity request and keep few live
// rows: the outboxes (a row per event, deleted once relayed) and the
// sessions (an update per request).
var queueTables = []string{"tracking.outbox", "tracking.work_sessions", "auth.outbox", "reporting.outbox"}

// vacuumInterval is how often the queue tables are vacuumed when the
// server's autovacuum is off.
const vacuumInterval = 10 * time.Second

// standInForAutovacuum vacuums the queue tables until ctx ends, when the
// local PostgreSQL server runs with autovacuum off (some development
// machines do). The migrations tune autovacuum for these tables; without
// it they grow by every event ever relayed, and each run of make dev is
// slower than the one before.
func (s *Stack) standInForAutovacuum(ctx context.Context, dbURL string) {
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		s.logf("devstack", "cannot check autovacuum: %v", err)
		return
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var autovacuum string
	if err := conn.QueryRow(ctx, "SHOW autovacuum").Scan(&autovacuum); err != nil || autovacuum == "on" {
		return
	}
	s.logf("devstack", "autovacuum is off on this PostgreSQL server: vacuuming %v every %s in its place", queueTables, vacuumInterval)
	t := time.NewTicker(vacuumInterval)
	defer t.Stop()
	for {
		if err := vacuum(ctx, conn); err != nil && ctx.Err() == nil {
			s.logf("devstack", "vacuum: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func vacuum(ctx context.Context, conn *pgx.Conn) error {
	for _, table := range queueTables {
		if _, err := conn.Exec(ctx, "VACUUM "+table); err != nil {
			return err
		}
	}
	return nil
}
