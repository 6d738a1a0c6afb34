package session

import (
	"net/http"
	"testing"

	"github.com/workpulse/workpulse/services/platform/authn"
)

func TestAnAdminArchivesAProjectWhichLeavesThePickersAndTakesNoNewSessions(t *testing.T) {
	h := newHarness(t)
	admin, employee, stranger := h.team(authn.RoleAdmin, authn.RoleEmployee)

	var old, kept Project
	h.do(http.MethodPost, admin.Token, "/api/projects", map[string]any{"name": "Old site"}, &old)
	h.do(http.MethodPost, admin.Token, "/api/projects", map[string]any{"name": "Kept"}, &kept)
	// A session running on the project when it is archived runs on.
	var running struct{ ID string }
	if status, raw := h.do(http.MethodPost, employee.Token, "/api/sessions/start", map[string]any{"project_id": old.ID}, &running); status != http.StatusCreated {
		t.Fatalf("start: %d %s", status, raw)
	}

	var archived Project
	if status, raw := h.do(http.MethodPost, admin.Token, "/api/projects/"+old.ID+"/archive", nil, &archived); status != http.StatusOK {
		t.Fatalf("archive: %d %s", status, raw)
	}
	if archived.ArchivedAt == nil || !archived.ArchivedAt.Equal(harnessInstant) || archived.Name != "Old site" {
		t.Fatalf("archived %+v; want archived_at %v", archived, harnessInstant)
	}
	h.clock.Advance(3600e9)
	var again Project
	h.do(http.MethodPost, admin.Token, "/api/projects/"+old.ID+"/archive", nil, &again)
	if again.ArchivedAt == nil || !again.ArchivedAt.Equal(*archived.ArchivedAt) {
		t.Errorf("archived again: %+v; want the first archiving's time kept", again)
	}

	names := func(path string) []string {
		var list []Project
		if status, raw := h.do(http.MethodGet, employee.Token, path, nil, &list); status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, status, raw)
		}
		var out []string
		for _, p := range list {
			out = append(out, p.Name)
		}
		return out
	}
	if got := names("/api/projects"); len(got) != 1 || got[0] != "Kept" {
		t.Errorf("the pickers' list is %v; want only Kept", got)
	}
	if got := names("/api/projects?include_archived=true"); len(got) != 2 || got[0] != "Kept" || got[1] != "Old site" {
		t.Errorf("with the archived: %v", got)
	}

	if status, raw := h.do(http.MethodPost, employee.Token, "/api/sessions/"+running.ID+"/stop", nil, nil); status != http.StatusOK {
		t.Fatalf("the running session could not stop: %d %s", status, raw)
	}
	for _, tc := range []struct {
		name, method, token, path string
		body                      any
		status                    int
		code                      string
	}{
		{"A session on an archived project is PROJECT_ARCHIVED.", http.MethodPost, employee.Token, "/api/sessions/start", map[string]any{"project_id": old.ID}, http.StatusConflict, "PROJECT_ARCHIVED"},
		{"An employee may not archive.", http.MethodPost, employee.Token, "/api/projects/" + kept.ID + "/archive", nil, http.StatusForbidden, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"An employee may not unarchive.", http.MethodPost, employee.Token, "/api/projects/" + old.ID + "/unarchive", nil, http.StatusForbidden, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"Another organization's admin does not find the project.", http.MethodPost, stranger.Token, "/api/projects/" + kept.ID + "/archive", nil, http.StatusNotFound, "PROJECT_NOT_FOUND"},
		{"An id that is no UUID is PROJECT_NOT_FOUND.", http.MethodPost, admin.Token, "/api/projects/nope/archive", nil, http.StatusNotFound, "PROJECT_NOT_FOUND"},
		{"An unknown include_archived is VALIDATION_FAILED.", http.MethodGet, employee.Token, "/api/projects?include_archived=yes", nil, http.StatusBadRequest, "VALIDATION_FAILED"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, raw := h.do(tc.method, tc.token, tc.path, tc.body, nil)
			if status != tc.status || errorCode(t, raw) != tc.code {
				t.Errorf("status %d: %s", status, raw)
			}
		})
	}
	if got := names("/api/projects"); len(got) != 1 {
		t.Errorf("a refused archiving changed the list: %v", got)
	}

	var back Project
	if status, raw := h.do(http.MethodPost, admin.Token, "/api/projects/"+old.ID+"/unarchive", nil, &back); status != http.StatusOK || back.ArchivedAt != nil {
		t.Fatalf("unarchive: %d %s", status, raw)
	}
	if status, raw := h.do(http.MethodPost, employee.Token, "/api/sessions/start", map[string]any{"project_id": old.ID}, nil); status != http.StatusCreated {
		t.Errorf("a session on the project back in use: %d %s", status, raw)
	}
}
