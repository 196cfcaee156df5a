package credit

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordHasher makes the keyed, salted slow hashes by which replaced
// passwords are remembered to refuse their reuse: the only form in which a
// password ever reaches the database. A password is first keyed with the
// pepper (HMAC-SHA256), a secret kept in the secret store and never beside
// the hashes, then hashed with argon2id: a copy of the table alone cannot
// test a guess, not even against the PEFIN password's 10^6 possibilities.
// The parameters travel inside each hash (PHC string format), so raising
// them later keeps old hashes verifiable.
//
// Hashes made before the pepper ("$argon2id$...", without it) are still
// verified, so that the history keeps refusing those passwords; every new
// hash is peppered ("$hmac-sha256-argon2id$..."). The old ones stay until
// they leave the history.
type PasswordHasher struct {
	// Time is argon2's number of passes.
	Time uint32
	// MemoryKiB is the memory each hash takes.
	MemoryKiB uint32
	// Threads is argon2's parallelism.
	Threads uint8
}

// DefaultPasswordHasher follows OWASP's minimum for argon2id (19 MiB, two
// passes, one thread): a few tens of milliseconds per hash, well inside a
// 256 MB function.
var DefaultPasswordHasher = PasswordHasher{Time: 2, MemoryKiB: 19 * 1024, Threads: 1}

const (
	hashSaltBytes = 16
	hashKeyBytes  = 32
	// Bounds on the parameters read back from a stored hash, so that a
	// corrupted or hostile item cannot make a verification take the
	// function's memory or time.
	maxHashMemoryKiB = 256 * 1024
	maxHashTime      = 16
)

// PepperSource gives the pepper every password hash is keyed with. The
// adapter reads it from the secret store once and keeps it.
type PepperSource interface {
	Pepper(ctx context.Context) ([]byte, error)
}

// MinPepperBytes is the shortest pepper accepted: SHA-256's output size.
const MinPepperBytes = 32

const (
	// pepperedHashID names the peppered hashes; legacyHashID the hashes
	// made before the pepper.
	pepperedHashID = "hmac-sha256-argon2id"
	legacyHashID   = "argon2id"
)

// ErrNoPepper is the internal error of a hash or a verification that needs
// the pepper without one.
var ErrNoPepper = errors.New("password hash: no pepper (at least 32 bytes) configured")

// keyed is password keyed with pepper: what argon2id hashes.
func keyed(pepper []byte, password string) []byte {
	mac := hmac.New(sha256.New, pepper)
	mac.Write([]byte(password))
	return mac.Sum(nil)
}

// Hash returns password's peppered hash with a fresh random salt, as
// "$hmac-sha256-argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<key>",
// key being argon2id(HMAC-SHA256(pepper, password), salt).
func (h PasswordHasher) Hash(pepper []byte, password string) (string, error) {
	if len(pepper) < MinPepperBytes {
		return "", Internal(ErrNoPepper, "password hash")
	}
	if h.Time == 0 || h.MemoryKiB == 0 || h.Threads == 0 {
		h = DefaultPasswordHasher
	}
	salt := make([]byte, hashSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", Internal(err, "password hash: salt")
	}
	key := argon2.IDKey(keyed(pepper, password), salt, h.Time, h.MemoryKiB, h.Threads, hashKeyBytes)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", pepperedHashID, argon2.Version, h.MemoryKiB, h.Time, h.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// HashNeedsPepper reports whether verifying encoded takes the pepper: every
// hash but those made before it.
func HashNeedsPepper(encoded string) bool {
	return !strings.HasPrefix(encoded, "$"+legacyHashID+"$")
}

var errMalformedHash = errors.New("malformed argon2id hash")

// VerifyPasswordHash reports whether password is the one encoded was made
// from, keyed with pepper; a hash made before the pepper is verified
// without it. A malformed hash, or a peppered one without the pepper, is an
// internal error, never a silent mismatch: a history that cannot be read
// must not let a reused password through.
func VerifyPasswordHash(encoded string, pepper []byte, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	// "", id, "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || (parts[1] != legacyHashID && parts[1] != pepperedHashID) {
		return false, Internal(errMalformedHash, "password hash: verify")
	}
	input := []byte(password)
	if parts[1] == pepperedHashID {
		if len(pepper) < MinPepperBytes {
			return false, Internal(ErrNoPepper, "password hash: verify")
		}
		input = keyed(pepper, password)
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, Internal(errMalformedHash, "password hash: version")
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil ||
		m == 0 || m > maxHashMemoryKiB || t == 0 || t > maxHashTime || p == 0 {
		return false, Internal(errMalformedHash, "password hash: parameters")
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	key, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 || len(key) > 64 {
		return false, Internal(errMalformedHash, "password hash: salt or key")
	}
	got := argon2.IDKey(input, salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}
