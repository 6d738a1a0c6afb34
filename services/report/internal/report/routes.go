package report

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// routes lists every route of the report service.
func (s *server) routes(m *metrics.HTTP) http.Handler {
	r := httpx.NewRouter(m.Middleware)
	member := authn.Require(s.verifier)
	admin := authn.Require(s.verifier, authn.RoleAdmin)

	r.Handle("/api/reports/daily", member(httpx.Handler(s.dailyReport))).Methods(http.MethodGet)
	r.Handle("/api/reports/user/{id}", member(httpx.Handler(s.userReport))).Methods(http.MethodGet)
	// A manager's organization report holds the members of their teams.
	lead := authn.Require(s.verifier, authn.RoleAdmin, authn.RoleManager)
	r.Handle("/api/reports/organization", lead(httpx.Handler(s.organizationReport))).Methods(http.MethodGet)
	r.Handle("/api/reports/payroll", member(httpx.Handler(s.payrollReport))).Methods(http.MethodGet)

	// Auth asks for report's part of a member's export with the caller's
	// token; the front door and the Ingress route nothing to /internal.
	r.Handle("/internal/users/{id}/export", member(httpx.Handler(s.exportPart))).Methods(http.MethodGet)

	r.Handle("/api/alerts", member(httpx.Handler(s.listAlerts))).Methods(http.MethodGet)
	r.Handle("/api/alerts/{id}/resolve", member(httpx.Handler(s.resolveAlert))).Methods(http.MethodPost)

	r.Handle("/api/jobs/trigger/daily-summary", admin(httpx.Handler(s.triggerDailySummary))).Methods(http.MethodPost)
	r.Handle("/api/jobs/trigger/idle-detection", admin(httpx.Handler(s.triggerIdleDetection))).Methods(http.MethodPost)
	r.Handle("/api/jobs/{id}", admin(httpx.Handler(s.getJob))).Methods(http.MethodGet)

	r.Handle("/api/categories/rules", admin(httpx.Handler(s.getCategoryRules))).Methods(http.MethodGet)
	r.Handle("/api/categories/rules", admin(httpx.Handler(s.putCategoryRules))).Methods(http.MethodPut)

	r.Handle("/api/webhooks", admin(httpx.Handler(s.createWebhook))).Methods(http.MethodPost)
	r.Handle("/api/webhooks", admin(httpx.Handler(s.listWebhooks))).Methods(http.MethodGet)
	r.Handle("/api/webhooks/{id}", admin(httpx.Handler(s.updateWebhook))).Methods(http.MethodPatch)
	r.Handle("/api/webhooks/{id}", admin(httpx.Handler(s.deleteWebhook))).Methods(http.MethodDelete)
	r.Handle("/api/webhooks/{id}/deliveries", admin(httpx.Handler(s.listWebhookDeliveries))).Methods(http.MethodGet)
	r.Handle("/api/webhooks/{id}/test", admin(httpx.Handler(s.testWebhook))).Methods(http.MethodPost)
	return r
}
