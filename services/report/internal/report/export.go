package report

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/export"
)

// exportPart serves GET /internal/users/{id}/export: the reporting part of
// the member's export, which auth streams into the whole.
func (s *server) exportPart(w http.ResponseWriter, r *http.Request) error {
	return export.ServePart(w, r, s.db, s.cfg.Export, exportSections)
}
