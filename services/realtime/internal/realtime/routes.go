package realtime

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// routes lists every route of the realtime service.
func (s *Server) routes(m *metrics.HTTP) http.Handler {
	r := httpx.NewRouter(m.Middleware)
	// /api/ws authenticates itself: browsers cannot set headers on a
	// WebSocket, so the token may also come in the query or subprotocol.
	r.Handle("/api/ws", httpx.Handler(s.serveWS)).Methods(http.MethodGet)
	// Socket.IO authenticates at its CONNECT packet, inside the session.
	r.Handle("/socket.io/", httpx.Handler(s.serveSocketIO)).Methods(http.MethodGet, http.MethodPost)
	r.Handle("/api/presence", authn.Require(s.verifier)(httpx.Handler(s.listPresence))).Methods(http.MethodGet)
	return r
}
