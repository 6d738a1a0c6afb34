package auth

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/export"
)

// exportClient asks ingest and report for their parts. It has no timeout
// of its own: a part streams as long as the caller's request lasts, which
// the export's write deadline bounds.
var exportClient = &http.Client{}

// exportUser serves GET /api/users/{id}/export: everything stored about a
// member, as one JSON document ({"user_id", "exported_at", "auth",
// "tracking", "reporting"}, each part an object of sections) or one CSV
// (section, record, field, value). Each service reads its own schema:
// auth writes its part and streams ingest's and report's after it as
// they arrive, asked for with the caller's token, so nothing holds the
// whole history. The export is audited before its first byte.
func (s *server) exportUser(w http.ResponseWriter, r *http.Request) error {
	id, err := export.Subject(r)
	if err != nil {
		return err
	}
	asCSV, err := export.WantsCSV(r)
	if err != nil {
		return err
	}
	format := map[bool]string{false: "json", true: "csv"}[asCSV]
	p := authn.MustFromContext(r.Context())
	if _, err := s.store.GetUser(r.Context(), p.OrganizationID, id); err != nil {
		return err
	}
	// The other parts are asked for first, so that a service that is down
	// fails the export before anything is audited or written.
	parts := make([]*http.Response, 0, len(s.cfg.ExportParts))
	defer func() {
		for _, resp := range parts {
			resp.Body.Close()
		}
	}()
	for _, part := range s.cfg.ExportParts {
		resp, err := openExportPart(r.Context(), part, r.Header.Get("Authorization"), id, format)
		if err != nil {
			return err
		}
		parts = append(parts, resp)
	}
	if err := s.store.RecordExport(r.Context(), p.OrganizationID, id, format); err != nil {
		return err
	}

	export.Extend(w, s.cfg.Export)
	if asCSV {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="workpulse-export-%s.%s"`, id, format))
	if err := s.writeExport(r.Context(), w, p.OrganizationID, id, asCSV, parts); err != nil {
		// Part of the export is out already: the response is broken off
		// rather than ended, so that the reader cannot take it for whole.
		panic(http.ErrAbortHandler)
	}
	return nil
}

func (s *server) writeExport(ctx context.Context, w io.Writer, org, id string, asCSV bool, parts []*http.Response) error {
	if asCSV {
		cw := csv.NewWriter(w)
		if err := cw.Write(export.Header); err != nil {
			return err
		}
		if cw.Flush(); cw.Error() != nil {
			return cw.Error()
		}
		if err := s.store.ExportUser(ctx, org, id, w, true, s.cfg.Export); err != nil {
			return err
		}
		for _, resp := range parts {
			if _, err := io.Copy(w, resp.Body); err != nil {
				return err
			}
		}
		return nil
	}
	head, _ := json.Marshal(map[string]string{"user_id": id, "exported_at": s.clock.Now().UTC().Format(time.RFC3339)})
	if _, err := fmt.Fprintf(w, `%s,"auth":`, head[:len(head)-1]); err != nil {
		return err
	}
	if err := s.store.ExportUser(ctx, org, id, w, false, s.cfg.Export); err != nil {
		return err
	}
	for i, resp := range parts {
		if _, err := fmt.Fprintf(w, `,%q:`, s.cfg.ExportParts[i].Name); err != nil {
			return err
		}
		if _, err := io.Copy(w, resp.Body); err != nil {
			return err
		}
	}
	_, err := io.WriteString(w, "}")
	return err
}

// openExportPart asks a service for its part of member id's export with
// the caller's token, which it checks as auth did.
func openExportPart(ctx context.Context, part ExportPart, authorization, id, format string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, part.URL+"/internal/users/"+id+"/export?format="+format, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", authorization)
	resp, err := exportClient.Do(req)
	if err != nil {
		return nil, ErrExportUnavailable.WithMessage(fmt.Sprintf("the %s part of the export is unavailable; retry later", part.Name))
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, ErrExportUnavailable.WithMessage(fmt.Sprintf("the %s part of the export is unavailable (%d); retry later", part.Name, resp.StatusCode))
	}
	return resp, nil
}
