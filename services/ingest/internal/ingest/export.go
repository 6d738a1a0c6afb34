package ingest

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/export"
)

// exportPart serves GET /internal/users/{id}/export: the tracking part of
// the member's export, which auth streams into the whole.
func (s *server) exportPart(w http.ResponseWriter, r *http.Request) error {
	return export.ServePart(w, r, s.store.db, s.cfg.Export, exportSections)
}
