package report

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/api/events"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/pg"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// listAlerts lists alerts newest first: the caller's own, or the whole
// organization's for an admin (optionally one user's). Filters: type,
// status (open or resolved), startDate and endDate (tenant-local days of
// creation), limit.
func (s *server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	q := r.URL.Query()
	var v validate.Fields
	var alertType, userID *string
	var open *bool
	if t := q.Get("type"); t != "" {
		v.OneOf("type", t, "idle", "overtime")
		alertType = &t
	}
	if st := q.Get("status"); st != "" {
		v.OneOf("status", st, "open", "resolved")
		o := st == "open"
		open = &o
	}
	if u := q.Get("user_id"); u != "" {
		v.UUID("user_id", u)
		userID = &u
	}
	limit := 100
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			n = -1
		}
		v.IntRange("limit", n, 1, 1000)
		limit = n
	}
	if err := v.Err(); err != nil {
		return err
	}
	if !p.IsAdmin() {
		if userID != nil && *userID != p.UserID {
			return ErrUnauthorized
		}
		userID = &p.UserID
	}
	from, hasFrom, err := parseDate(q, "startDate")
	if err != nil {
		return err
	}
	to, hasTo, err := parseDate(q, "endDate")
	if err != nil {
		return err
	}
	if hasFrom && hasTo && from.After(to) {
		return ErrInvalidDateRange.WithMessage("startDate must not be after endDate")
	}
	var alerts []Alert
	err = pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		st, err := s.cfg.settings(r.Context(), tx, p.OrganizationID)
		if err != nil {
			return err
		}
		var lo, hi *time.Time
		if hasFrom {
			l, _, err := dayBounds(r.Context(), tx, st.TimeZone, from)
			if err != nil {
				return err
			}
			lo = &l
		}
		if hasTo {
			_, h, err := dayBounds(r.Context(), tx, st.TimeZone, to)
			if err != nil {
				return err
			}
			hi = &h
		}
		rows, err := tx.Query(r.Context(), `SELECT `+alertColumns+` FROM reporting.alerts
			WHERE organization_id = $1 AND ($2::uuid IS NULL OR user_id = $2) AND ($3::text IS NULL OR alert_type = $3)
			  AND ($4::boolean IS NULL OR (resolved_at IS NULL) = $4)
			  AND ($5::timestamptz IS NULL OR created_at >= $5) AND ($6::timestamptz IS NULL OR created_at < $6)
			ORDER BY created_at DESC, id LIMIT $7`, p.OrganizationID, userID, alertType, open, lo, hi, limit)
		if err != nil {
			return err
		}
		alerts, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Alert, error) { return scanAlert(r) })
		return err
	})
	if err != nil {
		return err
	}
	if alerts == nil {
		alerts = []Alert{}
	}
	httpx.JSON(w, http.StatusOK, alerts)
	return nil
}

// resolveAlert resolves an open alert: the user's own, or any of the
// organization's for an admin. Others' alerts answer 404 to employees, as
// they cannot see them.
func (s *server) resolveAlert(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	id := mux.Vars(r)["id"]
	if !isUUID(id) {
		return ErrAlertNotFound
	}
	if err := httpx.Decode(r, &struct{}{}); err != nil {
		return err
	}
	var a Alert
	err := pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		cur, err := scanAlert(tx.QueryRow(r.Context(), "SELECT "+alertColumns+" FROM reporting.alerts WHERE id = $1 FOR UPDATE", id))
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !p.IsAdmin() && cur.UserID != p.UserID) {
			return ErrAlertNotFound
		}
		if err != nil {
			return err
		}
		if cur.ResolvedAt != nil {
			return ErrAlertResolved
		}
		a, err = scanAlert(tx.QueryRow(r.Context(), "UPDATE reporting.alerts SET resolved_at = $3, resolved_by = $2 WHERE id = $1 RETURNING "+alertColumns, id, p.UserID, s.clock.Now()))
		if err != nil {
			return err
		}
		return emitAlert(r.Context(), tx, events.TypeAlertResolved, a)
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, a)
	return nil
}

type triggerResponse struct {
	JobID   string `json:"job_id"`
	Message string `json:"message"`
}

type dailySummaryRequest struct {
	Date string `json:"date"`
}

// triggerDailySummary runs the daily summary of the caller's
// organization: for one date, or the catch-up through yesterday.
func (s *server) triggerDailySummary(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	var req dailySummaryRequest
	if err := httpx.Decode(r, &req); err != nil {
		return err
	}
	var day time.Time
	if req.Date != "" {
		var err error
		if day, err = time.Parse(time.DateOnly, req.Date); err != nil {
			return invalidDate("date", "must be a date in the form YYYY-MM-DD", req.Date)
		}
		err = pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
			t, err := today(r.Context(), tx, p.OrganizationID, s.clock.Now())
			if err == nil && day.After(t) {
				return invalidDate("date", "must not be in the future", req.Date)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	org := p.OrganizationID
	id, err := s.runner.Start(r.Context(), org, p.UserID, JobDailySummary, req, func(ctx context.Context) (any, error) {
		if req.Date != "" {
			return s.jobs.SummarizeDate(ctx, org, day)
		}
		return s.jobs.CatchUp(ctx, org)
	})
	if err != nil {
		return err
	}
	msg := "daily summary started for every day not yet summarized"
	if req.Date != "" {
		msg = "daily summary started for " + req.Date
	}
	httpx.JSON(w, http.StatusAccepted, triggerResponse{JobID: id, Message: msg})
	return nil
}

// triggerIdleDetection runs idle detection for the caller's organization.
func (s *server) triggerIdleDetection(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	if err := httpx.Decode(r, &struct{}{}); err != nil {
		return err
	}
	org := p.OrganizationID
	id, err := s.runner.Start(r.Context(), org, p.UserID, JobIdleDetection, struct{}{}, func(ctx context.Context) (any, error) {
		return s.jobs.DetectIdle(ctx, org)
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusAccepted, triggerResponse{JobID: id, Message: "idle detection started"})
	return nil
}

// getJob reports a job of the caller's organization.
func (s *server) getJob(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	id := mux.Vars(r)["id"]
	if !isUUID(id) {
		return ErrJobNotFound
	}
	j, err := s.runner.Get(r.Context(), p.OrganizationID, id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, j)
	return nil
}
