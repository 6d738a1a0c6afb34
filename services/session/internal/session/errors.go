package session

import (
	"errors"
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/tracking"
)

// Domain errors of the session service.
var (
	ErrSessionAlreadyActive = apierr.New(http.StatusConflict, "SESSION_ALREADY_ACTIVE", "you already have an active session; stop it first")
	ErrProjectNotFound      = apierr.New(http.StatusNotFound, "PROJECT_NOT_FOUND", "no such project")
	ErrProjectNameRequired  = apierr.New(http.StatusBadRequest, "PROJECT_NAME_REQUIRED", "a project needs a name")
	ErrProjectNameTaken     = apierr.New(http.StatusConflict, "PROJECT_NAME_TAKEN", "the organization already has a project with this name")
	ErrProjectLimitReached  = apierr.New(http.StatusConflict, "PROJECT_LIMIT_REACHED", "the organization has as many projects as it may have")
	ErrProjectArchived      = apierr.New(http.StatusConflict, "PROJECT_ARCHIVED", "the project is archived: no new session may start on it")

	errSessionNotFound         = apierr.New(http.StatusNotFound, "SESSION_NOT_FOUND", "no such session")
	errSessionAlreadyStopped   = apierr.New(http.StatusConflict, "SESSION_ALREADY_STOPPED", "the session is already stopped")
	errSessionInvalidTimestamp = apierr.New(http.StatusBadRequest, "SESSION_INVALID_TIMESTAMP", "invalid session timestamp")
)

// trackingErrors are the envelope errors of the tracking core's domain
// errors, as the session service answers them: the tracking core knows no
// transport, so its errors get their codes here.
var trackingErrors = httpx.ErrorMap{
	{Domain: tracking.ErrSessionNotFound, API: errSessionNotFound},
	{Domain: tracking.ErrSessionAlreadyStopped, API: errSessionAlreadyStopped},
	{Domain: tracking.ErrTenantSuspended, API: apierr.ErrTenantSuspended},
	{Domain: tracking.ErrDayLocked, API: apierr.ErrDayLocked, Reason: true},
}

// apiError is the error a handler's err is answered with; a timestamp the
// tracking core refused says why.
func apiError(err error) error {
	var ts *tracking.TimestampError
	if errors.As(err, &ts) {
		return errSessionInvalidTimestamp.WithMessage(ts.Reason)
	}
	return trackingErrors.Map(err)
}

// handle serves h, answering its error in the envelope.
func handle(h httpx.Handler) http.Handler { return httpx.Handle(apiError, h) }
