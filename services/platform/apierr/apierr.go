// Package apierr defines the domain errors of the contract: each has an
// HTTP status and a stable code, and is rendered in the error envelope in
// one place (httpx.WriteError).
package apierr

import "net/http"

// Error is a client-facing error.
type Error struct {
	Status  int
	Code    string
	Message string
	Details any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Is makes errors.Is match by code, so that sentinels with a custom
// message or details still match their sentinel.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// New defines a sentinel error.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// WithMessage returns a copy of e with a more specific message.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// WithDetails returns a copy of e carrying details.
func (e *Error) WithDetails(d any) *Error {
	c := *e
	c.Details = d
	return &c
}

// FieldError is one entry of VALIDATION_FAILED's details.
type FieldError struct {
	Field       string   `json:"field"`
	Constraints []string `json:"constraints"`
	Value       any      `json:"value,omitempty"`
}

// Errors shared by every service.
var (
	ErrValidation       = New(http.StatusBadRequest, "VALIDATION_FAILED", "request validation failed")
	ErrBodyTooLarge     = New(http.StatusRequestEntityTooLarge, "REQUEST_TOO_LARGE", "request body is too large")
	ErrUnsupportedMedia = New(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "request body must be application/json")
	ErrNotFound         = New(http.StatusNotFound, "NOT_FOUND", "no such resource")
	ErrMethodNotAllowed = New(http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", "method not allowed")
	ErrInvalidToken     = New(http.StatusUnauthorized, "AUTH_INVALID_TOKEN", "missing or invalid access token")
	ErrTokenExpired     = New(http.StatusUnauthorized, "AUTH_TOKEN_EXPIRED", "access token has expired")
	ErrForbidden        = New(http.StatusForbidden, "AUTH_INSUFFICIENT_PERMISSIONS", "insufficient permissions")
	ErrInternal         = New(http.StatusInternalServerError, "SYSTEM_INTERNAL_ERROR", "internal error")
	ErrDatabase         = New(http.StatusInternalServerError, "SYSTEM_DATABASE_ERROR", "database error")
	ErrUnavailable      = New(http.StatusServiceUnavailable, "SYSTEM_SERVICE_UNAVAILABLE", "service temporarily unavailable, retry later")
	ErrTenantSuspended  = New(http.StatusForbidden, "TENANT_SUSPENDED", "this organization is suspended")
	// ErrDayLocked refuses, for good, a change of time in a day the
	// organization's timesheet lock covers.
	ErrDayLocked       = New(http.StatusConflict, "DAY_LOCKED", "the day is locked")
	ErrTokenRevoked    = New(http.StatusUnauthorized, "AUTH_TOKEN_REVOKED", "access token was revoked; sign in again")
	ErrAccountDisabled = New(http.StatusForbidden, "AUTH_ACCOUNT_DISABLED", "this account or its organization is deactivated")
	// ErrUserNotFound is auth's, and every service's part of a member's
	// export answers it for an id that names no one.
	ErrUserNotFound = New(http.StatusNotFound, "USER_NOT_FOUND", "no such user")
)

// Invalid builds a VALIDATION_FAILED error for the given fields.
func Invalid(fields ...FieldError) *Error {
	return ErrValidation.WithDetails(fields)
}

// InvalidField is Invalid for a single field and constraint.
func InvalidField(field, constraint string, value any) *Error {
	return Invalid(FieldError{Field: field, Constraints: []string{constraint}, Value: value})
}
