package pg_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/test/testkit"
)

func TestRowLevelSecurityHidesTenantRowsFromServiceRoles(t *testing.T) {
	db, orgA, orgB := seededDB(t)
	ctx := context.Background()
	pool := db.Pool(t, "workpulse_auth")

	count := func(t *testing.T, org string) int {
		t.Helper()
		var n int
		run := func(tx pgx.Tx) error { return tx.QueryRow(ctx, "SELECT count(*) FROM auth.users").Scan(&n) }
		var err error
		if org == "" {
			err = pg.InTx(ctx, pool, run)
		} else {
			err = pg.InOrg(ctx, pool, org, run)
		}
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	cases := []struct {
		name string
		org  string
		want int
	}{
		{"A query with no organization set sees no tenant rows.", "", 0},
		{"A query scoped to organization A sees only A's rows.", orgA, 1},
		{"A query scoped to an unknown organization sees nothing.", uuid.NewString(), 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := count(t, c.org); got != c.want {
				t.Fatalf("saw %d users; want %d", got, c.want)
			}
		})
	}

	t.Run("A one-round-trip scoped query sees its organization only, and the setting ends with it.", func(t *testing.T) {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		var n int
		if err := pg.QueryRowInOrg(ctx, conn.Conn(), orgA, "SELECT count(*) FROM auth.users", func(r pgx.Row) error { return r.Scan(&n) }); err != nil || n != 1 {
			t.Fatalf("scoped to A: %d users (%v); want 1", n, err)
		}
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM auth.users").Scan(&n); err != nil || n != 0 {
			t.Fatalf("the next query on the same connection sees %d users (%v); want 0", n, err)
		}
	})

	t.Run("A write into another organization is refused by the policy.", func(t *testing.T) {
		err := pg.InOrg(ctx, pool, orgA, func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO auth.users (id, organization_id, email, name, password_hash, role) VALUES ($1, $2, 'y@example.com', 'Yolanda', 'h', 'admin')",
				uuid.NewString(), orgB)
			return err
		})
		if pg.SQLState(err) != "42501" {
			t.Fatalf("cross-tenant insert: err = %v; want an RLS violation (42501)", err)
		}
	})

	t.Run("The organization setting does not leak to the next transaction on a pooled connection.", func(t *testing.T) {
		conn, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Release()
		if err := pg.InOrg(ctx, conn, orgA, func(pgx.Tx) error { return nil }); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := conn.QueryRow(ctx, "SELECT count(*) FROM auth.users").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Fatalf("after a scoped transaction the same connection sees %d rows unscoped; want 0", n)
		}
	})
}

func TestAServiceConnectionThatResetsItsRoleStillSeesOnlyItsOrganization(t *testing.T) {
	db, orgA, orgB := seededDB(t)
	ctx := context.Background()
	// As the service logs in: its own role, not the owner's URL user.
	pool, err := pg.Connect(ctx, db.URL, pg.Login{User: "workpulse_auth"}, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()

	cases := []struct {
		name   string
		escape string
	}{
		{"After RESET ROLE the connection is still the service's role.", "RESET ROLE"},
		{"After SET SESSION AUTHORIZATION DEFAULT the connection is still the service's role.", "SET SESSION AUTHORIZATION DEFAULT"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var user string
			var others int
			err := pg.InOrg(ctx, pool, orgA, func(tx pgx.Tx) error {
				if _, err := tx.Exec(ctx, c.escape); err != nil {
					return err
				}
				if err := tx.QueryRow(ctx, "SELECT current_user").Scan(&user); err != nil {
					return err
				}
				return tx.QueryRow(ctx, "SELECT count(*) FROM auth.users WHERE organization_id = $1", orgB).Scan(&others)
			})
			if err != nil {
				t.Fatal(err)
			}
			if user != "workpulse_auth" || others != 0 {
				t.Fatalf("after %s: user %s sees %d of the other organization's users; want workpulse_auth seeing none", c.escape, user, others)
			}
		})
	}

	t.Run("The service's role cannot become the owner.", func(t *testing.T) {
		_, err := pool.Exec(ctx, "SET ROLE postgres")
		if pg.SQLState(err) != "42501" {
			t.Fatalf("SET ROLE postgres: %v; want permission denied (42501)", err)
		}
	})
}

// seededDB is a fresh database with two organizations, one admin each.
func seededDB(t *testing.T) (db *testkit.DB, orgA, orgB string) {
	t.Helper()
	db = testkit.NewDB(t)
	ctx := context.Background()
	orgA, orgB = uuid.NewString(), uuid.NewString()
	for _, org := range []string{orgA, orgB} {
		if _, err := db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name) VALUES ($1, 'org')", org); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Owner.Exec(ctx, "INSERT INTO auth.users (id, organization_id, email, name, password_hash, role) VALUES ($1, $2, 'x@example.com', 'Xavier', 'h', 'admin')",
			uuid.NewString(), org); err != nil {
			t.Fatal(err)
		}
	}
	return db, orgA, orgB
}

