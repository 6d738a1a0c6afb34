package authn_test

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/apierr"
	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
)

type jwksServer struct {
	mu   sync.Mutex
	keys map[string]ed25519.PrivateKey
	hits int
}

func (s *jwksServer) add(t *testing.T) authn.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid := uuid.NewString()[:8]
	s.mu.Lock()
	s.keys[kid] = priv
	s.mu.Unlock()
	return authn.Signer{Kid: kid, Key: priv, Issuer: "workpulse", TTL: time.Hour}
}

func (s *jwksServer) ServeHTTP(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hits++
	var doc authn.JWKS
	for kid, k := range s.keys {
		doc.Keys = append(doc.Keys, authn.PublicJWK(kid, k.Public().(ed25519.PublicKey)))
	}
	_ = json.NewEncoder(w).Encode(doc)
}

func principal() authn.Principal {
	return authn.Principal{UserID: uuid.NewString(), Email: "e@example.com", OrganizationID: uuid.NewString(), Role: authn.RoleEmployee}
}

// signedAt is the instant the verifiers stand on and the tokens are signed
// at: an hour's token signed then expires in the next year.
var signedAt = time.Date(2027, 12, 31, 23, 30, 0, 0, time.UTC)

func setup(t *testing.T) (*jwksServer, *authn.Verifier, authn.Signer) {
	s := &jwksServer{keys: map[string]ed25519.PrivateKey{}}
	signer := s.add(t)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	at := clock.Func(func() time.Time { return signedAt })
	cache := authn.NewJWKSCache(srv.URL, nil, at)
	cache.MinRefresh = 0
	return s, authn.NewVerifier(cache, "workpulse", at), signer
}

func b64(v any) string {
	b, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(b)
}

func TestVerifierRefusesForgedAndInvalidTokens(t *testing.T) {
	s, v, signer := setup(t)
	p := principal()
	now := signedAt
	claims := map[string]any{"sub": p.UserID, "organization_id": p.OrganizationID, "role": "admin", "iss": "workpulse",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	pub := signer.Key.Public().(ed25519.PublicKey)
	hs := func() string {
		head := b64(map[string]string{"alg": "HS256", "kid": signer.Kid, "typ": "JWT"}) + "." + b64(claims)
		m := hmac.New(sha256.New, pub)
		m.Write([]byte(head))
		return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
	}()
	sign := func(s authn.Signer, p authn.Principal, at time.Time) string {
		tok, err := s.Sign(p, at)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	stranger := authn.Signer{Kid: signer.Kid, Issuer: "workpulse", TTL: time.Hour}
	_, stranger.Key, _ = ed25519.GenerateKey(rand.Reader)
	wrongIssuer := signer
	wrongIssuer.Issuer = "evil"
	unknownKid := s.add(t)
	unknownKid.Kid = "not-published"
	cases := []struct {
		name  string
		token string
		want  *apierr.Error
	}{
		{"A valid token is accepted.", sign(signer, p, now), nil},
		{"A missing token is refused.", "", apierr.ErrInvalidToken},
		{"Garbage is refused.", "not.a.jwt", apierr.ErrInvalidToken},
		{"An unsigned alg-none token is refused.", b64(map[string]string{"alg": "none", "kid": signer.Kid}) + "." + b64(claims) + ".", apierr.ErrInvalidToken},
		{"An HS256 token keyed with the public key is refused.", hs, apierr.ErrInvalidToken},
		{"A token signed by another key under a published kid is refused.", sign(stranger, p, now), apierr.ErrInvalidToken},
		{"A token whose kid is not published is refused.", sign(unknownKid, p, now), apierr.ErrInvalidToken},
		{"A token from another issuer is refused.", sign(wrongIssuer, p, now), apierr.ErrInvalidToken},
		{"An expired token is refused as expired.", sign(signer, p, now.Add(-2*time.Hour)), apierr.ErrTokenExpired},
		{"A token not valid yet is refused.", sign(signer, p, now.Add(time.Hour)), apierr.ErrInvalidToken},
		{"A token with an unknown role is refused.", sign(signer, authn.Principal{UserID: p.UserID, OrganizationID: p.OrganizationID, Role: "root"}, now), apierr.ErrInvalidToken},
		{"A token without an organization is refused.", sign(signer, authn.Principal{UserID: p.UserID, Role: "admin"}, now), apierr.ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := v.Verify(context.Background(), c.token)
			if c.want == nil {
				if err != nil || !got.ExpiresAt.Equal(now.Add(time.Hour)) {
					t.Fatalf("got %+v, %v; want a principal expiring an hour after signing", got, err)
				}
				if got.ExpiresAt = (time.Time{}); got != p {
					t.Fatalf("got %+v; want %+v", got, p)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v; want %v", err, c.want)
			}
		})
	}
}

func TestVerifierFollowsKeyRotationWithoutLoggingAnyoneOut(t *testing.T) {
	s, v, oldSigner := setup(t)
	p := principal()
	oldToken, _ := oldSigner.Sign(p, signedAt)
	if _, err := v.Verify(context.Background(), oldToken); err != nil {
		t.Fatal(err)
	}
	newSigner := s.add(t) // rotation: a new key is published beside the old one
	newToken, _ := newSigner.Sign(p, signedAt)
	for name, tok := range map[string]string{"new": newToken, "old": oldToken} {
		if _, err := v.Verify(context.Background(), tok); err != nil {
			t.Fatalf("the %s key's token was refused after rotation: %v", name, err)
		}
	}
}

func TestRequireChecksTheRole(t *testing.T) {
	_, v, signer := setup(t)
	h := authn.Require(v, authn.RoleAdmin)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	for _, c := range []struct {
		name string
		role string
		want int
	}{
		{"An admin passes an admin-only route.", authn.RoleAdmin, 204},
		{"An employee is forbidden from an admin-only route.", authn.RoleEmployee, 403},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := principal()
			p.Role = c.role
			tok, _ := signer.Sign(p, signedAt)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+tok)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != c.want {
				t.Fatalf("status %d; want %d (%s)", rec.Code, c.want, strings.TrimSpace(rec.Body.String()))
			}
		})
	}
}

