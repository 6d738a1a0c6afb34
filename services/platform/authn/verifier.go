package authn

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
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

// Verifier checks access tokens.
type Verifier struct {
	keys   KeySource
	issuer string
	leeway time.Duration
	clock  clock.Clock
}

// NewVerifier verifies tokens of issuer signed by keys; expiry is judged
// on clk.
func NewVerifier(keys KeySource, issuer string, clk clock.Clock) *Verifier {
	return &Verifier{keys: keys, issuer: issuer, leeway: 5 * time.Second, clock: clk}
}

// Verify returns the caller a token stands for. Only EdDSA tokens from the
// issuer with a known kid, a subject, an organization and a role pass.
func (v *Verifier) Verify(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, apierr.ErrInvalidToken
	}
	var claims Claims
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, errors.New("token has no kid")
		}
		return v.keys.PublicKey(ctx, kid)
	},
		jwt.WithValidMethods([]string{jwt.SigningMethodEdDSA.Alg()}),
		jwt.WithIssuer(v.issuer),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.clock.Now),
	)
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return Principal{}, apierr.ErrTokenExpired
	case err != nil:
		return Principal{}, apierr.ErrInvalidToken
	}
	if _, err := uuid.Parse(claims.Subject); err != nil {
		return Principal{}, apierr.ErrInvalidToken
	}
	if _, err := uuid.Parse(claims.OrganizationID); err != nil {
		return Principal{}, apierr.ErrInvalidToken
	}
	if claims.Role != RoleAdmin && claims.Role != RoleEmployee {
		return Principal{}, apierr.ErrInvalidToken
	}
	return Principal{UserID: claims.Subject, Email: claims.Email, OrganizationID: claims.OrganizationID, Role: claims.Role}, nil
}

// JWKSCache is a KeySource backed by a remote JWKS document. It refreshes
// the document every TTL, and at once (at most every MinRefresh) when a
// token names a kid it does not know, which is how a rotated key is found.
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
	fetchedAt time.Time
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
	defer c.mu.Unlock()
	key, ok := c.keys[kid]
	stale := clock.Since(c.clock, c.fetchedAt) > c.ttl
	if ok && !stale {
		return key, nil
	}
	if !stale && clock.Since(c.clock, c.fetchedAt) < c.MinRefresh {
		return nil, ErrUnknownKey
	}
	if err := c.refresh(ctx); err != nil {
		if ok {
			return key, nil // keep verifying with what we had while auth is unreachable
		}
		return nil, err
	}
	if key, ok = c.keys[kid]; !ok {
		return nil, ErrUnknownKey
	}
	return key, nil
}

func (c *JWKSCache) refresh(ctx context.Context) error {
	c.fetchedAt = c.clock.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.url, nil)
	if err != nil {
		return err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("authn: fetch JWKS: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("authn: fetch JWKS: status %d", resp.StatusCode)
	}
	var doc JWKS
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil {
		return fmt.Errorf("authn: decode JWKS: %w", err)
	}
	keys := make(map[string]ed25519.PublicKey, len(doc.Keys))
	for _, k := range doc.Keys {
		if pub, err := k.PublicKey(); err == nil {
			keys[k.Kid] = pub
		}
	}
	c.keys = keys
	return nil
}
