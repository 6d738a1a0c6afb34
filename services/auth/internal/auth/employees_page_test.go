package auth_test

import (
	"context"
	"fmt"
	"net/url"
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/page"
)

func TestEmployeesArePagedByCursorInNameOrder(t *testing.T) {
	e := newEnv(t, nil)
	adminTok, admin := e.register("boss@example.com", "Bossco")
	org := admin["organization_id"].(string)
	// 229 more members, some sharing a name, beside the admin.
	for i := range 229 {
		if _, err := e.db.Owner.Exec(context.Background(), `INSERT INTO auth.users (id, organization_id, email, name, password_hash, role, created_at)
			VALUES ($1, $2, $3, $4, 'x', 'employee', $5)`, uuid.NewString(), org, fmt.Sprintf("m%d@example.com", i),
			fmt.Sprintf("Member %03d", i%200), e.clock.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if r := e.do("GET", "/api/users/employees", adminTok, nil); r.Status != 200 || len(r.List) != page.DefaultLimit || r.Header.Get(page.NextHeader) == "" {
		t.Fatalf("the first page: %d, %d members, next %q; want %d and a cursor", r.Status, len(r.List), r.Header.Get(page.NextHeader), page.DefaultLimit)
	}
	seen := map[string]bool{}
	pages, prev := 0, ""
	for q := "limit=64"; ; pages++ {
		r := e.do("GET", "/api/users/employees?"+q, adminTok, nil)
		if r.Status != 200 {
			t.Fatalf("page %d: %d %s", pages+1, r.Status, r.Raw)
		}
		for _, u := range r.List {
			id, name := u["id"].(string), u["name"].(string)
			if seen[id] {
				t.Errorf("%s on two pages", id)
			}
			if name < prev {
				t.Errorf("%q after %q", name, prev)
			}
			seen[id], prev = true, name
		}
		next := r.Header.Get(page.NextHeader)
		if next == "" {
			pages++
			break
		}
		q = "limit=64&cursor=" + url.QueryEscape(next)
	}
	if pages != 4 || len(seen) != 230 {
		t.Errorf("%d pages with %d members; want 4 with 230", pages, len(seen))
	}
	if r := e.do("GET", "/api/users/employees?limit=501", adminTok, nil); r.Status != 400 || r.code() != "VALIDATION_FAILED" {
		t.Errorf("limit=501: %d %s; want 400 VALIDATION_FAILED", r.Status, r.Raw)
	}
}
