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
	// out revokes its tokens; Version is the user's token version at issue,
	// on a device token the device's (how often it was renewed).
	SessionID string `json:"sid,omitempty"`
	Version   int    `json:"ver,omitempty"`
	// Scope is ScopeDevice on a desktop agent's device token, whose
	// device id is DeviceID; empty on a person's access token.
	Scope    string `json:"scope,omitempty"`
	DeviceID string `json:"did,omitempty"`
}

// ScopeDevice marks a device token: a desktop agent's long-lived
// credential, which reaches the tracking routes only (RequireTracking).
const ScopeDevice = "device"

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
	// DeviceID is set when the caller is a desktop agent holding a device
	// token.
	DeviceID string
}

// IsDevice reports whether the caller holds a device token.
func (p Principal) IsDevice() bool { return p.DeviceID != "" }

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
// caller must have one of them. Device tokens are refused: only the
// routes behind RequireTracking accept them.
func Require(v *Verifier, roles ...string) httpx.Middleware {
	return require(v, v.Verify, roles)
}

// RequireTracking is Require for the routes a desktop agent calls
// (starting and stopping its sessions, posting activity, reading its own
// state): it also accepts device tokens, and notes their use.
func RequireTracking(v *Verifier) httpx.Middleware {
	return require(v, v.VerifyTracking, nil)
}

// RequireRenewal is Require for the route a desktop agent renews its
// device token through: a device token passes too, up to grace past its
// expiry (VerifyRenewal).
func RequireRenewal(v *Verifier, grace time.Duration) httpx.Middleware {
	return require(v, func(ctx context.Context, token string) (Principal, error) {
		return v.VerifyRenewal(ctx, token, grace)
	}, nil)
}

func require(v *Verifier, verify func(context.Context, string) (Principal, error), roles []string) httpx.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p, err := verify(r.Context(), BearerToken(r))
			if err != nil {
				httpx.Error(w, r, err)
				return
			}
			if len(roles) > 0 && !hasRole(p.Role, roles) {
				httpx.Error(w, r, apierr.ErrForbidden)
				return
			}
			v.NoteUse(r.Context(), p)
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
