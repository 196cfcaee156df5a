package credit

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// PasswordHasher makes the salted slow hashes (argon2id) by which replaced
// passwords are remembered to refuse their reuse: the only form in which a
// password ever reaches the database. The parameters travel inside each
// hash (PHC string format), so raising them later keeps old hashes
// verifiable.
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

// Hash returns password's argon2id hash with a fresh random salt, as
// "$argon2id$v=19$m=<KiB>,t=<passes>,p=<threads>$<salt>$<key>".
func (h PasswordHasher) Hash(password string) (string, error) {
	if h.Time == 0 || h.MemoryKiB == 0 || h.Threads == 0 {
		h = DefaultPasswordHasher
	}
	salt := make([]byte, hashSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", Internal(err, "password hash: salt")
	}
	key := argon2.IDKey([]byte(password), salt, h.Time, h.MemoryKiB, h.Threads, hashKeyBytes)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, h.MemoryKiB, h.Time, h.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

var errMalformedHash = errors.New("malformed argon2id hash")

// VerifyPasswordHash reports whether password is the one encoded was made
// from. A malformed hash is an internal error, never a silent mismatch: a
// history that cannot be read must not let a reused password through.
func VerifyPasswordHash(encoded, password string) (bool, error) {
	parts := strings.Split(encoded, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, key
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, Internal(errMalformedHash, "password hash: verify")
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
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}
