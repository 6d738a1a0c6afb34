package ingest

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Domain errors of the ingest service; those session shares are in tracking.
var (
	ErrInvalidTimestamp = apierr.New(http.StatusBadRequest, "ACTIVITY_INVALID_TIMESTAMP", "invalid activity timestamp")
	ErrInvalidType      = apierr.New(http.StatusBadRequest, "ACTIVITY_INVALID_TYPE", "activity_type must be active or idle")
)
