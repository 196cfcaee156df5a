package localauth_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/localauth"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

func TestMintVerifyRoundTrip(t *testing.T) {
	tok, err := localauth.Mint(testKey, "user-1", "Maria Silva", []credit.Role{credit.RoleAdmin, credit.RoleAnalyst}, time.Hour)
	require.NoError(t, err)

	claims, err := localauth.Verify(testKey, tok)
	require.NoError(t, err)
	assert.Equal(t, "user-1", claims["sub"])
	assert.Equal(t, "Maria Silva", claims["name"])
	assert.Equal(t, "[credit-admin credit-analyst]", claims["cognito:groups"], "arrays are flattened like API Gateway does")
	assert.Equal(t, localauth.Issuer, claims["iss"])
	assert.Equal(t, localauth.Audience, claims["aud"])
	assert.Regexp(t, `^\d{10}$`, claims["exp"], "numbers keep their integer form")
	assert.Regexp(t, `^\d{10}$`, claims["iat"])
	assert.Equal(t, []credit.Role{credit.RoleAdmin, credit.RoleAnalyst}, httpapi.DefaultRoleGroups.Roles(claims["cognito:groups"]))
}

func TestDevToken(t *testing.T) {
	tests := []struct {
		role     credit.Role
		wantSub  string
		wantName string
	}{
		{credit.RoleAdmin, "local-admin", "Admin Local"},
		{credit.RoleAnalyst, "local-analyst", "Analyst Local"},
		{credit.RoleCollector, "local-collector", "Collector Local"},
		{credit.RoleViewer, "local-viewer", "Viewer Local"},
	}
	for _, tt := range tests {
		t.Run(string(tt.role), func(t *testing.T) {
			tok, err := localauth.DevToken(testKey, tt.role, time.Hour)
			require.NoError(t, err)
			claims, err := localauth.Verify(testKey, tok)
			require.NoError(t, err)
			assert.Equal(t, tt.wantSub, claims["sub"])
			assert.Equal(t, tt.wantName, claims["name"])
			assert.Equal(t, "[credit-"+string(tt.role)+"]", claims["cognito:groups"])
			assert.Equal(t, []credit.Role{tt.role}, httpapi.DefaultRoleGroups.Roles(claims["cognito:groups"]))
		})
	}
}

// TestDevTokenKept: `make token BRANCHES=7,9` puts the branches in
// custom:branches, comma-separated; without them the claim is absent.
func TestDevTokenKept(t *testing.T) {
	tests := []struct {
		name     string
		branches []string
		wantSub  string
		claim    string
		present  bool
	}{
		{"two branches", []string{"7", "9"}, "local-collector-7-9", "7,9", true},
		{"one branch", []string{"7"}, "local-collector-7", "7", true},
		{"every branch", nil, "local-collector", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := localauth.DevTokenKept(testKey, credit.RoleCollector, tt.branches, time.Hour)
			require.NoError(t, err)
			claims, err := localauth.Verify(testKey, tok)
			require.NoError(t, err)
			assert.Equal(t, tt.wantSub, claims["sub"])
			got, ok := claims[localauth.BranchesClaim]
			assert.Equal(t, tt.present, ok)
			assert.Equal(t, tt.claim, got)
		})
	}
}

// sign builds a token with arbitrary claims and method, for the refusals.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(method, claims).SignedString(key)
	require.NoError(t, err)
	return tok
}

func validClaims() jwt.MapClaims {
	now := time.Now()
	return jwt.MapClaims{
		"sub": "user-1", "iss": localauth.Issuer, "aud": localauth.Audience,
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	}
}

func with(c jwt.MapClaims, k string, v any) jwt.MapClaims {
	c[k] = v
	return c
}

func without(c jwt.MapClaims, k string) jwt.MapClaims {
	delete(c, k)
	return c
}

