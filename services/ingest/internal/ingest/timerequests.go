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

// Manual time entries: time an employee worked without the agent, which
// counts once a manager of one of their teams or an admin approves it.
// Ingest owns the session totals and the activity, so the approved entry
// is written here, as a stopped session with active activity.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestRejected = "rejected"
)

// The kinds of time request: a manual entry, and an edit of one of the
// member's stopped sessions, which asks for the session's project and
// bounds to become the request's. Both are reviewed the same way.
const (
	KindEntry = "entry"
	KindEdit  = "edit"
)

// maxManualEntry bounds one entry, as maxIdleStretch bounds a decision.
const maxManualEntry = 24 * time.Hour

// maxNoteLen bounds the employee's and the reviewer's notes.
const maxNoteLen = 1000

// TimeRequest is the contract's time request object.
type TimeRequest struct {
	ID          string     `json:"id"`
	Kind        string     `json:"kind"`
	UserID      string     `json:"user_id"`
	ProjectID   *string    `json:"project_id"`
	StartTime   time.Time  `json:"start_time"`
	EndTime     time.Time  `json:"end_time"`
	Note        string     `json:"note"`
	Status      string     `json:"status"`
	RequestedAt time.Time  `json:"requested_at"`
	ReviewedBy  *string    `json:"reviewed_by"`
	ReviewedAt  *time.Time `json:"reviewed_at"`
	ReviewNote  *string    `json:"review_note"`
	// SessionID is the session an approved entry became, or the session
	// an edit changes.
	SessionID *string `json:"session_id"`
}

type timeRequestInput struct {
	Kind      string     `json:"kind"`
	SessionID *string    `json:"session_id"`
	ProjectID *string    `json:"project_id"`
	StartTime *time.Time `json:"start_time"`
	EndTime   *time.Time `json:"end_time"`
	Note      string     `json:"note"`
}

// Validate checks the fields that need no clock; the bounds against now
// and the accepted window are checked by the handler.
func (in *timeRequestInput) Validate() error {
	var v validate.Fields
	if in.Kind == "" {
		in.Kind = KindEntry
	}
	v.OneOf("kind", in.Kind, KindEntry, KindEdit)
	switch {
	case in.Kind == KindEdit && in.SessionID == nil:
		v.Add("session_id", "is required for an edit", nil)
	case in.Kind == KindEdit:
		v.UUID("session_id", *in.SessionID)
	case in.SessionID != nil:
		v.Add("session_id", "names the session of an edit; an entry becomes a session of its own", nil)
	}
	if in.ProjectID != nil {
		v.UUID("project_id", *in.ProjectID)
	}
	v.Length("note", in.Note, 0, maxNoteLen, false)
	switch {
	case in.StartTime == nil:
		v.Add("start_time", "is required", nil)
	case in.EndTime == nil:
		v.Add("end_time", "is required", nil)
	case !in.EndTime.Truncate(time.Second).After(in.StartTime.Truncate(time.Second)):
		v.Add("end_time", "must be at least a second after start_time", nil)
	case in.EndTime.Sub(*in.StartTime) > maxManualEntry:
		v.Add("end_time", "an entry or an edited session may be 24 hours long at most", nil)
	}
	return v.Err()
}

// within refuses an entry that ends in the future or starts before the
// accepted window: its time would be activity the agent could not post.
func (in *timeRequestInput) within(b timeBounds) error {
	var v validate.Fields
	if in.EndTime.After(b.now) {
		v.Add("end_time", "must not be in the future", nil)
	}
	if b.window > 0 && in.StartTime.Before(b.now.Add(-b.window)) {
		v.Add("start_time", "is older than the accepted window", nil)
	}
	return v.Err()
}

// requestFilter narrows a list of time requests; "" matches every value.
type requestFilter struct {
	status, kind, user string
}

type reviewInput struct {
	Note *string `json:"note"`
}

func (in *reviewInput) Validate() error {
	var v validate.Fields
	if in.Note != nil {
		v.Length("note", *in.Note, 0, maxNoteLen, false)
	}
	return v.Err()
}

// requestTime files the caller's manual entry or session edit, pending
// until reviewed.
func (s *server) requestTime(w http.ResponseWriter, r *http.Request) error {
	in, err := httpx.DecodeBody[timeRequestInput](r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	b, err := s.bounds(r.Context(), p)
	if err != nil {
		return err
	}
	if err := in.within(b); err != nil {
		return err
	}
	tr := TimeRequest{ID: uuid.NewString(), Kind: in.Kind, SessionID: in.SessionID, UserID: p.UserID, ProjectID: in.ProjectID, StartTime: in.StartTime.UTC().Truncate(time.Second),
		EndTime: in.EndTime.UTC().Truncate(time.Second), Note: in.Note, Status: RequestPending}
	if err := s.store.RequestTime(r.Context(), p, &tr); err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, tr)
	return nil
}

// listTimeRequests lists the requests of the members the caller sees,
// newest first, optionally of one status, one kind or one user.
func (s *server) listTimeRequests(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var v validate.Fields
	f := requestFilter{status: q.Get("status"), kind: q.Get("kind"), user: q.Get("user_id")}
	if f.status != "" {
		v.OneOf("status", f.status, RequestPending, RequestApproved, RequestRejected)
	}
	if f.kind != "" {
		v.OneOf("kind", f.kind, KindEntry, KindEdit)
	}
	if f.user != "" {
		v.UUID("user_id", f.user)
	}
	if err := v.Err(); err != nil {
		return err
	}
	list, err := s.store.TimeRequests(r.Context(), authn.MustFromContext(r.Context()), f)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, map[string]any{"requests": list})
	return nil
}

// timeReviewResult is the body of an approval: the request and, approved,
// the session it became or, for an edit, the session as edited.
type timeReviewResult struct {
	Request TimeRequest       `json:"request"`
	Session *tracking.Session `json:"session,omitempty"`
}

func (s *server) approveTime(w http.ResponseWriter, r *http.Request) error {
	return s.reviewTime(w, r, RequestApproved)
}

func (s *server) rejectTime(w http.ResponseWriter, r *http.Request) error {
	return s.reviewTime(w, r, RequestRejected)
}

func (s *server) reviewTime(w http.ResponseWriter, r *http.Request, verdict string) error {
	id := mux.Vars(r)["id"]
	if uuid.Validate(id) != nil {
		return errTimeRequestNotFound
	}
	in, err := httpx.DecodeBody[reviewInput](r)
	if err != nil {
		return err
	}
	res, err := s.store.ReviewTime(r.Context(), authn.MustFromContext(r.Context()), id, verdict, in.Note)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, res)
	return nil
}