func TestErrorsAreClassifiedForClients(t *testing.T) {
	db := testkit.NewDB(t)
	ctx := context.Background()
	_, err := db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name) VALUES ($1, 'a'), ($1, 'b')", uuid.NewString())
	if !pg.IsUniqueViolation(err, "organizations_pkey") {
		t.Fatalf("duplicate key: %v is not classified as a unique violation", err)
	}
	if pg.IsUnavailable(err) {
		t.Fatal("a constraint violation was classified as the database being unavailable")
	}
	if pg.IsConflictRollback(err) {
		t.Fatal("a constraint violation was classified as a conflict worth trying again")
	}
	if err := deadlock(ctx, t, db); !pg.IsConflictRollback(err) {
		t.Fatalf("a deadlock: %v is not classified as a conflict worth trying again", err)
	}
	// The pool connects lazily; the ping meets the refused connection.
	pool, err := pg.Connect(ctx, "postgres://postgres@127.0.0.1:1/none?sslmode=disable", pg.Login{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	err = pool.Ping(ctx)
	if !pg.IsUnavailable(err) {
		t.Fatalf("connection refused: %v is not classified as unavailable", err)
	}
	if !pg.IsUnavailable(fmt.Errorf("query: %w", io.ErrUnexpectedEOF)) {
		t.Fatal("a connection cut mid-query is not classified as unavailable")
	}
	if !pg.IsUnavailable(errors.Join(context.Canceled, err)) {
		t.Fatal("a wrapped connection error is not classified as unavailable")
	}
}

// deadlock makes two transactions wait for each other's row and returns
// the error of the one the server rolled back.
func deadlock(ctx context.Context, t *testing.T, db *testkit.DB) error {
	a, b := uuid.NewString(), uuid.NewString()
	if _, err := db.Owner.Exec(ctx, "INSERT INTO auth.organizations (id, name) VALUES ($1, 'a'), ($2, 'b')", a, b); err != nil {
		t.Fatal(err)
	}
	first, err := db.Owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	second, err := db.Owner.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Rollback(ctx)
	lock := "SELECT 1 FROM auth.organizations WHERE id = $1 FOR UPDATE"
	if _, err := first.Exec(ctx, lock, a); err != nil {
		t.Fatal(err)
	}
	if _, err := second.Exec(ctx, lock, b); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 2)
	go func() { _, err := first.Exec(ctx, lock, b); errs <- err }()
	go func() { _, err := second.Exec(ctx, lock, a); errs <- err }()
	err = <-errs
	if err == nil {
		err = <-errs
	}
	return err
}

func TestWaitReachableWaitsOnlyWhileTheDatabaseIsOutOfReach(t *testing.T) {
	db := testkit.NewDB(t)
	ctx := context.Background()
	tests := []struct {
		name    string
		opensIn time.Duration // -1: never
		user    string        // "": the database's owner, whom it admits
		within  time.Duration
		wantErr bool
		minWait time.Duration
		maxWait time.Duration
	}{
		{"a database reachable a moment after the pod starts is waited for", 800 * time.Millisecond, "", 10 * time.Second, false, 800 * time.Millisecond, 5 * time.Second},
		{"a database never reachable is given up on after the bound", -1, "", time.Second, true, time.Second, 4 * time.Second},
		{"a role the server refuses fails at once", 0, "no_such_role_for_wait", 10 * time.Second, false, 0, time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := url.Parse(db.URL)
			if err != nil {
				t.Fatal(err)
			}
			u.Host = forwardLater(t, u.Host, tt.opensIn)
			login := pg.Login{}
			if tt.user != "" {
				login.User = tt.user
			}
			pool, err := pg.Connect(ctx, u.String(), login, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer pool.Close()
			sw := clock.Start()
			err = pg.WaitReachable(ctx, pool.Ping, tt.within)
			took := sw.Elapsed()
			refused := tt.user != ""
			switch {
			case refused && pg.SQLState(err) != "28000":
				t.Fatalf("WaitReachable = %v, want the server's refusal of the role", err)
			case !refused && (err != nil) != tt.wantErr:
				t.Fatalf("WaitReachable = %v, want error %v", err, tt.wantErr)
			case tt.wantErr && !pg.IsUnavailable(err):
				t.Fatalf("WaitReachable = %v, want an unavailable database", err)
			}
			if took < tt.minWait || took > tt.maxWait {
				t.Errorf("WaitReachable took %v, want between %v and %v", took, tt.minWait, tt.maxWait)
			}
		})
	}
}

// forwardLater returns a loopback address that refuses connections for
// after, then forwards each to target (after < 0: refuses for ever).
func forwardLater(t *testing.T, target string, after time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // refused until reopened
	if after < 0 {
		return addr
	}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		select {
		case <-done:
			return
		case <-time.After(after):
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("reopen %s: %v", addr, err)
			return
		}
		go func() { <-done; ln.Close() }()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.Dial("tcp", target)
				if err != nil {
					return
				}
				defer s.Close()
				go func() { _, _ = io.Copy(s, c) }()
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	return addr
}
