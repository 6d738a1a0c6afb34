package report

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/google/uuid"
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
	f, err := parseAlertFilter(q)
	if err != nil {
		return err
	}
	if err := f.scopeTo(p); err != nil {
		return err
	}
	if err := f.parseDays(q); err != nil {
		return err
	}
	var alerts []Alert
	err = pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		alerts, err = s.findAlerts(r.Context(), tx, p.OrganizationID, f)
		return err
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, alerts)
	return nil
}

// alertFilter is what GET /api/alerts asks for; nil means any.
type alertFilter struct {
	alertType, userID *string
	open              *bool
	limit             int
	// users are the users whose alerts are listed (nil: every user), set
	// by scopeTo from userID and what the caller sees.
	users []string
	// from and to are tenant-local days of creation.
	from, to *time.Time
}

// parseAlertFilter reads the type, status, user_id and limit parameters.
func parseAlertFilter(q url.Values) (alertFilter, error) {
	f := alertFilter{limit: 100}
	var v validate.Fields
	if t := q.Get("type"); t != "" {
		v.OneOf("type", t, "idle", "overtime")
		f.alertType = &t
	}
	if st := q.Get("status"); st != "" {
		v.OneOf("status", st, "open", "resolved")
		o := st == "open"
		f.open = &o
	}
	if u := q.Get("user_id"); u != "" {
		v.UUID("user_id", u)
		f.userID = &u
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			n = -1
		}
		v.IntRange("limit", n, 1, 1000)
		f.limit = n
	}
	return f, v.Err()
}

// scopeTo keeps the caller to the alerts of the users they see: an
// employee to their own, a manager to theirs and their teams' members'.
func (f *alertFilter) scopeTo(p authn.Principal) error {
	if f.userID != nil {
		if !p.Sees(*f.userID) {
			return ErrUnauthorized
		}
		f.users = []string{*f.userID}
		return nil
	}
	f.users, _ = p.Visible()
	return nil
}

// parseDays reads startDate and endDate, which must be ordered.
func (f *alertFilter) parseDays(q url.Values) error {
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
	if hasFrom {
		f.from = &from
	}
	if hasTo {
		f.to = &to
	}
	return nil
}

// findAlerts finds the alerts of the tenant of tx that f asks for, its
// days bounded in the tenant's zone.
func (s *server) findAlerts(ctx context.Context, tx pgx.Tx, org string, f alertFilter) ([]Alert, error) {
	st, err := s.cfg.settings(ctx, tx, org)
	if err != nil {
		return nil, err
	}
	var lo, hi *time.Time
	if f.from != nil {
		l, _, err := dayBounds(ctx, tx, st.TimeZone, *f.from)
		if err != nil {
			return nil, err
		}
		lo = &l
	}
	if f.to != nil {
		_, h, err := dayBounds(ctx, tx, st.TimeZone, *f.to)
		if err != nil {
			return nil, err
		}
		hi = &h
	}
	return selectAlerts(ctx, tx, org, f, lo, hi)
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
	if _, err := httpx.DecodeBody[struct{}](r); err != nil {
		return err
	}
	var a Alert
	err := pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		cur, err := alertForUpdate(r.Context(), tx, id)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && !p.Sees(cur.UserID)) {
			return ErrAlertNotFound
		}
		if err != nil {
			return err
		}
		if cur.ResolvedAt != nil {
			return ErrAlertResolved
		}
		a, err = resolveAlertBy(r.Context(), tx, id, p.UserID, s.clock.Now())
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

// alreadyRunning answers a trigger while a job of its kind runs for the
// organization: the answer carries that job's id, as it is the one doing
// the work asked for.
const alreadyRunning = "a job of this kind is already running for the organization; this is its id"

type triggerResponse struct {
	JobID   string `json:"job_id"`
	Message string `json:"message"`
}

type dailySummaryRequest struct {
	Date string `json:"date"`
	// day is Date parsed; zero for the catch-up.
	day time.Time
}

// Validate parses the date, when one is given.
func (req *dailySummaryRequest) Validate() error {
	if req.Date == "" {
		return nil
	}
	d, err := time.Parse(time.DateOnly, req.Date)
	if err != nil {
		return invalidDate("date", "must be a date in the form YYYY-MM-DD", req.Date)
	}
	req.day = d
	return nil
}

// triggerDailySummary runs the daily summary of the caller's
// organization: for one date, or the catch-up through yesterday.
func (s *server) triggerDailySummary(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	req, err := httpx.DecodeBody[dailySummaryRequest](r)
	if err != nil {
		return err
	}
	if req.Date != "" {
		err := pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
			t, err := today(r.Context(), tx, p.OrganizationID, s.clock.Now())
			if err == nil && req.day.After(t) {
				return invalidDate("date", "must not be in the future", req.Date)
			}
			return err
		})
		if err != nil {
			return err
		}
	}
	org := p.OrganizationID
	id, started, err := s.runner.Start(r.Context(), org, p.UserID, JobDailySummary, req, func(ctx context.Context, _ func(any)) (any, error) {
		if req.Date != "" {
			return s.jobs.SummarizeDate(ctx, org, req.day)
		}
		return s.jobs.CatchUp(ctx, org)
	})
	if err != nil {
		return err
	}
	msg := "daily summary started for every day not yet summarized"
	switch {
	case !started:
		msg = alreadyRunning
	case req.Date != "":
		msg = "daily summary started for " + req.Date
	}
	httpx.JSON(w, http.StatusAccepted, triggerResponse{JobID: id, Message: msg})
	return nil
}

