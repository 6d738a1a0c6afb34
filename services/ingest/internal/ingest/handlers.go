package ingest

import (
	"context"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/tracking"
)

// activityResponse is the body of POST /api/sessions/:id/activity.
type activityResponse struct {
	Session  tracking.Session `json:"session"`
	Activity Activity         `json:"activity"`
}

func (s *server) recordActivity(w http.ResponseWriter, r *http.Request) error {
	id, err := tracking.ParseSessionID(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	// The activity's check depends on the clock and is shared with the
	// bulk items, so activityInput is not a Validator.
	in, err := httpx.DecodeBody[activityInput](r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	b, err := s.bounds(r.Context(), p)
	if err != nil {
		return err
	}
	a, aerr := in.check(b, false)
	if aerr != nil {
		return aerr
	}
	red, err := s.redactions.of(p.OrganizationID)
	if err != nil {
		return err
	}
	a.URL = red.redact(a.URL)
	sess, act, stored, err := s.store.RecordOne(r.Context(), p, id, a)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if !stored {
		// A client_activity_id stored before: the stored activity and the
		// unchanged totals, so that a retry is harmless.
		status = http.StatusOK
	}
	httpx.JSON(w, status, activityResponse{Session: sess, Activity: act})
	return nil
}

func (s *server) recordBulk(w http.ResponseWriter, r *http.Request) error {
	id, err := tracking.ParseSessionID(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	body, err := httpx.ReadBody(r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	b, err := s.bounds(r.Context(), p)
	if err != nil {
		return err
	}
	batch, err := decodeBulk(body, s.cfg.MaxBulk, b)
	if err != nil {
		return err
	}
	red, err := s.redactions.of(p.OrganizationID)
	if err != nil {
		return err
	}
	for i := range batch.Items {
		batch.Items[i].URL = red.redact(batch.Items[i].URL)
	}
	res, err := s.store.RecordBulk(r.Context(), p, id, batch)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, res)
	return nil
}

// bounds are the timestamps p's organization accepts now.
func (s *server) bounds(ctx context.Context, p authn.Principal) (timeBounds, error) {
	window, err := s.windows.Of(ctx, p.OrganizationID)
	if err != nil {
		return timeBounds{}, err
	}
	lock, err := s.locks.Of(ctx, p.OrganizationID)
	return timeBounds{now: s.clock.Now(), leeway: s.cfg.FutureLeeway, window: window, lock: lock}, err
}

func (s *server) getRedactionRules(w http.ResponseWriter, r *http.Request) error {
	rules, err := s.store.RedactionRules(r.Context(), authn.MustFromContext(r.Context()))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, rules)
	return nil
}

// putRedactionRules replaces the organization's rules. This replica
// applies them before answering, so the admin's next post is redacted by
// them; the other replicas within a poll.
func (s *server) putRedactionRules(w http.ResponseWriter, r *http.Request) error {
	in, err := httpx.DecodeBody[redactionRulesInput](r)
	if err != nil {
		return err
	}
	out, err := s.store.SetRedactionRules(r.Context(), authn.MustFromContext(r.Context()), in.Rules)
	if err != nil {
		return err
	}
	if err := s.redactions.Poll(r.Context()); err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, out)
	return nil
}
