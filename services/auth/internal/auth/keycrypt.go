package auth

import (
	"crypto/ed25519"

	"github.com/workpulse/workpulse/services/platform/sealbox"
)

// The signing keys' private parts are sealed at rest (sealbox), so that a
// copy of the database does not hold what forges tokens for every
// organization; the kid is the additional data. KeyStore.Reseal rewrites
// them at start with the current key.

// openSeed returns the seed stored as stored, and whether it is sealed
// with the current key (when not, Reseal rewrites it). A stored value of
// exactly a seed's length is a key stored before encryption.
func openSeed(c *sealbox.Cipher, kid string, stored []byte) (seed []byte, current bool, err error) {
	if len(stored) == ed25519.SeedSize {
		return stored, c == nil, nil
	}
	return c.Unseal("signing key "+kid, kid, stored)
}
