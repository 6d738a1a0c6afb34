package auth

import (
	"net/http"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Domain errors of the auth service.
var (
	ErrInvalidCredentials = apierr.New(http.StatusUnauthorized, "AUTH_INVALID_CREDENTIALS", "invalid email or password")
	ErrUserExists         = apierr.New(http.StatusConflict, "AUTH_USER_EXISTS", "a user with this email already exists")
	ErrOrganizationNeeded = apierr.New(http.StatusBadRequest, "AUTH_ORGANIZATION_REQUIRED", "this email belongs to several organizations; send organization_id")
	ErrInvitationInvalid  = apierr.New(http.StatusBadRequest, "AUTH_INVITATION_INVALID", "the invitation is unknown, used, expired or for another email")
	ErrTooManyAttempts    = apierr.New(http.StatusTooManyRequests, "AUTH_TOO_MANY_ATTEMPTS", "too many failed login attempts; retry later")
	ErrAccountDisabled    = apierr.ErrAccountDisabled

	ErrRefreshInvalid = apierr.ErrInvalidToken.WithMessage("the refresh token is unknown, expired or revoked; sign in again")
	ErrRefreshReused  = apierr.New(http.StatusUnauthorized, "AUTH_REFRESH_TOKEN_REUSED", "this refresh token was already used; its session is revoked, sign in again")
	ErrUserNotFound   = apierr.ErrUserNotFound
	ErrLastAdmin      = apierr.New(http.StatusConflict, "USER_LAST_ADMIN", "an organization keeps at least one active admin")
	// A device of another member is not found either, unless the caller
	// is an admin.
	ErrDeviceNotFound = apierr.New(http.StatusNotFound, "DEVICE_NOT_FOUND", "no such device")

	ErrTeamNotFound       = apierr.New(http.StatusNotFound, "TEAM_NOT_FOUND", "no such team")
	ErrTeamNameTaken      = apierr.New(http.StatusConflict, "TEAM_NAME_TAKEN", "the organization already has a team of this name")
	ErrTeamMemberNotFound = apierr.New(http.StatusNotFound, "TEAM_MEMBER_NOT_FOUND", "this user is not a member of the team")
	ErrTeamManagerRole    = apierr.New(http.StatusConflict, "TEAM_MANAGER_ROLE_REQUIRED", "only a user whose role is manager or admin manages a team")

	ErrOrganizationManaged = apierr.New(http.StatusConflict, "ORGANIZATION_MANAGED", "this organization is managed by a WorkPulseTenant; change its settings in the WorkPulseTenant")

	// The operator may take over an existing organization only with an
	// adoption token its admin issued.
	ErrAdoptionTokenRequired = apierr.New(http.StatusForbidden, "ADOPTION_TOKEN_REQUIRED", "this organization exists and is not managed by this WorkPulseTenant; an admin of the organization must issue an adoption token")
	ErrAdoptionTokenInvalid  = apierr.New(http.StatusForbidden, "ADOPTION_TOKEN_INVALID", "the adoption token is unknown, used, expired or for another organization")

	ErrResetTokenInvalid = apierr.New(http.StatusBadRequest, "AUTH_RESET_TOKEN_INVALID", "the password reset link is unknown, used or expired; ask for a new one")
	ErrMailUnavailable   = apierr.New(http.StatusServiceUnavailable, "AUTH_MAIL_UNAVAILABLE", "this installation sends no mail; ask an admin to reset your password")

	// Single sign-on.
	ErrRegistrationDisabled = apierr.New(http.StatusForbidden, "AUTH_REGISTRATION_DISABLED", "this installation does not let new organizations register; ask an admin for an invitation")
	ErrSSORequired          = apierr.New(http.StatusForbidden, "AUTH_SSO_REQUIRED", "this organization signs in through its identity provider only; use single sign-on")
	ErrSSOInvitation        = ErrSSORequired.WithMessage("this organization signs in through its identity provider only; accept the invitation by signing in with single sign-on as the invited email")
	ErrSSONotConfigured     = apierr.New(http.StatusNotFound, "SSO_NOT_CONFIGURED", "no single sign-on is set up for this organization or email domain")
	ErrSSODomainTaken       = apierr.New(http.StatusConflict, "SSO_DOMAIN_TAKEN", "one of these email domains already signs in to another organization")
	ErrSSOStateInvalid      = apierr.New(http.StatusBadRequest, "SSO_STATE_INVALID", "the sign-in is unknown, expired, already used or was started in another browser; start again")
	ErrSSOLoginFailed       = apierr.New(http.StatusUnauthorized, "SSO_LOGIN_FAILED", "the identity provider did not confirm the sign-in; start again")
	ErrSSOEmailUnverified   = apierr.New(http.StatusForbidden, "SSO_EMAIL_UNVERIFIED", "the identity provider has not verified this email address")
	ErrSSODomainNotAllowed  = apierr.New(http.StatusForbidden, "SSO_DOMAIN_NOT_ALLOWED", "this email domain does not sign in to this organization")
	ErrSSOUnavailable       = apierr.New(http.StatusServiceUnavailable, "SSO_UNAVAILABLE", "this installation has no PUBLIC_URL for the identity provider to send browsers back to; ask its operator to set it")

	// A service holding part of a member's export did not answer it.
	ErrExportUnavailable = apierr.New(http.StatusServiceUnavailable, "EXPORT_UNAVAILABLE", "a service holding part of the export is unavailable; retry later")

	errTenantNotFound = apierr.New(http.StatusNotFound, "TENANT_NOT_FOUND", "no such organization")
)
