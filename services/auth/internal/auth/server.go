// Package auth is the auth service: registration, login, invitations,
// the JWKS other services verify tokens with, and the internal API the
// operator provisions tenants through.
package auth

import (
	"net/http"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/metrics"
)

// Deps are what the auth API is built from.
type Deps struct {
	Config      Config
	DB          *pgxpool.Pool
	Redis       *redis.Client
	RedisPrefix string
	Keys        *KeyStore
	// Revocations refuses revoked tokens on auth's own routes (nil: none).
	Revocations *authn.Revocations
	Metrics     *metrics.HTTP
	// Clock decides token lifetimes, invitation expiry and the login
	// throttle's windows and delays.
	Clock clock.Clock
}

type server struct {
	cfg      Config
	store    *Store
	keys     *KeyStore
	throttle *Throttle
	hasher   *Hasher
	verifier *authn.Verifier
	oidc     *oidcClient
	clock    clock.Clock
}

// NewServer returns auth's API handler.
func NewServer(d Deps) http.Handler {
	s := &server{
		cfg: d.Config,
		store: &Store{db: d.DB, clock: d.Clock, cipher: d.Config.KeyCipher, tokenTTL: d.Config.TokenTTL,
			refreshTTL: d.Config.RefreshTTL},
		keys:     d.Keys,
		throttle: NewThrottle(d.Redis, d.RedisPrefix, d.Config.Throttle, d.Clock),
		hasher:   NewHasher(d.Config.HashSlots, d.Config.HashQueue),
		verifier: authn.NewVerifier(d.Keys, d.Config.Issuer, d.Clock).WithRevocations(d.Revocations).
			WithLegacySecret(d.Config.LegacyJWTSecret),
		oidc:  newOIDCClient(d.Config.SSOAllowPrivateIssuers, d.Clock),
		clock: d.Clock,
	}
	return s.routes(d.Metrics)
}
