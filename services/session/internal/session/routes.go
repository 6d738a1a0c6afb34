package session

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// routes lists every route of the session service.
func (s *server) routes(m *metrics.HTTP) http.Handler {
	r := httpx.NewRouter(m.Middleware)
	member := authn.Require(s.verifier)
	r.Handle("/api/projects", member(handle(s.createProject))).Methods(http.MethodPost)
	r.Handle("/api/projects", member(handle(s.listProjects))).Methods(http.MethodGet)
	admin := authn.Require(s.verifier, authn.RoleAdmin)
	r.Handle("/api/projects/{id}/archive", admin(handle(s.setArchived(true)))).Methods(http.MethodPost)
	r.Handle("/api/projects/{id}/unarchive", admin(handle(s.setArchived(false)))).Methods(http.MethodPost)
	r.Handle("/api/sessions", member(handle(s.listSessions))).Methods(http.MethodGet)
	r.Handle("/api/sessions/start", member(handle(s.startSession))).Methods(http.MethodPost)
	r.Handle("/api/sessions/active", member(handle(s.activeSession))).Methods(http.MethodGet)
	r.Handle("/api/sessions/today", member(handle(s.listTodaysSessions))).Methods(http.MethodGet)
	r.Handle("/api/sessions/{id}", member(handle(s.getSession))).Methods(http.MethodGet)
	r.Handle("/api/sessions/{id}/stop", member(handle(s.stopSession))).Methods(http.MethodPost)
	return r
}
