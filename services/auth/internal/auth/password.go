package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/workpulse/workpulse/services/platform/apierr"
)

// Argon2id parameters: the OWASP minimum (19 MiB, 2 passes), chosen so a
// 2-core node still serves logins while under load.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
	argonSaltLen   = 16

	// argonMemoryBytes is what one hash allocates: the unit the hashing
	// budget is counted in.
	argonMemoryBytes = argonMemoryKiB * 1024
)

// ErrHashingBusy answers a login or registration that found every hashing
// slot taken and the queue full: 503 with Retry-After, so that a flood of
// logins costs the flooder retries instead of costing auth its memory.
var ErrHashingBusy = apierr.ErrUnavailable.WithMessage("too many logins and registrations at once; retry in a second")

// Hasher runs argon2id with a bounded number of hashes in memory at once.
// Each hash allocates argonMemoryBytes, so an unbounded number of
// concurrent logins grows the process without limit (100 concurrent
// logins took auth past 900 MiB); the slots are sized to the memory
// budget and a short queue absorbs bursts. A request that finds the queue
// full is refused at once rather than waiting: waiting callers hold their
// connections and a flood would only move the pile-up.
type Hasher struct {
	slots chan struct{} // a token per hash allowed to run
	queue chan struct{} // a token per caller allowed to wait for a slot
}

// NewHasher allows slots hashes at once and queue callers waiting.
func NewHasher(slots, queue int) *Hasher {
	return &Hasher{slots: make(chan struct{}, max(1, slots)), queue: make(chan struct{}, max(0, queue))}
}

// HashSlots is how many hashes fit in budget bytes, at least one.
func HashSlots(budget int64) int {
	return int(max(1, budget/argonMemoryBytes))
}

// acquire takes a slot, waiting in the queue when there is room in it.
func (h *Hasher) acquire(ctx context.Context) (release func(), err error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	default:
	}
	select {
	case h.queue <- struct{}{}:
	default:
		return nil, ErrHashingBusy
	}
	defer func() { <-h.queue }()
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, ErrHashingBusy
	}
}

// Hash is HashPassword within the bound.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return HashPassword(password)
}

// Verify is VerifyPassword within the bound.
func (h *Hasher) Verify(ctx context.Context, hash, password string) (bool, error) {
	release, err := h.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return VerifyPassword(hash, password)
}

// HashPassword returns a PHC-formatted argon2id hash.
func HashPassword(password string) (string, error) {
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// VerifyPassword checks password against a hash made by HashPassword,
// honouring the parameters recorded in the hash, or against a bcrypt hash
// of the original system's, which its users bring along (migrate
// import-original) until their first login replaces it (NeedsRehash).
func VerifyPassword(hash, password string) (bool, error) {
	if isBcrypt(hash) {
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		return err == nil, err
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errors.New("auth: unsupported password hash")
	}
	var version int
	var mem, iters uint32
	var threads uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errors.New("auth: unsupported argon2 version")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &mem, &iters, &threads); err != nil {
		return false, errors.New("auth: malformed argon2 parameters")
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, err
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, iters, mem, threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// NeedsRehash tells a hash that is not argon2id, so that a login that
// verified it stores the password's argon2id hash instead.
func NeedsRehash(hash string) bool { return isBcrypt(hash) }

// isBcrypt recognises the modular-crypt prefixes bcrypt writes ($2a$,
// $2b$, $2y$).
func isBcrypt(hash string) bool {
	return len(hash) > 4 && hash[0] == '$' && hash[1] == '2' && hash[3] == '$'
}

// dummyHash is verified against when an email is unknown, so that a
// failed login takes as long whether or not the account exists.
var dummyHash, _ = HashPassword("workpulse-timing-equalizer")
