package pg_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

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
