package export

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/config"
	"github.com/workpulse/workpulse/services/platform/pg"
)

// Subject is the member whose export the caller asks for, the {id} of the
// route ("me": the caller). A member exports their own data, an admin any
// member's of their organization; managers and employees no one else's:
// the export holds sign-ins, devices, every visited URL and the audit
// trail about a person, beyond what a manager's reports show.
func Subject(r *http.Request) (string, error) {
	p := authn.MustFromContext(r.Context())
	id := mux.Vars(r)["id"]
	if id == "me" {
		return p.UserID, nil
	}
	if _, err := uuid.Parse(id); err != nil {
		return "", apierr.ErrUserNotFound
	}
	if id != p.UserID && !p.IsAdmin() {
		return "", apierr.ErrForbidden
	}
	return id, nil
}

// Limits bound one export request.
type Limits struct {
	// MaxRows is the most records of one section (config.Common).
	MaxRows int
	// Timeout is how long the response may take to write, beyond the
	// server's write timeout for other responses.
	Timeout time.Duration
}

// Extend lets the response to r take limits.Timeout: a whole history
// outlasts the write timeout meant for ordinary answers. The deadline
// is the socket's, so it is wall time.
func Extend(w http.ResponseWriter, l Limits) {
	// Not every writer in a test's stack supports deadlines; those have
	// no write timeout to outlast either.
	_ = http.NewResponseController(w).SetWriteDeadline(clock.Real.Now().Add(l.Timeout))
}

// ServePart answers a service's part of the export of the route's member
// ({id}) from the sections of its own schema, in the caller's
// organization: auth asks for it with the caller's token. An error once
// the part has started aborts the response, so that auth sees a broken
// part instead of a short one that parses.
func ServePart(w http.ResponseWriter, r *http.Request, db pg.Beginner, l Limits, sections []Section) error {
	id, err := Subject(r)
	if err != nil {
		return err
	}
	asCSV, err := WantsCSV(r)
	if err != nil {
		return err
	}
	Extend(w, l)
	p := authn.MustFromContext(r.Context())
	cw := &countingWriter{w: w}
	err = pg.InOrg(r.Context(), db, p.OrganizationID, func(tx pgx.Tx) error {
		if asCSV {
			w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		return Part(r.Context(), tx, cw, asCSV, l.MaxRows, id, sections)
	})
	if err != nil && cw.n > 0 {
		panic(http.ErrAbortHandler)
	}
	return err
}

type countingWriter struct {
	w http.ResponseWriter
	n int
}

func (c *countingWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += n
	return n, err
}

// LimitsOf are the limits the platform's settings set.
func LimitsOf(c config.Common) Limits {
	return Limits{MaxRows: c.ExportMaxRows, Timeout: c.ExportTimeout}
}
