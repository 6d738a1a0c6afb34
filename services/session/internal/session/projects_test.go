package session

import (
	"net/http"
	"strings"
	"testing"

	"github.com/workpulse/workpulse/services/platform/authn"
)

func TestProjectsAreCreatedListedAndScopedToTheOrganization(t *testing.T) {
	h := newHarness(t)
	admin, employee, stranger := h.team(authn.RoleAdmin, authn.RoleEmployee)

	var p Project
	if status, raw := h.do(http.MethodPost, employee.Token, "/api/projects", map[string]any{"name": "  Website  ", "description": "the new site"}, &p); status != http.StatusCreated {
		t.Fatalf("status %d: %s", status, raw)
	}
	if p.Name != "Website" || p.OrganizationID != admin.OrganizationID || p.CreatedBy != employee.UserID || *p.Description != "the new site" || p.CreatedAt.IsZero() {
		t.Errorf("project %+v", p)
	}
	h.do(http.MethodPost, admin.Token, "/api/projects", map[string]any{"name": "Apps"}, nil)
	h.do(http.MethodPost, stranger.Token, "/api/projects", map[string]any{"name": "Theirs"}, nil)

	for _, tc := range []struct {
		name   string
		body   any
		status int
		code   string
	}{
		{"A name the organization uses, in other case, is PROJECT_NAME_TAKEN.", map[string]any{"name": "WEBSITE"}, http.StatusConflict, "PROJECT_NAME_TAKEN"},
		{"A blank name is PROJECT_NAME_REQUIRED.", map[string]any{"name": "   "}, http.StatusBadRequest, "PROJECT_NAME_REQUIRED"},
		{"A missing name is PROJECT_NAME_REQUIRED.", map[string]any{"description": "x"}, http.StatusBadRequest, "PROJECT_NAME_REQUIRED"},
		{"A name over 200 characters is VALIDATION_FAILED.", map[string]any{"name": strings.Repeat("n", 201)}, http.StatusBadRequest, "VALIDATION_FAILED"},
		{"A NUL in the name is VALIDATION_FAILED.", map[string]any{"name": "a\x00b"}, http.StatusBadRequest, "VALIDATION_FAILED"},
		{"An unknown field is VALIDATION_FAILED.", map[string]any{"name": "x", "organization_id": stranger.OrganizationID}, http.StatusBadRequest, "VALIDATION_FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.do(http.MethodPost, employee.Token, "/api/projects", tc.body, nil)
			if status != tc.status || errorCode(t, raw) != tc.code {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	// Another organization may use the same name.
	if status, raw := h.do(http.MethodPost, stranger.Token, "/api/projects", map[string]any{"name": "Website"}, nil); status != http.StatusCreated {
		t.Errorf("same name in another org: %d %s", status, raw)
	}

	var list []Project
	h.do(http.MethodGet, employee.Token, "/api/projects", nil, &list)
	if len(list) != 2 || list[0].Name != "Apps" || list[1].Name != "Website" {
		t.Errorf("listed %+v", list)
	}
}
