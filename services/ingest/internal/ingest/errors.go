package ingest

import (
	"errors"
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

	errSessionNotFound = apierr.New(http.StatusNotFound, "SESSION_NOT_FOUND", "no such session")
	errSessionStopped  = apierr.New(http.StatusConflict, "ACTIVITY_SESSION_STOPPED", "the session is stopped and takes no more activity")
)

// trackingErrors are the envelope errors of the tracking core's domain
// errors, as the ingest service answers them.
var trackingErrors = []struct {
	domain error
	api    *apierr.Error
}{
	{tracking.ErrSessionNotFound, errSessionNotFound},
	{tracking.ErrSessionStopped, errSessionStopped},
	{tracking.ErrTenantSuspended, apierr.ErrTenantSuspended},
}

// apiError is the error a handler's err is answered with: the tracking
// core knows no transport, so its errors get their codes here; every
// other error goes to httpx as it is.
func apiError(err error) error {
	for _, e := range trackingErrors {
		if errors.Is(err, e.domain) {
			return e.api
		}
	}
	return err
}

// handle serves h, answering its error in the envelope.
func handle(h httpx.Handler) http.Handler {
	return httpx.Handler(func(w http.ResponseWriter, r *http.Request) error { return apiError(h(w, r)) })
}
