package ingest

import (
	"net/http"
	"time"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/validate"
)

// Timesheet locks (see tracking.TimesheetLock): an admin locks the
// organization's days up to and including a date once their payroll is
// done, and may move the lock back or remove it. The lock is the
// organization's, not a team's: payroll is run for the whole organization,
// and one date keeps the activity hot path one comparison. Ingest owns the
// lock because it owns the time it refuses to change.

type timesheetLockInput struct {
	LockedThrough string `json:"locked_through"`
	// through is LockedThrough parsed.
	through time.Time
}

func (in *timesheetLockInput) Validate() error {
	var v validate.Fields
	t, err := time.Parse(time.DateOnly, in.LockedThrough)
	if err != nil {
		v.Add("locked_through", "must be a date (YYYY-MM-DD)", validate.Echo(in.LockedThrough))
	}
	in.through = t
	return v.Err()
}

// getTimesheetLock shows the lock to every member: it tells them which
// days they can no longer correct.
func (s *server) getTimesheetLock(w http.ResponseWriter, r *http.Request) error {
	l, err := s.store.TimesheetLock(r.Context(), authn.MustFromContext(r.Context()))
	if err != nil {
		return err
	}
	httpx.JSON(w, http.StatusOK, l)
	return nil
}

// putTimesheetLock locks the days up to and including locked_through; a
// date before the current lock's unlocks the days between. This replica
// applies it before answering; the others within a minute (tracking.Locks).
func (s *server) putTimesheetLock(w http.ResponseWriter, r *http.Request) error {
	in, err := httpx.DecodeBody[timesheetLockInput](r)
	if err != nil {
		return err
	}
	p := authn.MustFromContext(r.Context())
	l, err := s.store.SetTimesheetLock(r.Context(), p, &in.through)
	if err != nil {
		return err
	}
	s.locks.Forget(p.OrganizationID)
	httpx.JSON(w, http.StatusOK, l)
	return nil
}

// deleteTimesheetLock unlocks every day.
func (s *server) deleteTimesheetLock(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	l, err := s.store.SetTimesheetLock(r.Context(), p, nil)
	if err != nil {
		return err
	}
	s.locks.Forget(p.OrganizationID)
	httpx.JSON(w, http.StatusOK, l)
	return nil
}
