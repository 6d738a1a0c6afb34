// Package pg connects services to PostgreSQL and runs every tenant query
// inside a transaction scoped to one organization, so that row-level
// security, not application code alone, keeps tenants apart.
package pg

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Login overrides the user and the password of the URL, each when set.
type Login struct {
	User, Password string
}

// Connect opens a pool to url, logging in as login says. Services log in
// as their own role, never as the schema owner with a SET ROLE down: RESET
// ROLE returns to the login role, so row-level security holds on any code
// path.
func Connect(ctx context.Context, url string, login Login, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("pg: parse DATABASE_URL: %w", err)
	}
	if login.User != "" {
		cfg.ConnConfig.User = login.User
	}
	if login.Password != "" {
		cfg.ConnConfig.Password = login.Password
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	// Fail fast while the database is down: requests answer 503 at once
	// instead of queueing behind a dead server.
	if cfg.ConnConfig.ConnectTimeout == 0 || cfg.ConnConfig.ConnectTimeout > 3*time.Second {
		cfg.ConnConfig.ConnectTimeout = 3 * time.Second
	}
	cfg.HealthCheckPeriod = 5 * time.Second
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pg: %w", err)
	}
	return pool, nil
}

// WaitReachable calls ping until the database answers, for up to within, as
// long as the failure is the database being out of reach (IsUnavailable,
// less the server's refusals). A pod can start a moment before it may reach
// PostgreSQL: a NetworkPolicy enforcer admits a new pod's address at its next
// sync, and a restarting server refuses connections for a while; a job or a
// migration that gave up at its first refusal would fail every retry its Job
// makes the same way. Any other failure (a role the server refuses) returns
// at once. ping is a pool's Ping or a database/sql handle's PingContext.
func WaitReachable(ctx context.Context, ping func(context.Context) error, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		err := ping(ctx)
		if err == nil || !outOfReach(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

// Beginner is satisfied by *pgxpool.Pool and pgx.Tx.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// setOrgSQL sets the tenant that row-level security reads until the
// transaction ends: a pooled connection never carries it over.
const setOrgSQL = "SELECT set_config('app.org_id', $1, true)"

// InOrg runs fn in a transaction whose RLS tenant is orgID.
func InOrg(ctx context.Context, db Beginner, orgID string, fn func(pgx.Tx) error) error {
	return InTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, setOrgSQL, orgID); err != nil {
			return err
		}
		return fn(tx)
	})
}

// BatchSender is satisfied by *pgxpool.Pool and *pgx.Conn.
type BatchSender interface {
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// QueueInOrg queues in b the switch of the RLS tenant to orgID: the
// statements queued after it, up to the next switch, run as orgID's
// tenant and see and write only its rows. A batch sent outside an explicit
// transaction runs as one implicit transaction up to its single Sync, so
// the tenants of one batch share one round trip and one commit, each
// statement still under its own tenant's row-level security.
func QueueInOrg(b *pgx.Batch, orgID string) {
	b.Queue(setOrgSQL, orgID)
}

// setOrgsSQL names the organizations of a combined write until the
// transaction ends; uuid[] refuses anything that is not a list of ids. The
// parameter is text[]: pgx sends a []string to a uuid[] parameter only
// after a failed attempt at the binary form, which prints the whole list.
const setOrgsSQL = "SELECT set_config('app.org_ids', $1::text[]::uuid[]::text, true)"

// QueueInOrgs queues in b the switch of row-level security to the set of
// orgIDs, for statements that write the rows of several organizations at
// once (ingest's group commit, migration 00117): the statements queued
// after it see and write the rows of those organizations and of no other,
// and must themselves keep each row to its own organization. Only ingest's
// role has policies that read the set.
func QueueInOrgs(b *pgx.Batch, orgIDs []string) {
	b.Queue(setOrgsSQL, orgIDs)
}

// QueryRowInOrg runs sql, which returns one row, as orgID's tenant in one
// round trip: the tenant setting and the statement are pipelined up to a
// single Sync, which PostgreSQL runs as one implicit transaction, so the
// setting applies to the statement and ends with it. For hot single-
// statement paths; InOrg is for anything longer.
func QueryRowInOrg(ctx context.Context, db BatchSender, orgID, sql string, scan func(pgx.Row) error, args ...any) error {
	b := &pgx.Batch{}
	QueueInOrg(b, orgID)
	b.Queue(sql, args...)
	br := db.SendBatch(ctx, b)
	if _, err := br.Exec(); err != nil {
		br.Close()
		return err
	}
	err := scan(br.QueryRow())
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// InTx runs fn in a transaction, committing when fn returns nil.
func InTx(ctx context.Context, db Beginner, fn func(pgx.Tx) error) (err error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(tx); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// SQLState returns the PostgreSQL error code of err, or "".
func SQLState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// IsUniqueViolation reports a unique violation, of constraint if it is set.
func IsUniqueViolation(err error, constraint string) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505" && (constraint == "" || pe.ConstraintName == constraint)
}

// IsUnavailable reports errors that mean the database cannot be reached
// or is shutting down: the client should retry later (503).
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	if errors.As(err, &ce) || errors.As(err, &ne) || pgconn.SafeToRetry(err) || pgconn.Timeout(err) {
		return true
	}
	// A server that dies mid-conversation surfaces as a bare EOF.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
		return true
	}
	return unavailableCode(SQLState(err))
}

// unavailableCode reports the SQLSTATEs of a server that cannot serve now.
func unavailableCode(code string) bool {
	switch {
	case len(code) == 5 && code[:2] == "08": // connection exception
		return true
	case code == "57P01", code == "57P02", code == "57P03", code == "53300": // shutdown, crash, starting, too many connections
		return true
	}
	return false
}

// outOfReach is IsUnavailable less the server's own refusals: pgx wraps a
// failed login in the same ConnectError as a refused connection, and
// waiting does not make a wrong role right.
func outOfReach(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return unavailableCode(pe.Code)
	}
	return IsUnavailable(err)
}

// IsConflictRollback reports a transaction the server rolled back to break
// a conflict with another (a deadlock, or a serialization failure): nothing
// of it was kept, and the same transaction again succeeds once the other
// has moved on. A migration taking its table locks while the previous
// release still writes is such a conflict.
func IsConflictRollback(err error) bool {
	switch SQLState(err) {
	case "40P01", "40001":
		return true
	}
	return false
}

// IsDatabaseError reports any error raised by the server.
func IsDatabaseError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe)
}
