package realtime

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// Errors of the WebSocket and Engine.IO handshakes and requests.
var (
	ErrSIOBadRequest     = apierr.New(http.StatusBadRequest, "SIO_BAD_REQUEST", "malformed Engine.IO request")
	ErrSIOSessionUnknown = apierr.New(http.StatusBadRequest, "SIO_SESSION_UNKNOWN", "unknown or ended Engine.IO session; open a new one")

	ErrOriginNotAllowed = apierr.New(http.StatusForbidden, "WS_ORIGIN_NOT_ALLOWED", "this origin may not open a WebSocket")
	ErrUpgradeRequired  = apierr.New(http.StatusUpgradeRequired, "WS_UPGRADE_REQUIRED", "this endpoint speaks WebSocket only")
	errHandshake        = apierr.New(http.StatusBadRequest, "WS_HANDSHAKE_FAILED", "WebSocket handshake failed")
)

func handshakeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	e := errHandshake.WithMessage(reason.Error())
	e.Status = status
	httpx.Error(w, r, e)
}
