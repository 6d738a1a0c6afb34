package ingest

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// routes lists every route of the ingest service.
func (s *server) routes(m *metrics.HTTP) http.Handler {
	r := httpx.NewRouter(m.Middleware)
	member := s.tokens.require
	r.Handle("/api/sessions/{id}/activity", member(handle(s.recordActivity))).Methods(http.MethodPost)
	r.Handle("/api/sessions/{id}/activity/bulk", member(handle(s.recordBulk))).Methods(http.MethodPost)
	r.Handle("/api/sessions/{id}/idle-decisions", member(handle(s.decideIdle))).Methods(http.MethodPost)
	r.Handle("/api/sessions/{id}/idle-decisions", member(handle(s.listIdleDecisions))).Methods(http.MethodGet)
	admin := authn.Require(s.verifier, authn.RoleAdmin)
	r.Handle("/api/organization/redaction-rules", admin(handle(s.getRedactionRules))).Methods(http.MethodGet)
	r.Handle("/api/organization/redaction-rules", admin(handle(s.putRedactionRules))).Methods(http.MethodPut)
	return r
}
