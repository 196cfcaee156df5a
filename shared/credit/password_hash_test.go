package credit_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"creditanalysis/shared/credit"

	"golang.org/x/crypto/argon2"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cheapHasher keeps the tests fast; the format and the verification are the
// same as with the default parameters.
var cheapHasher = credit.PasswordHasher{Time: 1, MemoryKiB: 64, Threads: 1}

// testPepper is a pepper as the secret store hands it over.
var testPepper = []byte("pepper-for-tests-0123456789abcdef0123456789")

// legacyHash is a hash as stored before the pepper: argon2id of the
// password itself.
func legacyHash(password string) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(password), salt, 1, 64, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=19$m=64,t=1,p=1$%s$%s", b64.EncodeToString(salt), b64.EncodeToString(key))
}

func TestPasswordHashRoundTrip(t *testing.T) {
	for _, h := range []credit.PasswordHasher{cheapHasher, credit.DefaultPasswordHasher} {
		encoded, err := h.Hash(testPepper, "Abcd@123")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(encoded, "$hmac-sha256-argon2id$v=19$"), encoded)
		assert.NotContains(t, encoded, "Abcd@123")
		assert.True(t, credit.HashNeedsPepper(encoded))

		ok, err := credit.VerifyPasswordHash(encoded, testPepper, "Abcd@123")
		require.NoError(t, err)
		assert.True(t, ok)
		for _, other := range []string{"Abcd@124", "abcd@123", "Abcd@123 ", ""} {
			ok, err := credit.VerifyPasswordHash(encoded, testPepper, other)
			require.NoError(t, err)
			assert.False(t, ok, other)
		}
	}
}

// TestStoredHashAloneCannotVerifyAGuess is a table export's view: every
// PEFIN password (six digits) tried against a stored hash, as argon2id
// without the pepper or with a wrong one, never matches the live password;
// only the pepper in the secret store makes the hash verifiable.
func TestStoredHashAloneCannotVerifyAGuess(t *testing.T) {
	const live = "135790"
	stored, err := cheapHasher.Hash(testPepper, live)
	require.NoError(t, err)

	// What the table holds, read as an unpeppered argon2id hash: the
	// attacker's best use of salt and parameters without the pepper.
	asPlain := strings.Replace(stored, "$hmac-sha256-argon2id$", "$argon2id$", 1)
	for _, guess := range []string{"000000", "123456", live, "999999"} {
		ok, err := credit.VerifyPasswordHash(asPlain, nil, guess)
		require.NoError(t, err)
		assert.False(t, ok, "without the pepper, %s does not verify", guess)
		ok, err = credit.VerifyPasswordHash(stored, []byte("a-wrong-pepper-of-the-right-length-0123456789"), guess)
		require.NoError(t, err)
		assert.False(t, ok, "with a wrong pepper, %s does not verify", guess)
	}
	for _, pepper := range [][]byte{nil, []byte("short")} {
		ok, err := credit.VerifyPasswordHash(stored, pepper, live)
		require.Error(t, err, "a peppered hash without the pepper is an error, never a mismatch")
		assert.False(t, ok)
		assert.ErrorIs(t, err, credit.ErrNoPepper)
	}
	ok, err := credit.VerifyPasswordHash(stored, testPepper, live)
	require.NoError(t, err)
	assert.True(t, ok, "with the pepper it verifies")

	_, err = cheapHasher.Hash(nil, live)
	assert.ErrorIs(t, err, credit.ErrNoPepper, "no hash is ever made without the pepper")
}

// TestLegacyHashesStillVerify: hashes stored before the pepper keep
// refusing their passwords, with or without a pepper at hand.
func TestLegacyHashesStillVerify(t *testing.T) {
	old := legacyHash("Abcd@123")
	assert.False(t, credit.HashNeedsPepper(old))
	for _, pepper := range [][]byte{nil, testPepper} {
		ok, err := credit.VerifyPasswordHash(old, pepper, "Abcd@123")
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = credit.VerifyPasswordHash(old, pepper, "Abcd@124")
		require.NoError(t, err)
		assert.False(t, ok)
	}
}

func TestPasswordHashIsSalted(t *testing.T) {
	a, err := cheapHasher.Hash(testPepper, "135790")
	require.NoError(t, err)
	b, err := cheapHasher.Hash(testPepper, "135790")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "the same password hashes differently each time")
}

func TestDefaultPasswordHasherMeetsOWASP(t *testing.T) {
	h := credit.DefaultPasswordHasher
	assert.GreaterOrEqual(t, h.MemoryKiB, uint32(19*1024))
	assert.GreaterOrEqual(t, h.Time, uint32(2))
	encoded, err := credit.PasswordHasher{}.Hash(testPepper, "x")
	require.NoError(t, err)
	assert.Contains(t, encoded, "$m=19456,t=2,p=1$", "the zero hasher is the default one")
}

func TestVerifyPasswordHashRefusesMalformed(t *testing.T) {
	good, err := cheapHasher.Hash(testPepper, "Abcd@123")
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	for name, encoded := range map[string]string{
		"empty":            "",
		"bcrypt":           "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
		"argon2i":          strings.Replace(good, "hmac-sha256-argon2id", "argon2i", 1),
		"other keying":     strings.Replace(good, "hmac-sha256", "hmac-md5", 1),
		"other version":    strings.Replace(good, "v=19", "v=16", 1),
		"huge memory":      strings.Join([]string{"", parts[1], parts[2], "m=4194304,t=1,p=1", parts[4], parts[5]}, "$"),
		"huge time":        strings.Join([]string{"", parts[1], parts[2], "m=64,t=1000,p=1", parts[4], parts[5]}, "$"),
		"zero threads":     strings.Join([]string{"", parts[1], parts[2], "m=64,t=1,p=0", parts[4], parts[5]}, "$"),
		"bad salt":         strings.Join([]string{"", parts[1], parts[2], parts[3], "!!!", parts[5]}, "$"),
		"short key":        strings.Join([]string{"", parts[1], parts[2], parts[3], parts[4], "AAAA"}, "$"),
		"missing part":     strings.Join(parts[:5], "$"),
		"plain text value": "Abcd@123",
	} {
		t.Run(name, func(t *testing.T) {
			ok, err := credit.VerifyPasswordHash(encoded, testPepper, "Abcd@123")
			require.Error(t, err, "a history that cannot be read must not let a password through")
			assert.False(t, ok)
			assert.Equal(t, credit.CodeInternal, credit.ErrorCode(err))
			assert.NotContains(t, err.Error(), "Abcd@123")
		})
	}
}
