package authn

import (
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// JWK is one public key of a JWKS document (OKP / Ed25519 only).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is the document served at /api/auth/.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK describes an Ed25519 public key.
func PublicJWK(kid string, pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Alg: "EdDSA", Use: "sig"}
}

// PublicKey decodes an Ed25519 JWK.
func (k JWK) PublicKey() (ed25519.PublicKey, error) {
	if k.Kty != "OKP" || k.Crv != "Ed25519" {
		return nil, fmt.Errorf("authn: unsupported key type %s/%s", k.Kty, k.Crv)
	}
	b, err := base64.RawURLEncoding.DecodeString(k.X)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("authn: malformed Ed25519 key")
	}
	return ed25519.PublicKey(b), nil
}

// Signer issues access tokens with one private key.
type Signer struct {
	Kid    string
	Key    ed25519.PrivateKey
	Issuer string
	TTL    time.Duration
}

// Sign issues a token for p.
func (s Signer) Sign(p Principal, now time.Time) (string, error) {
	claims := Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   p.UserID,
			Issuer:    s.Issuer,
			IssuedAt:  jwt.NewNumericDate(now),
			NotBefore: jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(s.TTL)),
		},
		Email: p.Email, OrganizationID: p.OrganizationID, Role: p.Role,
		SessionID: p.SessionID, Version: p.TokenVersion,
	}
	if p.IsDevice() {
		claims.Scope, claims.DeviceID = ScopeDevice, p.DeviceID
	}
	t := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	t.Header["kid"] = s.Kid
	return t.SignedString(s.Key)
}
