package testkit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/workpulse/workpulse/services/platform/authn"
	"github.com/workpulse/workpulse/services/platform/clock"
)

// Issuer mints access tokens that its Verifier accepts, so that a
// service's tests need no auth service.
type Issuer struct {
	signer authn.Signer
	clock  clock.Clock
	// Verifier verifies tokens of this issuer.
	Verifier *authn.Verifier
}

type staticKeys map[string]ed25519.PublicKey

func (k staticKeys) PublicKey(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if pub, ok := k[kid]; ok {
		return pub, nil
	}
	return nil, authn.ErrUnknownKey
}

// NewIssuer returns an issuer with a fresh key, issuing as "workpulse" on
// the wall clock.
func NewIssuer(t testing.TB) *Issuer {
	t.Helper()
	return NewIssuerOn(t, clock.Real)
}

// NewIssuerOn is NewIssuer whose tokens are issued, and verified, at clk's
// time.
func NewIssuerOn(t testing.TB, clk clock.Clock) *Issuer {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	kid := uuid.NewString()
	return &Issuer{
		signer:   authn.Signer{Kid: kid, Key: priv, Issuer: "workpulse", TTL: time.Hour},
		clock:    clk,
		Verifier: authn.NewVerifier(staticKeys{kid: pub}, "workpulse", clk),
	}
}

// Token signs a token for p.
func (i *Issuer) Token(t testing.TB, p authn.Principal) string {
	t.Helper()
	tok, err := i.signer.Sign(p, i.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// Member returns a principal with fresh IDs in org (a new org when "").
func Member(org, role string) authn.Principal {
	if org == "" {
		org = uuid.NewString()
	}
	id := uuid.NewString()
	return authn.Principal{UserID: id, Email: id[:8] + "@example.com", OrganizationID: org, Role: role}
}
