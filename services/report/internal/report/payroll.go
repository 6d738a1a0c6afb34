package report

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/export"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// PayrollEntry is one line of the payroll export: a finished session,
// tracked by the agent or an approved manual entry, with the seconds it
// counts (its totals, as idle decisions corrected them), or the idle
// stretch of a session its employee assigned to a project.
type PayrollEntry struct {
	SessionID     string    `json:"session_id"`
	UserID        string    `json:"user_id"`
	UserName      *string   `json:"user_name"`
	ProjectID     *string   `json:"project_id"`
	ProjectName   *string   `json:"project_name"`
	StartTime     time.Time `json:"start_time"`
	EndTime       time.Time `json:"end_time"`
	ActiveSeconds int64     `json:"active_seconds"`
	IdleSeconds   int64     `json:"idle_seconds"`
	// Source is tracked, manual or assigned; a manual entry names its approver.
	Source     string  `json:"source"`
	ApprovedBy *string `json:"approved_by"`
}

// Sources of a payroll entry.
const (
	SourceTracked = "tracked"
	SourceManual  = "manual"
	// SourceAssigned is an idle stretch assigned to a project: its bounds
	// are the decision's, its seconds active work on that project.
	SourceAssigned = "assigned"
)

var payrollHeader = []string{"session_id", "user_id", "user_name", "project_id", "project_name", "start_time", "end_time",
	"active_seconds", "idle_seconds", "source", "approved_by"}

func (e PayrollEntry) csvRecord() []string {
	text := func(s *string) string {
		if s == nil {
			return ""
		}
		return export.CSVText(*s)
	}
	return []string{e.SessionID, e.UserID, text(e.UserName), text(e.ProjectID), text(e.ProjectName), e.StartTime.Format(time.RFC3339),
		e.EndTime.Format(time.RFC3339), strconv.FormatInt(e.ActiveSeconds, 10), strconv.FormatInt(e.IdleSeconds, 10), e.Source,
		text(e.ApprovedBy)}
}

// payrollReport exports, for the tenant-local days startDate..endDate,
// every finished session that started on them of the members the caller
// sees (a manager's teams, an admin's organization), oldest first. Every
// export is audited, as it takes pay-relevant data out of the platform.
func (s *server) payrollReport(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	asCSV, err := export.WantsCSV(r)
	if err != nil {
		return err
	}
	users, _ := p.Visible()
	var entries []PayrollEntry
	err = pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		from, to, err := dateRange(r.Context(), tx, p.OrganizationID, r.URL.Query(), s.cfg.MaxRangeDays, s.clock.Now())
		if err != nil {
			return err
		}
		st, err := s.cfg.settings(r.Context(), tx, p.OrganizationID)
		if err != nil {
			return err
		}
		lo, _, err := dayBounds(r.Context(), tx, st.TimeZone, from)
		if err != nil {
			return err
		}
		_, hi, err := dayBounds(r.Context(), tx, st.TimeZone, to)
		if err != nil {
			return err
		}
		if entries, err = payrollEntries(r.Context(), tx, users, lo, hi); err != nil {
			return err
		}
		details := reportAuditDetails(from, to, asCSV)
		details["report"], details["entries"] = "payroll", len(entries)
		return recordReportAudit(r.Context(), tx, s.clock.Now(), p.UserID, auditReportExported, nil, details)
	})
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []PayrollEntry{}
	}
	if !asCSV {
		httpx.JSON(w, http.StatusOK, map[string]any{"entries": entries})
		return nil
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="payroll.csv"`)
	cw := csv.NewWriter(w)
	if err := cw.Write(payrollHeader); err != nil {
		return err
	}
	for _, e := range entries {
		if err := cw.Write(e.csvRecord()); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