func TestVerifyRefuses(t *testing.T) {
	valid := sign(t, jwt.SigningMethodHS256, testKey, validClaims())
	parts := strings.Split(valid, ".")
	tests := []struct {
		name  string
		token string
	}{
		{"empty", ""},
		{"garbage", "not-a-token"},
		{"other key", sign(t, jwt.SigningMethodHS256, []byte("another-key-another-key-another!!"), validClaims())},
		{"HS384", sign(t, jwt.SigningMethodHS384, testKey, validClaims())},
		{"alg none", sign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, validClaims())},
		{"tampered payload", parts[0] + "." + strings.TrimRight(parts[1], "=") + "x." + parts[2]},
		{"expired", sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "exp", time.Now().Add(-time.Minute).Unix()))},
		{"no exp", sign(t, jwt.SigningMethodHS256, testKey, without(validClaims(), "exp"))},
		{"no iat", sign(t, jwt.SigningMethodHS256, testKey, without(validClaims(), "iat"))},
		{"iat in the future", sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "iat", time.Now().Add(time.Hour).Unix()))},
		{"wrong issuer", sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "iss", "https://evil.example"))},
		{"no issuer", sign(t, jwt.SigningMethodHS256, testKey, without(validClaims(), "iss"))},
		{"wrong audience", sign(t, jwt.SigningMethodHS256, testKey, with(validClaims(), "aud", "someone-else"))},
		{"no audience", sign(t, jwt.SigningMethodHS256, testKey, without(validClaims(), "aud"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			claims, err := localauth.Verify(testKey, tt.token)
			assert.Error(t, err)
			assert.Nil(t, claims)
		})
	}
}

func TestVerifyFlattensClaims(t *testing.T) {
	c := validClaims()
	c["cognito:groups"] = []string{"admin", "viewer"}
	c["email_verified"] = true
	c["custom:branch"] = map[string]any{"id": 7, "uf": "SP"}
	c["single"] = []string{"collector"}
	claims, err := localauth.Verify(testKey, sign(t, jwt.SigningMethodHS256, testKey, c))
	require.NoError(t, err)

	tests := map[string]string{
		"cognito:groups": "[admin viewer]",
		"single":         "[collector]",
		"email_verified": "true",
		"custom:branch":  "map[id:7 uf:SP]",
		"sub":            "user-1",
	}
	for claim, want := range tests {
		assert.Equal(t, want, claims[claim], claim)
	}
}

func TestGroupsToken(t *testing.T) {
	tok, err := localauth.GroupsToken(testKey, []string{"finance,credit-admin", "CREDIT-ADMIN", "credit-viewer"}, time.Hour)
	require.NoError(t, err)
	claims, err := localauth.Verify(testKey, tok)
	require.NoError(t, err)
	assert.Equal(t, "local-groups", claims["sub"])
	assert.Equal(t, "[finance,credit-admin CREDIT-ADMIN credit-viewer]", claims["cognito:groups"])
	assert.Equal(t, []credit.Role{credit.RoleViewer}, httpapi.DefaultRoleGroups.Roles(claims["cognito:groups"]))
}

func TestMintRefuses(t *testing.T) {
	_, err := localauth.Mint(testKey, "", "x", nil, time.Hour)
	assert.Error(t, err)
	_, err = localauth.Mint(testKey, "u", "x", nil, 0)
	assert.Error(t, err)
	_, err = localauth.DevToken(testKey, "", time.Hour)
	assert.Error(t, err)
}

func TestLoadKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")

	key, err := localauth.LoadKey(dir)
	require.NoError(t, err)
	assert.Len(t, key, 32)

	info, err := os.Stat(filepath.Join(dir, localauth.KeyFile))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm())

	again, err := localauth.LoadKey(dir)
	require.NoError(t, err)
	assert.Equal(t, key, again, "the key is kept, not regenerated")

	other, err := localauth.LoadKey(t.TempDir())
	require.NoError(t, err)
	assert.NotEqual(t, key, other)

	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}

func TestLoadKeyRefusesACorruptFile(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, localauth.KeyFile), []byte("short"), 0o600))
	_, err := localauth.LoadKey(dir)
	assert.ErrorContains(t, err, "delete it")
}
