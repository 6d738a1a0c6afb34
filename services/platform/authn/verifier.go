package authn

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// KeySource finds the public key for a key ID.
type KeySource interface {
	PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// ErrUnknownKey is returned by a KeySource that has no such key.
var ErrUnknownKey = errors.New("authn: unknown key id")

// ErrKeysUnavailable is returned by a KeySource that could not learn
// whether a key exists (the auth service is unreachable): the caller is
// answered 503, not told its token is invalid.
var ErrKeysUnavailable = errors.New("authn: signing keys unavailable")

// Verifier checks access tokens.
type Verifier struct {
	keys   KeySource
	issuer string
	leeway time.Duration
	clock  clock.Clock
	// revocations, when set, refuses revoked tokens.
	revocations *Revocations
	// teams, when set, scopes the managers it verifies to their teams.
	teams *Teams
	// legacySecret, when set, also accepts the replaced system's HS256
	// tokens until they expire (LEGACY_JWT_SECRET).
	legacySecret []byte
	// deviceUse, when set, records when device tokens were last used.
	deviceUse *DeviceUse
}

// NewVerifier verifies tokens of issuer signed by keys; expiry is judged
// on clk.
func NewVerifier(keys KeySource, issuer string, clk clock.Clock) *Verifier {
	return &Verifier{keys: keys, issuer: issuer, leeway: 5 * time.Second, clock: clk}
}

// WithRevocations makes v refuse the tokens l revokes; it returns v.
func (v *Verifier) WithRevocations(l *Revocations) *Verifier {
	v.revocations = l
	return v
}

// WithTeams makes the managers v verifies see the members of the teams t
// says they manage; it returns v.
func (v *Verifier) WithTeams(t *Teams) *Verifier {
	v.teams = t
	return v
}

// WithLegacySecret makes v accept, besides its own, HS256 tokens signed
// with secret by the replaced system, so its agents need not log in again
// until their tokens expire; it returns v. An HS256 token is checked with
// secret and nothing else, and an EdDSA token with a published key and
// nothing else: a token cannot pick the key it is checked with, so one
// keyed with a public key (algorithm confusion) fails.
func (v *Verifier) WithLegacySecret(secret string) *Verifier {
	if secret != "" {
		v.legacySecret = []byte(secret)
	}
	return v
}

// WithDeviceUse makes v record in u when each device token is used; it
// returns v.
func (v *Verifier) WithDeviceUse(u *DeviceUse) *Verifier {
	v.deviceUse = u
	return v
}

// ErrDeviceScope refuses a device token outside the tracking routes.
var ErrDeviceScope = apierr.ErrForbidden.WithMessage("a device token reaches the tracking routes only (sessions and activity)")

// VerifyTracking is Verify for the tracking routes: a device token
// passes too. Its caller records the use (NoteUse).
func (v *Verifier) VerifyTracking(ctx context.Context, token string) (Principal, error) {
	return v.verify(ctx, token, 0)
}

// VerifyRenewal is VerifyTracking for the route a desktop agent renews
// its device token through: a device token also passes up to grace past
// its expiry, so that an agent that was off when its token expired needs
// no password. A person's token gets no grace.
func (v *Verifier) VerifyRenewal(ctx context.Context, token string, grace time.Duration) (Principal, error) {
	return v.verify(ctx, token, grace)
}

// NoteUse records that a caller's device token was used (nothing for a
// person's token, or without WithDeviceUse). Holders of verified tokens
// (a cache) call it on each use.
func (v *Verifier) NoteUse(ctx context.Context, p Principal) {
	if v.deviceUse != nil && p.IsDevice() {
		v.deviceUse.Note(ctx, p.DeviceID)
	}
}

// Current re-checks a caller verified earlier: its token must not have
// expired or been revoked since. Holders of verified tokens (a cache, a
// WebSocket) call it instead of verifying again.
func (v *Verifier) Current(p Principal) error {
	if !v.clock.Now().Before(p.ExpiresAt.Add(v.leeway)) {
		return apierr.ErrTokenExpired
	}
	if v.revocations != nil {
		return v.revocations.Check(p)
	}
	return nil
}

// Changed returns a channel closed when the revocation list next brings
// changes (never, without one).
func (v *Verifier) Changed() <-chan struct{} {
	if v.revocations == nil {
		return nil
	}
	return v.revocations.Changed()
}

// Verify returns the caller a token stands for. Only EdDSA tokens from the
// issuer with a known kid, a subject, an organization and a role pass;
// device tokens are refused (VerifyTracking accepts them).
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	p, err := v.verify(ctx, token, 0)
	if err == nil && p.IsDevice() {
		return Principal{}, ErrDeviceScope
	}
	return p, err
}

