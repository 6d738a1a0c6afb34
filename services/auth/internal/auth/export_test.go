package auth_test

import (
	"testing"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/test/testkit"
)

// TestAnExportIsRefusedBeforeAnythingIsWrittenOrAudited runs auth with
// ingest and report away (nothing listens where it asks for their
// parts): every refusal, and the export whose parts cannot be asked
// for, answers its error before the first byte and leaves no
// user.data_exported entry.
func TestAnExportIsRefusedBeforeAnythingIsWrittenOrAudited(t *testing.T) {
	e := newEnv(t, map[string]string{"INGEST_URL": "http://" + testkit.FreeAddr(t), "REPORT_URL": "http://" + testkit.FreeAddr(t)})
	adminTok, admin := e.register("boss@export.example", "Exportco")
	workerTok, worker := e.join(adminTok, "worker@export.example", "employee")
	leadTok, _ := e.join(adminTok, "lead@export.example", "manager")
	otherTok, _ := e.register("boss@other.example", "Otherco")
	tests := []struct {
		name, token, path string
		status            int
		code              string
	}{
		{"An employee may not export an admin.", workerTok, "/api/users/" + admin["id"].(string) + "/export", 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"A manager may not export an employee.", leadTok, "/api/users/" + worker + "/export", 403, "AUTH_INSUFFICIENT_PERMISSIONS"},
		{"Another organization's admin finds no such member.", otherTok, "/api/users/" + worker + "/export", 404, "USER_NOT_FOUND"},
		{"An id that names no one is not found.", adminTok, "/api/users/" + uuid.NewString() + "/export", 404, "USER_NOT_FOUND"},
		{"An id that is no id is not found.", adminTok, "/api/users/invitations/export", 404, "USER_NOT_FOUND"},
		{"A format other than json or csv is refused.", workerTok, "/api/users/me/export?format=xml", 400, "VALIDATION_FAILED"},
		{"With ingest and report away the export is unavailable.", workerTok, "/api/users/me/export", 503, "EXPORT_UNAVAILABLE"},
		{"An admin's export of a member is unavailable alike.", adminTok, "/api/users/" + worker + "/export?format=csv", 503, "EXPORT_UNAVAILABLE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r := e.do("GET", tt.path, tt.token, nil); r.Status != tt.status || r.code() != tt.code {
				t.Errorf("got %d %s; want %d %s", r.Status, r.Raw, tt.status, tt.code)
			}
		})
	}
	// The invitations are in the log; no export is.
	r := e.do("GET", "/api/audit", adminTok, nil)
	entries := entriesOf(r)
	if r.Status != 200 || len(entries) == 0 {
		t.Fatalf("audit %d %s", r.Status, r.Raw)
	}
	for _, entry := range entries {
		if entry.action == "user.data_exported" {
			t.Errorf("an export was recorded: %+v", entry)
		}
	}
}
