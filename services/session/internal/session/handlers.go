package session

import (
	"context"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/page"
	"github.com/workpulse/workpulse/services/platform/validate"
	"github.com/workpulse/workpulse/services/tracking"
)

type projectRequest struct {
	Name        string  `json:"name"`
	Description *string `json:"description"`
}

// Validate trims the name and checks every field.
func (req *projectRequest) Validate() error {
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" {
		return ErrProjectNameRequired
	}
	var v validate.Fields
	v.Length("name", req.Name, 1, 200, true)
	if req.Description != nil {
		v.Length("description", *req.Description, 0, 2000, false)
	}
	// PostgreSQL text cannot hold NUL.
	if strings.ContainsRune(req.Name, 0) {
		v.Add("name", "must not contain NUL characters", nil)
	}
	if req.Description != nil && strings.ContainsRune(*req.Description, 0) {
		v.Add("description", "must not contain NUL characters", nil)
	}
	return v.Err()
}

func (s *server) createProject(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	req, err := httpx.DecodeBody[projectRequest](r)
	if err != nil {
		return err
	}
	proj := Project{ID: uuid.NewString(), OrganizationID: p.OrganizationID, Name: req.Name, Description: req.Description, CreatedBy: p.UserID}
	if err := s.store.CreateProject(r.Context(), &proj); err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, proj)
	return nil
}

// listProjects lists the projects in use, the pickers' list; with
// include_archived=true the archived ones too, for naming past sessions.
func (s *server) listProjects(w http.ResponseWriter, r *http.Request) error {
	withArchived := false
	switch q := r.URL.Query().Get("include_archived"); q {
	case "", "false":
	case "true":
		withArchived = true
	default:
		var v validate.Fields
		v.Add("include_archived", "must be true or false", validate.Echo(q))
		return v.Err()
	}
	return page.Serve(w, r, authn.MustFromContext(r.Context()).OrganizationID,
		func(ctx context.Context, org string, req page.Request) ([]Project, *page.Cursor, error) {
			return s.store.ListProjects(ctx, org, withArchived, req)
		})
}

// setArchived archives the project of the path, or puts it back in use.
func (s *server) setArchived(archived bool) httpx.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		id := mux.Vars(r)["id"]
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			return ErrProjectNotFound
		}
		proj, err := s.store.SetProjectArchived(r.Context(), authn.MustFromContext(r.Context()).OrganizationID, id, archived)
		if err != nil {
			return err
		}
		httpx.JSON(w, http.StatusOK, proj)
		return nil
	}
}

type startRequest struct {
	ProjectID *string    `json:"project_id"`
	StartTime *time.Time `json:"start_time"`
}

// Validate checks the project ID; whether the start time is in the
// future is the handler's to say, as it depends on the clock.
func (req *startRequest) Validate() error {
	if req.ProjectID == nil {
		return nil
	}
	var v validate.Fields
	v.UUID("project_id", *req.ProjectID)
	return v.Err()
}

func (s *server) startSession(w http.ResponseWriter, r *http.Request) error {
	req, err := httpx.DecodeBody[startRequest](r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	now := s.clock.Now()
	start := now
	if req.StartTime != nil {
		if req.StartTime.After(now) {
			return tracking.InvalidTimestamp("start_time may not be in the future")
		}
		// The same lower bound as the session's activity: its month has
		// storage, and no activity of it could be refused as too old.
		window, err := s.windows.Of(r.Context(), p.OrganizationID)
		if err != nil {
			return err
		}
		if req.StartTime.Before(now.Add(-window)) {
			return tracking.InvalidTimestamp("start_time is too old: the organization accepts times of the last " + tracking.WindowDays(window) + " only")
		}
		start = *req.StartTime
	}
	sess, err := s.store.StartSession(r.Context(), p, req.ProjectID, start)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusCreated, sess)
	return nil
}

type stopRequest struct {
	EndTime *time.Time `json:"end_time"`
}