// verify checks token; a device token passes up to grace past its expiry.
func (v *Verifier) verify(ctx context.Context, token string, grace time.Duration) (Principal, error) {
	if token == "" {
		return Principal{}, apierr.ErrInvalidToken
	}
	var claims Claims
	var err error
	if v.legacySecret != nil && headerAlg(token) == jwt.SigningMethodHS256.Alg() {
		// The replaced system's tokens: its own issuer, if any, is not
		// ours; the secret vouches for them.
		_, err = jwt.ParseWithClaims(token, &claims, func(*jwt.Token) (any, error) { return v.legacySecret, nil },
			append(v.timeRules(0), jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}))...)
	} else {
		_, err = jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
			kid, _ := t.Header["kid"].(string)
			if kid == "" {
				return nil, errors.New("token has no kid")
			}
			return v.keys.PublicKey(ctx, kid)
		}, append(v.timeRules(grace), jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}), jwt.WithIssuer(v.issuer))...)
	}
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Principal{}, apierr.ErrTokenExpired
	case errors.Is(err, ErrKeysUnavailable):
		return Principal{}, apierr.ErrUnavailable
	case err != nil:
		return Principal{}, apierr.ErrInvalidToken
	}
	if _, err := uuid.Parse(claims.Subject); err != nil {
		return Principal{}, apierr.ErrInvalidToken
	}
	if _, err := uuid.Parse(claims.OrganizationID); err != nil {
		return Principal{}, apierr.ErrInvalidToken
	}
	if !hasRole(claims.Role, Roles) {
		return Principal{}, apierr.ErrInvalidToken
	}
	switch claims.Scope {
	case "":
	case ScopeDevice:
		if _, err := uuid.Parse(claims.DeviceID); err != nil {
			return Principal{}, apierr.ErrInvalidToken
		}
	default:
		return Principal{}, apierr.ErrInvalidToken
	}
	if grace > 0 {
		if err := v.withinGrace(claims); err != nil {
			return Principal{}, err
		}
	}
	p := Principal{UserID: claims.Subject, Email: claims.Email, OrganizationID: claims.OrganizationID, Role: claims.Role,
		SessionID: claims.SessionID, TokenVersion: claims.Version, ExpiresAt: claims.ExpiresAt.Time, DeviceID: claims.DeviceID, teams: v.teams}
	if v.revocations != nil {
		if err := v.revocations.Check(p); err != nil {
			return Principal{}, err
		}
	}
	return p, nil
}

// timeRules are the lifetime checks every token passes, on v's clock;
// grace widens them for withinGrace to narrow again.
func (v *Verifier) timeRules(grace time.Duration) []jwt.ParserOption {
	return []jwt.ParserOption{jwt.WithExpirationRequired(), jwt.WithIssuedAt(), jwt.WithLeeway(v.leeway + grace), jwt.WithTimeFunc(v.clock.Now)}
}

// withinGrace holds a token parsed with a grace to the usual leeway
// everywhere but a device token's expiry: the grace lets an expired
// device token renew, not a person's token, nor a token issued or valid
// only in the future.
func (v *Verifier) withinGrace(c Claims) error {
	now := v.clock.Now()
	for _, at := range []*jwt.NumericDate{c.IssuedAt, c.NotBefore} {
		if at != nil && at.After(now.Add(v.leeway)) {
			return apierr.ErrInvalidToken
		}
	}
	if c.Scope != ScopeDevice && !now.Before(c.ExpiresAt.Add(v.leeway)) {
		return apierr.ErrTokenExpired
	}
	return nil
}

