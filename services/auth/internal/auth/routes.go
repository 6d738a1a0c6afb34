package auth

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/httpx"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// routes lists every route of the auth service.
func (s *server) routes(m *metrics.HTTP) http.Handler {
	r := httpx.NewRouter(m.Middleware)
	r.Handle("/api/auth/register", httpx.Handler(s.register)).Methods(http.MethodPost)
	r.Handle("/api/auth/login", httpx.Handler(s.login)).Methods(http.MethodPost)
	r.Handle("/api/auth/refresh", httpx.Handler(s.refresh)).Methods(http.MethodPost)
	r.Handle("/api/auth/password-reset", httpx.Handler(s.requestPasswordReset)).Methods(http.MethodPost)
	r.Handle("/api/auth/password-reset/confirm", httpx.Handler(s.confirmPasswordReset)).Methods(http.MethodPost)
	r.Handle("/api/auth/.well-known/jwks.json", httpx.Handler(s.jwks)).Methods(http.MethodGet)
	r.Handle("/api/auth/sso/start", httpx.Handler(s.ssoStart)).Methods(http.MethodPost)
	r.Handle("/api/auth/sso/callback", httpx.Handler(s.ssoCallback)).Methods(http.MethodPost)

	member := authn.Require(s.verifier)
	r.Handle("/api/organization", member(httpx.Handler(s.getOrganization))).Methods(http.MethodGet)
	r.Handle("/api/auth/logout", member(httpx.Handler(s.logout))).Methods(http.MethodPost)
	r.Handle("/api/auth/logout-all", member(httpx.Handler(s.logoutEverywhere))).Methods(http.MethodPost)
	// The caller's own routes come before /api/users/{id}, which "me"
	// would otherwise match.
	r.Handle("/api/users/me", member(httpx.Handler(s.getMe))).Methods(http.MethodGet)
	r.Handle("/api/users/me", member(httpx.Handler(s.updateMe))).Methods(http.MethodPatch)
	r.Handle("/api/users/me/password", member(httpx.Handler(s.changePassword))).Methods(http.MethodPost)
	// A member exports their own data ("me" or their id), an admin any
	// member's (export.Subject).
	r.Handle("/api/users/{id}/export", member(httpx.Handler(s.exportUser))).Methods(http.MethodGet)
	r.Handle("/api/devices", member(httpx.Handler(s.createDevice))).Methods(http.MethodPost)
	r.Handle("/api/devices", member(httpx.Handler(s.listDevices))).Methods(http.MethodGet)
	r.Handle("/api/devices/{id}", member(httpx.Handler(s.revokeDevice))).Methods(http.MethodDelete)
	// The agent renews with its device token, even shortly expired.
	r.Handle("/api/devices/{id}/renew", authn.RequireRenewal(s.verifier, DeviceRenewGrace)(httpx.Handler(s.renewDevice))).Methods(http.MethodPost)

	admin := authn.Require(s.verifier, authn.RoleAdmin)
	r.Handle("/api/organization", admin(httpx.Handler(s.patchOrganization))).Methods(http.MethodPatch)
	r.Handle("/api/users", admin(httpx.Handler(s.listUsers))).Methods(http.MethodGet)
	r.Handle("/api/users/{id}", admin(httpx.Handler(s.updateUser))).Methods(http.MethodPatch)
	r.Handle("/api/users/{id}", admin(httpx.Handler(s.removeUser))).Methods(http.MethodDelete)
	r.Handle("/api/users/invitations", admin(httpx.Handler(s.createInvitation))).Methods(http.MethodPost)
	r.Handle("/api/organization/adoption-tokens", admin(httpx.Handler(s.createAdoptionToken))).Methods(http.MethodPost)
	r.Handle("/api/organization/sso", admin(httpx.Handler(s.getSSO))).Methods(http.MethodGet)
	r.Handle("/api/organization/sso", admin(httpx.Handler(s.putSSO))).Methods(http.MethodPut)
	r.Handle("/api/organization/sso", admin(httpx.Handler(s.deleteSSO))).Methods(http.MethodDelete)
	r.Handle("/api/audit", admin(httpx.Handler(s.listAudit))).Methods(http.MethodGet)

	r.Handle("/api/teams", admin(httpx.Handler(s.createTeam))).Methods(http.MethodPost)
	r.Handle("/api/teams/{id}", admin(httpx.Handler(s.renameTeam))).Methods(http.MethodPatch)
	r.Handle("/api/teams/{id}", admin(httpx.Handler(s.deleteTeam))).Methods(http.MethodDelete)
	r.Handle("/api/teams/{id}/members/{userId}", admin(httpx.Handler(s.putTeamMember))).Methods(http.MethodPut)
	r.Handle("/api/teams/{id}/members/{userId}", admin(httpx.Handler(s.removeTeamMember))).Methods(http.MethodDelete)
	// A manager reads the teams they manage and their people; an admin all.
	lead := authn.Require(s.verifier, authn.RoleAdmin, authn.RoleManager)
	r.Handle("/api/users/employees", lead(httpx.Handler(s.listEmployees))).Methods(http.MethodGet)
	r.Handle("/api/teams", lead(httpx.Handler(s.listTeams))).Methods(http.MethodGet)
	r.Handle("/api/teams/{id}", lead(httpx.Handler(s.getTeam))).Methods(http.MethodGet)
	r.Handle("/api/teams/{id}/members", lead(httpx.Handler(s.listTeamMembers))).Methods(http.MethodGet)

	r.Handle("/internal/tenants/{id}", s.requireOperator(httpx.Handler(s.getTenant))).Methods(http.MethodGet)
	r.Handle("/internal/tenants/{id}", s.requireOperator(httpx.Handler(s.putTenant))).Methods(http.MethodPut)
	return r
}
