package auth

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// KeyCipher seals the signing keys' private parts at rest with AES-256-GCM,
// so that a copy of the database (a backup, a replica, a read-only role)
// does not hold what forges tokens for every organization. The current key
// seals; previous keys still open what they sealed until the service has
// resealed it at start (KeyStore.Reseal), which is how the key is rotated.
//
// A sealed key is magic, the sealing key's id (the first 8 bytes of its
// SHA-256), a nonce and the ciphertext; the kid is the additional data, so
// a sealed key cannot be moved to another row. A stored value of exactly a
// seed's length is a key stored before encryption.
type KeyCipher struct {
	currentID []byte
	aeads     map[string]cipher.AEAD // by key id
}

var sealedMagic = []byte("wpk1")

const keyIDLen = 8

// NewKeyCipher seals with current and opens with current and previous;
// each is a base64 encoding of 32 random bytes.
func NewKeyCipher(current string, previous []string) (*KeyCipher, error) {
	c := &KeyCipher{aeads: map[string]cipher.AEAD{}}
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

// seal returns what is stored for seed, bound to ad (a signing key's kid);
// a nil cipher stores it as it is.
func (c *KeyCipher) seal(ad string, seed []byte) []byte {
	if c == nil {
		return seed
	}
	aead := c.aeads[string(c.currentID)]
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	out := append(append(append([]byte{}, sealedMagic...), c.currentID...), nonce...)
	return aead.Seal(out, nonce, seed, []byte(ad))
}

// open returns the seed stored as stored, and whether it is sealed with
// the current key (when not, Reseal rewrites it).
func (c *KeyCipher) open(kid string, stored []byte) (seed []byte, current bool, err error) {
	if len(stored) == ed25519.SeedSize {
		return stored, c == nil, nil
	}
	return c.unseal("signing key "+kid, kid, stored)
}

// plainMagic marks a secret stored without a cipher: unlike a signing
// key's seed, a secret has no fixed length to tell it from a sealed one.
var plainMagic = []byte("wpp1")

// sealSecret returns what is stored for an SSO client secret, ad naming
// the row it belongs to; a nil cipher stores it as it is, marked so.
func (c *KeyCipher) sealSecret(ad string, secret []byte) []byte {
	if c == nil {
		return append(append([]byte{}, plainMagic...), secret...)
	}
	return c.seal(ad, secret)
}

// openSecret returns the secret sealSecret stored as stored, and whether
// it is sealed with the current key.
func (c *KeyCipher) openSecret(what, ad string, stored []byte) (secret []byte, current bool, err error) {
	if bytes.HasPrefix(stored, plainMagic) {
		return stored[len(plainMagic):], c == nil, nil
	}
	return c.unseal(what, ad, stored)
}

// unseal opens what seal sealed with ad; what names it in errors.
func (c *KeyCipher) unseal(what, ad string, stored []byte) (plain []byte, current bool, err error) {
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