// headerAlg is the alg a token's header names, "" when unreadable. It
// only chooses which one key and method the token is then verified with.
func headerAlg(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Alg
}

// JWKSCache is a KeySource backed by a remote JWKS document. It refreshes
// the document every TTL, and at once (at most every MinRefresh) when a
// token names a kid it does not know, which is how a rotated key is found.
//
// One fetch runs at a time and the lock is never held during it: callers
// meeting an unknown kid wait for the fetch in flight (single flight),
// while tokens of known keys go on verifying, even when the document is
// stale (it is refreshed behind them). A fetch that fails leaves the keys
// as they were, and callers whose kid it could not settle get
// ErrKeysUnavailable.
type JWKSCache struct {
	url    string
	client *http.Client
	clock  clock.Clock
	ttl    time.Duration
	// MinRefresh limits refetches caused by unknown key IDs, so that tokens
	// with made-up kids cannot hammer the auth service.
	MinRefresh time.Duration

	mu        sync.Mutex
	keys      map[string]ed25519.PublicKey
	fetchedAt time.Time     // when the last fetch started
	fetching  chan struct{} // closed when the fetch in flight ends; nil when none is
	fetchErr  error         // the last fetch's failure
}

// NewJWKSCache fetches from url; clk tells when the document is stale.
func NewJWKSCache(url string, client *http.Client, clk clock.Clock) *JWKSCache {
	if client == nil {
		client = &http.Client{Timeout: 5 * time.Second}
	}
	return &JWKSCache{url: url, client: client, clock: clk, ttl: 5 * time.Minute, MinRefresh: time.Second}
}

// PublicKey implements KeySource.
func (c *JWKSCache) PublicKey(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	c.mu.Lock()
	key, ok := c.keys[kid]
	fetched := !c.fetchedAt.IsZero()
	age := clock.Since(c.clock, c.fetchedAt)
	if ok {
		if age > c.ttl {
			c.startFetch(ctx)
		}
		c.mu.Unlock()
		return key, nil
	}
	if c.fetching == nil && fetched && age < c.MinRefresh {
		err := c.settled()
		c.mu.Unlock()
		return nil, err
	}
	done := c.startFetch(ctx)
	c.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrKeysUnavailable, ctx.Err())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if key, ok := c.keys[kid]; ok {
		return key, nil
	}
	return nil, c.settled()
}

// settled is the answer for a kid the keys lack: unknown when the last
// fetch succeeded, unavailable when it failed.
func (c *JWKSCache) settled() error {
	if c.fetchErr != nil {
		return fmt.Errorf("%w: %v", ErrKeysUnavailable, c.fetchErr)
	}
	return ErrUnknownKey
}

// startFetch starts a fetch unless one is in flight and returns the
// channel closed when it ends; c.mu must be held. The fetch outlives the
// caller's cancellation, since other callers may be waiting for it; the
// client's timeout bounds it.
func (c *JWKSCache) startFetch(ctx context.Context) <-chan struct{} {
	if c.fetching != nil {
		return c.fetching
	}
	done := make(chan struct{})
	c.fetching, c.fetchedAt = done, c.clock.Now()
	go func() {
		keys, err := c.fetch(context.WithoutCancel(ctx))
		c.mu.Lock()
		if err == nil {
			c.keys = keys
		}
		c.fetchErr, c.fetching = err, nil
		c.mu.Unlock()
		close(done)
	}()
	return done
}

func (c *JWKSCache) fetch(ctx context.Context) (map[string]ed25519.PublicKey, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("authn: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("authn: fetch JWKS: status %d", resp.StatusCode)
	}
	var doc JWKS
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("authn: decode JWKS: %w", err)
	}
	keys := make(map[string]ed25519.PublicKey, len(doc.Keys))
	for _, k := range doc.Keys {
		if pub, err := k.PublicKey(); err == nil {
			keys[k.Kid] = pub
		}
	}
	return keys, nil
}
