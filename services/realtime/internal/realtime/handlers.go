package realtime

import (
	"bufio"
	"net"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/gorilla/websocket"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// hijacker lets gorilla/websocket take over a connection through the
// middleware's response wrappers, which expose Hijack only via Unwrap.
type hijacker struct{ http.ResponseWriter }

func (h hijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(h.ResponseWriter).Hijack()
}

// serveWS authenticates and then upgrades: a refused caller gets an HTTP
// error in the envelope, never a WebSocket.
func (s *Server) serveWS(w http.ResponseWriter, r *http.Request) error {
	if !s.originAllowed(r) {
		return ErrOriginNotAllowed
	}
	p, err := s.verifier.Verify(r.Context(), tokenOf(r))
	if err != nil {
		return err
	}
	if !websocket.IsWebSocketUpgrade(r) {
		w.Header().Set("Upgrade", "websocket")
		return ErrUpgradeRequired
	}
	conn, err := s.upgrader.Upgrade(hijacker{w}, r, nil)
	if err != nil {
		return nil // the upgrader has answered
	}
	s.attach(conn, p)
	return nil
}

// tokenOf finds the access token: the Authorization header, the
// "bearer, <token>" subprotocol pair browsers use, or the token query
// parameter.
func tokenOf(r *http.Request) string {
	if t := authn.BearerToken(r); t != "" {
		return t
	}
	if ps := websocket.Subprotocols(r); len(ps) >= 2 && strings.EqualFold(ps[0], "bearer") {
		return ps[1]
	}
	return r.URL.Query().Get("token")
}

// originAllowed lets non-browser clients (no Origin), same-origin pages
// and the configured origins in: a page of any other site must not ride
// on a user's token.
func (s *Server) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, a := range s.cfg.AllowedOrigins {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	return false
}

// listPresence serves GET /api/presence: the organization's online users
// for an admin, those of the teams they manage and themself for a
// manager, the caller alone (if online) for an employee.
func (s *Server) listPresence(w http.ResponseWriter, r *http.Request) error {
	p := authn.MustFromContext(r.Context())
	only := p.UserID
	if oversees(p) {
		only = ""
	}
	users, err := s.presence.Online(r.Context(), p.OrganizationID, only)
	if err != nil {
		s.log.ErrorContext(r.Context(), "presence unavailable", "err", err)
		return apierr.ErrUnavailable
	}
	users = slices.DeleteFunc(users, func(u OnlineUser) bool { return !p.Sees(u.UserID) })
	sort.Slice(users, func(i, j int) bool {
		if users[i].Name != users[j].Name {
			return users[i].Name < users[j].Name
		}
		return users[i].UserID < users[j].UserID
	})
	httpx.JSON(w, http.StatusOK, users)
	return nil
}
