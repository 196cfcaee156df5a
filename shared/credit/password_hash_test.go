package credit_test

import (
	"strings"
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cheapHasher keeps the tests fast; the format and the verification are the
// same as with the default parameters.
var cheapHasher = credit.PasswordHasher{Time: 1, MemoryKiB: 64, Threads: 1}

func TestPasswordHashRoundTrip(t *testing.T) {
	for _, h := range []credit.PasswordHasher{cheapHasher, credit.DefaultPasswordHasher} {
		encoded, err := h.Hash("Abcd@123")
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(encoded, "$argon2id$v=19$"), encoded)
		assert.NotContains(t, encoded, "Abcd@123")

		ok, err := credit.VerifyPasswordHash(encoded, "Abcd@123")
		require.NoError(t, err)
		assert.True(t, ok)
		for _, other := range []string{"Abcd@124", "abcd@123", "Abcd@123 ", ""} {
			ok, err := credit.VerifyPasswordHash(encoded, other)
			require.NoError(t, err)
			assert.False(t, ok, other)
		}
	}
}

func TestPasswordHashIsSalted(t *testing.T) {
	a, err := cheapHasher.Hash("135790")
	require.NoError(t, err)
	b, err := cheapHasher.Hash("135790")
	require.NoError(t, err)
	assert.NotEqual(t, a, b, "the same password hashes differently each time")
}

func TestDefaultPasswordHasherMeetsOWASP(t *testing.T) {
	h := credit.DefaultPasswordHasher
	assert.GreaterOrEqual(t, h.MemoryKiB, uint32(19*1024))
	assert.GreaterOrEqual(t, h.Time, uint32(2))
	encoded, err := credit.PasswordHasher{}.Hash("x")
	require.NoError(t, err)
	assert.Contains(t, encoded, "$m=19456,t=2,p=1$", "the zero hasher is the default one")
}

func TestVerifyPasswordHashRefusesMalformed(t *testing.T) {
	good, err := cheapHasher.Hash("Abcd@123")
	require.NoError(t, err)
	parts := strings.Split(good, "$")
	for name, encoded := range map[string]string{
		"empty":            "",
		"bcrypt":           "$2a$10$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ012345",
		"argon2i":          strings.Replace(good, "argon2id", "argon2i", 1),
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
			ok, err := credit.VerifyPasswordHash(encoded, "Abcd@123")
			require.Error(t, err, "a history that cannot be read must not let a password through")
			assert.False(t, ok)
			assert.Equal(t, credit.CodeInternal, credit.ErrorCode(err))
			assert.NotContains(t, err.Error(), "Abcd@123")
		})
	}
}