// triggerIdleDetection runs idle detection for the caller's organization.
func (s *server) triggerIdleDetection(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	if _, err := httpx.DecodeBody[struct{}](r); err != nil {
		return err
	}
	org := p.OrganizationID
	id, started, err := s.runner.Start(r.Context(), org, p.UserID, JobIdleDetection, struct{}{}, func(ctx context.Context, _ func(any)) (any, error) {
		return s.jobs.DetectIdle(ctx, org)
	})
	if err != nil {
		return err
	}
	msg := "idle detection started"
	if !started {
		msg = alreadyRunning
	}
	httpx.JSON(w, http.StatusAccepted, triggerResponse{JobID: id, Message: msg})
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

// createWebhook adds an endpoint of the caller's organization; the answer
// is the only one that shows its secret.
func (s *server) createWebhook(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	in, err := httpx.DecodeBody[webhookInput](r)
	if err != nil {
		return err
	}
	if err := in.check(r.Context(), true, s.cfg.WebhookAllowPrivateTargets); err != nil {
		return err
	}
	enabled := in.Enabled == nil || *in.Enabled
	format := "json"
	if in.Format != nil {
		format = *in.Format
	}
	id, secret := uuid.NewString(), newWebhookSecret()
	var hook Webhook
	err = pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		hook, err = insertWebhook(r.Context(), tx, id, p.OrganizationID, *in.URL, *in.EventTypes, enabled, format,
			s.cfg.SecretCipher.SealSecret(webhookSecretAD(id), []byte(secret)), s.clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	hook.Secret = secret
	httpx.JSON(w, http.StatusCreated, hook)
	return nil
}

// listWebhooks lists the endpoints of the caller's organization.
func (s *server) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	var hooks []Webhook
	err := pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		var err error
		hooks, err = listWebhooks(r.Context(), tx)
		return err
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, hooks)
	return nil
}

// updateWebhook changes what the body sets of an endpoint.
func (s *server) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	in, err := httpx.DecodeBody[webhookInput](r)
	if err != nil {
		return err
	}
	if err := in.check(r.Context(), false, s.cfg.WebhookAllowPrivateTargets); err != nil {
		return err
	}
	var hook Webhook
	err = s.inWebhook(r, func(tx pgx.Tx, id string) error {
		var err error
		hook, err = updateWebhook(r.Context(), tx, id, in, s.clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, hook)
	return nil
}

// deleteWebhook deletes an endpoint and its delivery log.
func (s *server) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	err := s.inWebhook(r, func(tx pgx.Tx, id string) error {
		_, err := deleteWebhook(r.Context(), tx, id)
		return err
	})
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// listWebhookDeliveries lists an endpoint's latest deliveries (limit,
// 1-1000, default 100), newest first.
func (s *server) listWebhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if l := r.URL.Query().Get("limit"); l != "" {
		var v validate.Fields
		n, err := strconv.Atoi(l)
		if err != nil {
			n = -1
		}
		v.IntRange("limit", n, 1, 1000)
		if err := v.Err(); err != nil {
			return err
		}
		limit = n
	}
	var list []WebhookDelivery
	err := s.inWebhook(r, func(tx pgx.Tx, id string) error {
		var err error
		list, err = listDeliveries(r.Context(), tx, id, limit)
		return err
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, list)
	return nil
}

// testWebhook queues a webhook.test delivery to an endpoint, sent within
// a second; its outcome shows in the delivery log.
func (s *server) testWebhook(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	var d WebhookDelivery
	err := s.inWebhook(r, func(tx pgx.Tx, id string) error {
		var err error
		d, err = testDelivery(r.Context(), tx, p.OrganizationID, id, s.clock.Now())
		return err
	})
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusAccepted, d)
	return nil
}

// inWebhook runs fn in the caller's organization on the endpoint of the
// path, which must be the organization's.
func (s *server) inWebhook(r *http.Request, fn func(tx pgx.Tx, id string) error) error {
	p := authn.MustFromContext(r.Context())
	id := mux.Vars(r)["id"]
	if !isUUID(id) {
		return ErrWebhookNotFound
	}
	return pg.InOrg(r.Context(), s.db, p.OrganizationID, func(tx pgx.Tx) error {
		ok, err := webhookExists(r.Context(), tx, id)
		if err != nil {
			return err
		}
		if !ok {
			return ErrWebhookNotFound
		}
		return fn(tx, id)
	})
}
