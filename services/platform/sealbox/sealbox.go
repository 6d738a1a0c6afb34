// Package sealbox seals secrets at rest with AES-256-GCM, so that a copy
// of the database (a backup, a replica, a read-only role) does not hold
// them: auth's signing keys, SSO client secrets and queued mail bodies,
// report's webhook endpoint secrets.
package sealbox

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/workpulse/workpulse/services/platform/config"
)

// Cipher seals with the current key; previous keys still open what they
// sealed until the service has resealed it at start, which is how the key
// is rotated (SIGNING_KEY_ENCRYPTION_KEY and
// SIGNING_KEY_ENCRYPTION_PREVIOUS_KEYS).
//
// A sealed value is magic, the sealing key's id (the first 8 bytes of its
// SHA-256), a nonce and the ciphertext; the caller's additional data names
// the row, so a sealed value cannot be moved to another row.
type Cipher struct {
	currentID []byte
	aeads     map[string]cipher.AEAD // by key id
}

var sealedMagic = []byte("wpk1")

const keyIDLen = 8

// New seals with current and opens with current and previous; each is a
// base64 encoding of 32 random bytes.
func New(current string, previous []string) (*Cipher, error) {
	c := &Cipher{aeads: map[string]cipher.AEAD{}}
	for i, enc := range append([]string{current}, previous...) {
		raw, err := base64.StdEncoding.DecodeString(enc)
		if err != nil || len(raw) != 32 {
			return nil, errors.New("not the base64 encoding of 32 bytes")
		}
		block, _ := aes.NewCipher(raw)
		aead, _ := cipher.NewGCM(block)
		sum := sha256.Sum256(raw)
		id := sum[:keyIDLen]
		if i == 0 {
			c.currentID = id
		}
		c.aeads[string(id)] = aead
	}
	return c, nil
}

// Seal returns what is stored for plain, bound to ad; a nil cipher stores
// it as it is (for values whose length tells them from a sealed one).
func (c *Cipher) Seal(ad string, plain []byte) []byte {
	if c == nil {
		return plain
	}
	aead := c.aeads[string(c.currentID)]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append(append(append([]byte{}, sealedMagic...), c.currentID...), nonce...)
	return aead.Seal(out, nonce, plain, []byte(ad))
}

// plainMagic marks a secret stored without a cipher: a secret has no
// fixed length to tell it from a sealed one.
var plainMagic = []byte("wpp1")

// SealSecret returns what is stored for a secret, ad naming the row it
// belongs to; a nil cipher stores it as it is, marked so.
func (c *Cipher) SealSecret(ad string, secret []byte) []byte {
	if c == nil {
		return append(append([]byte{}, plainMagic...), secret...)
	}
	return c.Seal(ad, secret)
}

// OpenSecret returns the secret SealSecret stored as stored, and whether
// it is sealed with the current key; what names it in errors.
func (c *Cipher) OpenSecret(what, ad string, stored []byte) (secret []byte, current bool, err error) {
	if bytes.HasPrefix(stored, plainMagic) {
		return stored[len(plainMagic):], c == nil, nil
	}
	return c.Unseal(what, ad, stored)
}

// Unseal opens what Seal sealed with ad; what names it in errors.
func (c *Cipher) Unseal(what, ad string, stored []byte) (plain []byte, current bool, err error) {
	if !bytes.HasPrefix(stored, sealedMagic) {
		return nil, false, fmt.Errorf("%s is malformed", what)
	}
	if c == nil {
		return nil, false, fmt.Errorf("%s is encrypted and SIGNING_KEY_ENCRYPTION_KEY is not set", what)
	}
	rest := stored[len(sealedMagic):]
	if len(rest) < keyIDLen {
		return nil, false, fmt.Errorf("%s is malformed", what)
	}
	id, rest := rest[:keyIDLen], rest[keyIDLen:]
	aead, ok := c.aeads[string(id)]
	if !ok || len(rest) < aead.NonceSize() {
		return nil, false, fmt.Errorf("%s is sealed with a key neither SIGNING_KEY_ENCRYPTION_KEY nor SIGNING_KEY_ENCRYPTION_PREVIOUS_KEYS holds", what)
	}
	plain, err = aead.Open(nil, rest[:aead.NonceSize()], rest[aead.NonceSize():], []byte(ad))
	if err != nil {
		return nil, false, fmt.Errorf("%s does not open: %w", what, err)
	}
	return plain, bytes.Equal(id, c.currentID), nil
}

// FromEnv is the cipher of SIGNING_KEY_ENCRYPTION_KEY and
// SIGNING_KEY_ENCRYPTION_PREVIOUS_KEYS (the chart's signing key Secret);
// nil when no key is set, which stores secrets as they are.
func FromEnv(e *config.Env) *Cipher {
	current := e.String("SIGNING_KEY_ENCRYPTION_KEY", "")
	if current == "" {
		return nil
	}
	c, err := New(current, e.List("SIGNING_KEY_ENCRYPTION_PREVIOUS_KEYS", nil))
	if err != nil {
		e.Fail("SIGNING_KEY_ENCRYPTION_KEY", "it or a previous key is %v", err)
	}
	return c
}
