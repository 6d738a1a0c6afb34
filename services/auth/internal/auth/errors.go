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
	ErrUserNotFound   = apierr.New(http.StatusNotFound, "USER_NOT_FOUND", "no such user")
	ErrLastAdmin      = apierr.New(http.StatusConflict, "USER_LAST_ADMIN", "an organization keeps at least one active admin")

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

	errTenantNotFound = apierr.New(http.StatusNotFound, "TENANT_NOT_FOUND", "no such organization")
)
