package ingest

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/validate"
	"github.com/workpulse/workpulse/services/tracking"
)

// Idle decisions: what the employee makes of an idle stretch of their
// session. Ingest owns the session totals, so it is where they change.
const (
	DecisionKeep    = "keep"    // the idle time counts as active work
	DecisionDiscard = "discard" // the idle time counts nowhere
	DecisionAssign  = "assign"  // the idle time counts as active work on a project
)

// maxIdleStretch bounds one decision, so that its audit entry, which
// lists every activity it covers, stays a reasonable size.
const maxIdleStretch = 24 * time.Hour

// IdleDecision is the contract's idle decision object.
type IdleDecision struct {
	ID        string    `json:"id"`
	SessionID string    `json:"session_id"`
	UserID    string    `json:"user_id"`
	StartTime time.Time `json:"start_time"`
	EndTime   time.Time `json:"end_time"`
	Decision  string    `json:"decision"`
	ProjectID *string   `json:"project_id"`
	// Activities and IdleSeconds are what the decision covered.
	Activities  int       `json:"activities"`
	IdleSeconds int64     `json:"idle_seconds"`
	DecidedBy   string    `json:"decided_by"`
	DecidedAt   time.Time `json:"decided_at"`
}

type idleDecisionRequest struct {
	StartTime *time.Time `json:"start_time"`
	EndTime   *time.Time `json:"end_time"`
	Decision  string     `json:"decision"`
	ProjectID *string    `json:"project_id"`
}

// Validate checks every field; a project goes with assign and only with it.
func (req *idleDecisionRequest) Validate() error {
	var v validate.Fields
	v.OneOf("decision", req.Decision, DecisionKeep, DecisionDiscard, DecisionAssign)
	switch {
	case req.StartTime == nil:
		v.Add("start_time", "is required", nil)
	case req.EndTime == nil:
		v.Add("end_time", "is required", nil)
	case !req.EndTime.After(*req.StartTime):
		v.Add("end_time", "must be after start_time", nil)
	case req.EndTime.Sub(*req.StartTime) > maxIdleStretch:
		v.Add("end_time", "a stretch may be 24 hours long at most", nil)
	}
	switch {
	case req.Decision == DecisionAssign && req.ProjectID == nil:
		v.Add("project_id", "is required to assign the stretch to a project", nil)
	case req.Decision == DecisionAssign:
		v.UUID("project_id", *req.ProjectID)
	case req.ProjectID != nil:
		v.Add("project_id", "goes with the decision assign only", nil)
	}
	return v.Err()
}

// idleDecisionResult is the body of POST /api/sessions/:id/idle-decisions.
type idleDecisionResult struct {
	Decision IdleDecision     `json:"decision"`
	Session  tracking.Session `json:"session"`
}

// decideIdle applies the caller's decision to the undecided idle
// activity of their session in [start_time, end_time).
func (s *server) decideIdle(w http.ResponseWriter, r *http.Request) error {
	id, err := tracking.ParseSessionID(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	req, err := httpx.DecodeBody[idleDecisionRequest](r)
	if err != nil {
		return err
	}
	d := IdleDecision{ID: uuid.NewString(), SessionID: id, StartTime: req.StartTime.UTC(), EndTime: req.EndTime.UTC(),
		Decision: req.Decision, ProjectID: req.ProjectID}
	sess, err := s.store.DecideIdle(r.Context(), authn.MustFromContext(r.Context()), &d)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, idleDecisionResult{Decision: d, Session: sess})
	return nil
}

// listIdleDecisions lists a session's idle decisions, oldest stretch
// first, to whoever sees the session.
func (s *server) listIdleDecisions(w http.ResponseWriter, r *http.Request) error {
	id, err := tracking.ParseSessionID(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	list, err := s.store.IdleDecisions(r.Context(), authn.MustFromContext(r.Context()), id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"decisions": list})
	return nil
}
