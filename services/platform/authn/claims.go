// Package authn signs and verifies WorkPulse access tokens. The auth
// service signs with Ed25519 keys it rotates; every other service verifies
// against the auth service's JWKS, which it caches and refetches when it
// meets a key ID it does not know.
package authn

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/httpx"
)

// Roles.
const (
	RoleAdmin    = "admin"
	RoleManager  = "manager"
	RoleEmployee = "employee"
)

// Roles lists every role.
var Roles = []string{RoleAdmin, RoleManager, RoleEmployee}

// Claims are the contract's token claims.
type Claims struct {
	jwt.RegisteredClaims
	Email          string `json:"email"`
	OrganizationID string `json:"organization_id"`
	Role           string `json:"role"`
	// SessionID names the sign-in the token belongs to, so that signing
	// out revokes its tokens; Version is the user's token version at issue.
	SessionID string `json:"sid,omitempty"`
	Version   int    `json:"ver,omitempty"`
}

// Principal is the authenticated caller.
type Principal struct {
	UserID         string
	Email          string
	OrganizationID string
	Role           string
	// SessionID and TokenVersion are the token's sid and ver claims.
	SessionID    string
	TokenVersion int
	// ExpiresAt is when the token expires; long-lived connections end then.
	ExpiresAt time.Time
	// teams are the scopes Sees and Visible answer a manager from (nil:
	// a manager sees only their own).
	teams *Teams
}

// IsAdmin reports whether the caller administers its organization.
func (p Principal) IsAdmin() bool { return p.Role == RoleAdmin }

type ctxKey struct{}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the caller; ok is false on unauthenticated routes.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(Principal)
	return p, ok
}

// MustFromContext returns the caller of a route behind Require.
func MustFromContext(ctx context.Context) Principal {
	p, _ := FromContext(ctx)
	return p
}

// BearerToken extracts the token of an Authorization: Bearer header.
func BearerToken(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// Require authenticates every request with v; when roles are given the
// caller must have one of them.
func Require(v *Verifier, roles ...string) httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := v.Verify(r.Context(), BearerToken(r))
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			if len(roles) > 0 && !hasRole(p.Role, roles) {
				httpx.Error(w, r, apierr.ErrForbidden)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithPrincipal(r.Context(), p)))
		})
	}
}

// RequireRole checks the role of a caller already authenticated by Require.
func RequireRole(roles ...string) httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if p, ok := FromContext(r.Context()); !ok || !hasRole(p.Role, roles) {
				httpx.Error(w, r, apierr.ErrForbidden)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hasRole(role string, roles []string) bool {
	for _, r := range roles {
		if r == role {
			return true
		}
	}
	return false
}