// gatedJWKS serves s, holding every request while held is set.
type gatedJWKS struct {
	s       *jwksServer
	held    atomic.Bool
	release chan struct{}
	arrived chan struct{}
}

func (g *gatedJWKS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if g.held.Load() {
		g.arrived <- struct{}{}
		<-g.release
	}
	g.s.ServeHTTP(w, r)
}

// TestAJWKSRefetchStallsNoVerificationOfAKnownKey holds the auth service's
// answer to a refetch caused by an unknown kid: tokens of the known key go
// on verifying meanwhile (the cache held its lock through the HTTP call,
// stalling every request), and the twenty callers with the new kid share
// one fetch.
func TestAJWKSRefetchStallsNoVerificationOfAKnownKey(t *testing.T) {
	s := &jwksServer{keys: map[string]ed25519.PrivateKey{}}
	known := s.add(t)
	g := &gatedJWKS{s: s, release: make(chan struct{}), arrived: make(chan struct{}, 100)}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	var once sync.Once
	release := func() { once.Do(func() { close(g.release) }) }
	t.Cleanup(release) // before the server closes, which waits for held requests
	at := clock.Func(func() time.Time { return signedAt })
	cache := authn.NewJWKSCache(srv.URL, nil, at)
	cache.MinRefresh = 0
	v := authn.NewVerifier(cache, "workpulse", at)
	knownTok, _ := known.Sign(principal(), signedAt)
	if _, err := v.Verify(context.Background(), knownTok); err != nil {
		t.Fatal(err)
	}
	rotated := s.add(t)
	rotatedTok, _ := rotated.Sign(principal(), signedAt)
	hitsBefore := s.hits
	g.held.Store(true)
	results := make(chan error, 20)
	for i := 0; i < 20; i++ {
		go func() { _, err := v.Verify(context.Background(), rotatedTok); results <- err }()
	}
	<-g.arrived // the refetch is at the auth service, unanswered
	verified := make(chan error, 1)
	go func() { _, err := v.Verify(context.Background(), knownTok); verified <- err }()
	select {
	case err := <-verified:
		if err != nil {
			t.Fatalf("the known key's token during the refetch: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("verifying a known key's token waited for the refetch")
	}
	release()
	for i := 0; i < 20; i++ {
		if err := <-results; err != nil {
			t.Fatalf("a token of the rotated key: %v", err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if fetches := s.hits - hitsBefore; fetches != 1 {
		t.Fatalf("20 callers with the new kid made %d fetches; want 1", fetches)
	}
}

// TestAnAuthOutageAnswers503NotUnauthorized verifies tokens while the
// auth service is down: a token whose key the cache never saw is answered
// 503 (it was 401, logging clients out for an outage), while tokens of
// keys already known keep passing.
func TestAnAuthOutageAnswers503NotUnauthorized(t *testing.T) {
	s := &jwksServer{keys: map[string]ed25519.PrivateKey{}}
	known := s.add(t)
	srv := httptest.NewServer(s)
	at := clock.Func(func() time.Time { return signedAt })
	cache := authn.NewJWKSCache(srv.URL, nil, at)
	cache.MinRefresh = 0
	v := authn.NewVerifier(cache, "workpulse", at)
	h := authn.Require(v)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) }))
	call := func(tok string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	knownTok, _ := known.Sign(principal(), signedAt)
	if rec := call(knownTok); rec.Code != 204 {
		t.Fatalf("before the outage: %d %s", rec.Code, rec.Body)
	}
	unseenTok, _ := s.add(t).Sign(principal(), signedAt)
	srv.Close()
	if rec := call(unseenTok); rec.Code != 503 || !strings.Contains(rec.Body.String(), "SYSTEM_SERVICE_UNAVAILABLE") || rec.Header().Get("Retry-After") == "" {
		t.Fatalf("a token of an unseen key during the outage: %d %s; want 503 with Retry-After", rec.Code, rec.Body)
	}
	if rec := call(knownTok); rec.Code != 204 {
		t.Fatalf("a known key's token during the outage: %d %s", rec.Code, rec.Body)
	}
	fresh := authn.NewVerifier(authn.NewJWKSCache(srv.URL, nil, at), "workpulse", at)
	if _, err := fresh.Verify(context.Background(), knownTok); !errors.Is(err, apierr.ErrUnavailable) {
		t.Fatalf("a verifier started during the outage: %v; want ErrUnavailable", err)
	}
}

// hmacToken signs header and claims with HMAC-SHA256 keyed by key, as the
// replaced system signed its tokens (and as an attacker would with a
// public key).
func hmacToken(header map[string]string, claims map[string]any, key []byte) string {
	head := b64(header) + "." + b64(claims)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(head))
	return head + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func TestTheOriginalsHS256TokensAreAcceptedUntilTheyExpireAndCannotConfuseTheAlgorithm(t *testing.T) {
	_, v, signer := setup(t)
	_, plain, _ := setup(t)
	secret := "the-original-jwt-secret"
	v.WithLegacySecret(secret)
	p := principal()
	now := signedAt
	legacy := func(exp time.Time) map[string]any {
		return map[string]any{"sub": p.UserID, "email": p.Email, "organization_id": p.OrganizationID, "role": p.Role,
			"iat": now.Add(-time.Minute).Unix(), "exp": exp.Unix()}
	}
	hs256 := map[string]string{"alg": "HS256", "typ": "JWT"}
	pub := signer.Key.Public().(ed25519.PublicKey)
	own, err := signer.Sign(p, now)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name     string
		verifier *authn.Verifier
		token    string
		want     *apierr.Error
	}{
		{"An HS256 token signed with the legacy secret is accepted.", v, hmacToken(hs256, legacy(now.Add(time.Hour)), []byte(secret)), nil},
		{"WorkPulse's own tokens are still accepted beside them.", v, own, nil},
		{"An expired legacy token is refused as expired.", v, hmacToken(hs256, legacy(now.Add(-time.Hour)), []byte(secret)), apierr.ErrTokenExpired},
		{"A legacy token without an expiry is refused.", v, hmacToken(hs256, map[string]any{"sub": p.UserID, "organization_id": p.OrganizationID, "role": p.Role}, []byte(secret)), apierr.ErrInvalidToken},
		{"An HS256 token signed with another secret is refused.", v, hmacToken(hs256, legacy(now.Add(time.Hour)), []byte("another-secret-of-length")), apierr.ErrInvalidToken},
		{"An HS256 token keyed with the Ed25519 public key under its kid is refused.", v,
			hmacToken(map[string]string{"alg": "HS256", "kid": signer.Kid, "typ": "JWT"}, legacy(now.Add(time.Hour)), pub), apierr.ErrInvalidToken},
		{"An HS256 token keyed with the public key's JWK text is refused.", v,
			hmacToken(hs256, legacy(now.Add(time.Hour)), []byte(b64(authn.PublicJWK(signer.Kid, pub)))), apierr.ErrInvalidToken},
		{"A token naming HS384 over the legacy secret's signature is refused.", v,
			hmacToken(map[string]string{"alg": "HS384", "typ": "JWT"}, legacy(now.Add(time.Hour)), []byte(secret)), apierr.ErrInvalidToken},
		{"An unsigned alg-none token is refused.", v, b64(map[string]string{"alg": "none", "typ": "JWT"}) + "." + b64(legacy(now.Add(time.Hour))) + ".", apierr.ErrInvalidToken},
		{"An EdDSA header over a legacy signature is refused.", v, func() string {
			tok := hmacToken(hs256, legacy(now.Add(time.Hour)), []byte(secret))
			parts := strings.Split(tok, ".")
			return b64(map[string]string{"alg": "EdDSA", "kid": signer.Kid, "typ": "JWT"}) + "." + parts[1] + "." + parts[2]
		}(), apierr.ErrInvalidToken},
		{"Without LEGACY_JWT_SECRET a legacy token is refused.", plain, hmacToken(hs256, legacy(now.Add(time.Hour)), []byte(secret)), apierr.ErrInvalidToken},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := c.verifier.Verify(context.Background(), c.token)
			if c.want == nil {
				if err != nil || got.UserID != p.UserID || got.OrganizationID != p.OrganizationID || got.Role != p.Role {
					t.Fatalf("got %+v, %v; want %+v", got, err, p)
				}
				return
			}
			if !errors.Is(err, c.want) {
				t.Fatalf("err = %v; want %v", err, c.want)
			}
		})
	}
}
