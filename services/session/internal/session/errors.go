package session

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Domain errors of the session service; those ingest shares are in tracking.
var (
	ErrSessionAlreadyActive = apierr.New(http.StatusConflict, "SESSION_ALREADY_ACTIVE", "you already have an active session; stop it first")
	ErrProjectNotFound      = apierr.New(http.StatusNotFound, "PROJECT_NOT_FOUND", "no such project")
	ErrProjectNameRequired  = apierr.New(http.StatusBadRequest, "PROJECT_NAME_REQUIRED", "a project needs a name")
	ErrProjectNameTaken     = apierr.New(http.StatusConflict, "PROJECT_NAME_TAKEN", "the organization already has a project with this name")
)