func (s *server) stopSession(w http.ResponseWriter, r *http.Request) error {
	id, err := tracking.ParseSessionID(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	req, err := httpx.DecodeBody[stopRequest](r)
	if err != nil {
		return err
	}
	if req.EndTime != nil && req.EndTime.After(s.clock.Now()) {
		return tracking.InvalidTimestamp("end_time may not be in the future")
	}
	sess, err := s.store.StopSession(r.Context(), authn.MustFromContext(r.Context()), id, req.EndTime)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, sess)
	return nil
}

func (s *server) activeSession(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.store.ActiveSession(r.Context(), authn.MustFromContext(r.Context()))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, sess)
	return nil
}

func (s *server) getSession(w http.ResponseWriter, r *http.Request) error {
	id, err := tracking.ParseSessionID(mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	sess, err := s.store.GetSession(r.Context(), authn.MustFromContext(r.Context()), id)
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, sess)
	return nil
}

// sessionPage is the body of GET /api/sessions.
type sessionPage struct {
	Sessions   []tracking.Session `json:"sessions"`
	NextCursor *string            `json:"next_cursor"`
}

const (
	defaultPageSize = 50
	maxPageSize     = 200
)

func (s *server) listSessions(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	qs := r.URL.Query()
	q := sessionQuery{UserID: p.UserID, Limit: defaultPageSize}
	var v validate.Fields
	if u := qs.Get("user_id"); u != "" && u != p.UserID {
		v.UUID("user_id", u)
		if !p.Sees(u) {
			return apierr.ErrForbidden.WithMessage("only an admin, or a manager of the user's team, may list another user's sessions")
		}
		q.UserID = u
	}
	q.From = parseBound(&v, "from", qs.Get("from"), false)
	q.To = parseBound(&v, "to", qs.Get("to"), true)
	if l := qs.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > maxPageSize {
			v.Add("limit", "must be an integer from 1 to "+strconv.Itoa(maxPageSize), l)
		} else {
			q.Limit = n
		}
	}
	if c := qs.Get("cursor"); c != "" {
		cur, err := decodeCursor(c)
		if err != nil {
			v.Add("cursor", "is not a cursor this API returned", validate.Echo(c))
		}
		q.After = cur
	}
	if err := v.Err(); err != nil {
		return err
	}
	list, next, err := s.store.ListSessions(r.Context(), p.OrganizationID, q)
	if err != nil {
		return err
	}
	page := sessionPage{Sessions: list}
	if next != nil {
		c := next.encode()
		page.NextCursor = &c
	}
	httpx.JSON(w, http.StatusOK, page)
	return nil
}

// listTodaysSessions lists today's and the running sessions the caller may
// see, a page at a time, as the board loads them.
func (s *server) listTodaysSessions(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	return page.Serve(w, r, p.OrganizationID, func(ctx context.Context, _ string, req page.Request) ([]tracking.Session, *page.Cursor, error) {
		return s.store.ListTodaysSessions(ctx, p, req)
	})
}

// parseBound reads an RFC 3339 time or a YYYY-MM-DD date (UTC); a date as
// the upper bound includes that whole day.
func parseBound(v *validate.Fields, field, s string, upper bool) *time.Time {
	if s == "" {
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return &t
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		v.Add(field, "must be an RFC 3339 time or a YYYY-MM-DD date", validate.Echo(s))
		return nil
	}
	if upper {
		d = d.AddDate(0, 0, 1)
	}
	return &d
}

// cursor is the position after the last session of a page.
type cursor struct {
	StartTime time.Time
	ID        string
}

func (c cursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(c.StartTime.UTC().Format(time.RFC3339Nano) + "|" + c.ID))
}

func decodeCursor(s string) (*cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	ts, id, ok := strings.Cut(string(raw), "|")
	if !ok {
		return nil, apierr.ErrValidation
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return nil, err
	}
	if _, err := uuid.Parse(id); err != nil {
		return nil, err
	}
	return &cursor{StartTime: t, ID: id}, nil
}
