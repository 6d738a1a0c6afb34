package session

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/page"
)

func TestProjectsArePagedByCursorInNameOrder(t *testing.T) {
	h := newHarness(t)
	m := h.member("", authn.RoleEmployee)
	// 260 projects, with names that share a lower-case form apart from the
	// id and names a naive cursor would split on.
	want := map[string]bool{}
	for i := range 260 {
		name := fmt.Sprintf("Project %03d | x", i%250)
		if i >= 250 {
			name = fmt.Sprintf("project %03d | X%d", i%250, i)
		}
		if status, raw := h.do(http.MethodPost, m.Token, "/api/projects", map[string]any{"name": name}, nil); status != http.StatusCreated {
			t.Fatalf("create %q: %d %s", name, status, raw)
		}
		want[name] = true
	}
	list := func(query string) (int, []Project, string) {
		t.Helper()
		var ps []Project
		status, next := h.getPage(m.Token, "/api/projects?"+query, &ps)
		return status, ps, next
	}

	if _, ps, next := list(""); len(ps) != page.DefaultLimit || next == "" {
		t.Fatalf("the first page has %d projects and next %q; want %d and a cursor", len(ps), next, page.DefaultLimit)
	}
	seen := map[string]bool{}
	var last string
	pages := 0
	for q := "limit=70"; ; {
		status, ps, next := list(q)
		if status != http.StatusOK {
			t.Fatalf("page %d: %d", pages+1, status)
		}
		pages++
		for _, p := range ps {
			if seen[p.Name] {
				t.Errorf("%q on two pages", p.Name)
			}
			seen[p.Name] = true
			last = p.Name
		}
		if next == "" {
			break
		}
		q = "limit=70&cursor=" + url.QueryEscape(next)
	}
	if pages != 4 || len(seen) != len(want) {
		t.Errorf("%d pages with %d projects; want 4 with %d", pages, len(seen), len(want))
	}
	if last != "Project 249 | x" && last != "project 249 | X259" {
		t.Errorf("the last project is %q; want one of the 249s", last)
	}
	for _, tt := range []struct{ name, query string }{
		{"A limit above 500 is refused.", "limit=501"},
		{"A cursor this API did not return is refused.", "cursor=bm90LWEtY3Vyc29y"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, _, _ := list(tt.query); status != http.StatusBadRequest {
				t.Errorf("status %d; want 400", status)
			}
		})
	}
}

func TestAnOrganizationCannotCreateProjectsBeyondItsCap(t *testing.T) {
	h := newHarnessWith(t, 5)
	m := h.member("", authn.RoleEmployee)
	other := h.member("", authn.RoleEmployee)
	// Twenty at once: the cap holds under concurrency.
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[string]int{}
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, raw := h.do(http.MethodPost, m.Token, "/api/projects", map[string]any{"name": fmt.Sprintf("p%d", i)}, nil)
			code := "created"
			if status != http.StatusCreated {
				code = fmt.Sprint(status, " ", errorCode(t, raw))
			}
			mu.Lock()
			codes[code]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if codes["created"] != 5 || codes["409 PROJECT_LIMIT_REACHED"] != 15 {
		t.Errorf("outcomes %v; want 5 created and 15 PROJECT_LIMIT_REACHED", codes)
	}
	// The cap is each organization's own.
	if status, raw := h.do(http.MethodPost, other.Token, "/api/projects", map[string]any{"name": "p0"}, nil); status != http.StatusCreated {
		t.Errorf("another organization's project: %d %s", status, raw)
	}
}
