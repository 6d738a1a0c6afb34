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
	user := authn.Require(s.verifier)
	r.Handle("/api/time-requests", user(handle(s.requestTime))).Methods(http.MethodPost)
	r.Handle("/api/time-requests", user(handle(s.listTimeRequests))).Methods(http.MethodGet)
	r.Handle("/api/organization/timesheet-lock", user(handle(s.getTimesheetLock))).Methods(http.MethodGet)
	// Auth asks for ingest's part of a member's export with the caller's
	// token; the front door and the Ingress route nothing to /internal.
	r.Handle("/internal/users/{id}/export", user(handle(s.exportPart))).Methods(http.MethodGet)
	reviewer := authn.Require(s.verifier, authn.RoleManager, authn.RoleAdmin)
	r.Handle("/api/time-requests/{id}/approve", reviewer(handle(s.approveTime))).Methods(http.MethodPost)
	r.Handle("/api/time-requests/{id}/reject", reviewer(handle(s.rejectTime))).Methods(http.MethodPost)
	admin := authn.Require(s.verifier, authn.RoleAdmin)
	r.Handle("/api/organization/redaction-rules", admin(handle(s.getRedactionRules))).Methods(http.MethodGet)
	r.Handle("/api/organization/redaction-rules", admin(handle(s.putRedactionRules))).Methods(http.MethodPut)
	r.Handle("/api/organization/timesheet-lock", admin(handle(s.putTimesheetLock))).Methods(http.MethodPut)
	r.Handle("/api/organization/timesheet-lock", admin(handle(s.deleteTimesheetLock))).Methods(http.MethodDelete)
	return r
}
