package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
	"github.com/workpulse/workpulse/services/platform/sealbox"
)

// KeyStore holds the signing keys, shared by every auth replica through
// PostgreSQL. The newest key that is not retired signs; every key that
// has not expired is published, so a rotation never invalidates a token
// that is still within its lifetime.
type KeyStore struct {
	store    *Store
	rotation time.Duration // how long a key signs
	tokenTTL time.Duration // how long the access tokens it signs last
	// published is how long a key stays published after it retires: the
	// longest lifetime of a token it signs.
	published time.Duration

	mu   sync.RWMutex
	keys []signingKey // latest retirement first
}

type signingKey struct {
	kid      string
	priv     ed25519.PrivateKey
	retireAt time.Time
	expireAt time.Time
}

// NewKeyStore returns a store whose keys sign for rotation each, sealed
// at rest by c (nil: stored as they are); clk decides when a key retires
// and expires.
func NewKeyStore(db *pgxpool.Pool, rotation, tokenTTL time.Duration, c *sealbox.Cipher, clk clock.Clock) *KeyStore {
	return &KeyStore{store: &Store{db: db, clock: clk, cipher: c}, rotation: rotation, tokenTTL: tokenTTL, published: tokenTTL}
}

// KeepPublished keeps every key published for ttl after it retires, when
// that is longer than the access tokens' lifetime, so that device tokens
// it signed stay verifiable until they expire; it returns s.
func (s *KeyStore) KeepPublished(ttl time.Duration) *KeyStore {
	s.published = max(s.published, ttl)
	return s
}

// Reseal rewrites the keys, the SSO client secrets and the queued mail
// stored before encryption or sealed with a previous encryption key under
// the current one, and returns how many; the service runs it at start, so that a
// rotated encryption key's predecessor can be dropped once every replica
// has restarted.
func (s *KeyStore) Reseal(ctx context.Context) (int, error) {
	n, err := s.store.resealSigningKeys(ctx)
	if err != nil {
		return n, fmt.Errorf("auth: reseal signing keys: %w", err)
	}
	secrets, err := s.store.resealSSOSecrets(ctx)
	if err != nil {
		return n + secrets, fmt.Errorf("auth: reseal SSO client secrets: %w", err)
	}
	mail, err := s.store.resealMail(ctx)
	if err != nil {
		return n + secrets + mail, fmt.Errorf("auth: reseal queued mail: %w", err)
	}
	return n + secrets + mail, nil
}

// Refresh loads the keys and creates a new one when no key will still be
// signing a rotation tenth from now (on the store's clock); replicas agree
// through a lock.
func (s *KeyStore) Refresh(ctx context.Context) error {
	now := s.store.clock.Now()
	err := s.store.ensureSigningKey(ctx, now.Add(s.rotation/10), s.published+time.Hour, func() (signingKey, error) {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return signingKey{}, err
		}
		kidBytes := make([]byte, 8)
		_, _ = rand.Read(kidBytes)
		return signingKey{kid: hex.EncodeToString(kidBytes), priv: priv,
			retireAt: now.Add(s.rotation), expireAt: now.Add(s.rotation + s.published + time.Hour)}, nil
	})
	if err != nil {
		return fmt.Errorf("auth: rotate signing keys: %w", err)
	}
	keys, err := s.store.signingKeys(ctx, now)
	if err != nil {
		return err
	}
	sort.SliceStable(keys, func(i, j int) bool { return keys[i].retireAt.After(keys[j].retireAt) })
	s.mu.Lock()
	s.keys = keys
	s.mu.Unlock()
	return nil
}

// Run refreshes the keys every interval until ctx is done.
func (s *KeyStore) Run(ctx context.Context, interval time.Duration) error {
	// A failed refresh keeps the keys already loaded working; the next
	// interval retries.
	clock.Every(ctx, interval, func(ctx context.Context) { _ = s.Refresh(ctx) })
	return nil
}

// Signer returns the signer of the current key.
func (s *KeyStore) Signer(issuer string) (authn.Signer, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	// The key retiring first signs: a key made by a rotation is published
	// for a tenth of a rotation before it signs, so verifiers' JWKS caches
	// know it before they meet it.
	now := s.store.clock.Now()
	for i := len(s.keys) - 1; i >= 0; i-- {
		if k := s.keys[i]; k.retireAt.After(now) {
			return authn.Signer{Kid: k.kid, Key: k.priv, Issuer: issuer, TTL: s.tokenTTL}, nil
		}
	}
	return authn.Signer{}, fmt.Errorf("auth: no signing key loaded")
}

// JWKS returns every published public key.
func (s *KeyStore) JWKS() authn.JWKS {
	s.mu.RLock()
	defer s.mu.RUnlock()
	doc := authn.JWKS{Keys: make([]authn.JWK, 0, len(s.keys))}
	now := s.store.clock.Now()
	for _, k := range s.keys {
		if k.expireAt.After(now) {
			doc.Keys = append(doc.Keys, authn.PublicJWK(k.kid, k.priv.Public().(ed25519.PublicKey)))
		}
	}
	return doc
}

// PublicKey implements authn.KeySource for the auth service's own routes.
func (s *KeyStore) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	now := s.store.clock.Now()
	for _, k := range s.keys {
		if k.kid == kid && k.expireAt.After(now) {
			return k.priv.Public().(ed25519.PublicKey), nil
		}
	}
	return nil, authn.ErrUnknownKey
}
