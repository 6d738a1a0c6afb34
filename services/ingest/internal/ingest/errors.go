package ingest

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/tracking"
)

// Domain errors of the ingest service.
var (
	ErrInvalidTimestamp = apierr.New(http.StatusBadRequest, "ACTIVITY_INVALID_TIMESTAMP", "invalid activity timestamp")
	ErrInvalidType      = apierr.New(http.StatusBadRequest, "ACTIVITY_INVALID_TYPE", "activity_type must be active or idle")
	// ErrActivityTooOld refuses a timestamp older than the organization's
	// accepted window, for good: an agent drops the activity instead of
	// retrying it.
	ErrActivityTooOld = apierr.New(http.StatusBadRequest, "ACTIVITY_TOO_OLD", "activity timestamp is older than the accepted window")

	// ErrNothingToDecide refuses an idle decision for a stretch that holds
	// no idle activity without a decision.
	ErrNothingToDecide = apierr.New(http.StatusConflict, "IDLE_NOTHING_TO_DECIDE", "the stretch holds no undecided idle activity of the session")

	// ErrTimeOverlaps refuses a manual entry that overlaps a session of the
	// same member, whose time would then count twice.
	ErrTimeOverlaps = apierr.New(http.StatusConflict, "TIME_OVERLAPS", "the entry overlaps a session of the member")
	// ErrTimeReviewed refuses reviewing a request reviewed before.
	ErrTimeReviewed = apierr.New(http.StatusConflict, "TIME_REQUEST_REVIEWED", "the request was approved or rejected already")
	// ErrEditRunning refuses an edit of a session still running: its end
	// is not known yet, and the agent is still adding to it.
	ErrEditRunning = apierr.New(http.StatusConflict, "TIME_EDIT_SESSION_ACTIVE", "only a stopped session can be edited")
	// ErrEditDecided refuses an edit whose new bounds would drop idle
	// activity an idle decision covers, whose numbers would then no longer
	// be those of the activity they pin.
	ErrEditDecided = apierr.New(http.StatusConflict, "TIME_EDIT_DECIDED", "the new bounds leave out idle time an idle decision covers")
	// ErrSelfReview refuses a manager's review of their own request.
	ErrSelfReview = apierr.New(http.StatusForbidden, "TIME_REQUEST_SELF_REVIEW", "a manager cannot review their own request; an admin can")

	errTimeRequestNotFound = apierr.New(http.StatusNotFound, "TIME_REQUEST_NOT_FOUND", "no such time request")
	errSessionNotFound     = apierr.New(http.StatusNotFound, "SESSION_NOT_FOUND", "no such session")
	errProjectNotFound     = apierr.New(http.StatusNotFound, "PROJECT_NOT_FOUND", "no such project")
	errProjectArchived     = apierr.New(http.StatusConflict, "PROJECT_ARCHIVED", "the project is archived: no time may be assigned to it")
	errSessionStopped      = apierr.New(http.StatusConflict, "ACTIVITY_SESSION_STOPPED", "the session is stopped and takes no more activity")
)

// trackingErrors are the envelope errors of the tracking core's domain
// errors, as the ingest service answers them: the tracking core knows no
// transport, so its errors get their codes here.
var trackingErrors = httpx.ErrorMap{
	{Domain: tracking.ErrSessionNotFound, API: errSessionNotFound},
	{Domain: tracking.ErrSessionStopped, API: errSessionStopped},
	{Domain: tracking.ErrTenantSuspended, API: apierr.ErrTenantSuspended},
	{Domain: tracking.ErrDayLocked, API: apierr.ErrDayLocked, Reason: true},
	{Domain: tracking.ErrProjectNotFound, API: errProjectNotFound},
	{Domain: tracking.ErrProjectArchived, API: errProjectArchived},
}

// apiError is the error a handler's err is answered with.
func apiError(err error) error { return trackingErrors.Map(err) }

// handle serves h, answering its error in the envelope.
func handle(h httpx.Handler) http.Handler { return httpx.Handle(apiError, h) }
