// Package localauth is the local stand-in for the identity provider behind
// API Gateway's JWT authorizer: it keeps an HS256 signing key under
// LOCAL_DATA_DIR, mints tokens that carry the same claims Cognito's ID tokens
// do, and verifies them into the flat claims map API Gateway hands to Lambda.
// Only the local runner, `make token` and the tests use it; in AWS the
// authorizer validates Cognito's RS256 tokens instead.
package localauth

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// Issuer and Audience are the iss and aud of every local token; the
	// template's authorizer takes the real ones as stack parameters.
	Issuer   = httpapi.LocalIssuer
	Audience = httpapi.LocalAudience

	// KeyFile is the key's file name inside LOCAL_DATA_DIR.
	KeyFile = "jwt.key"

	// RolesClaim is where the roles go, as in Cognito ID tokens.
	RolesClaim = "cognito:groups"
	// BranchesClaim lists the branches a user is kept to, comma-separated,
	// as a Cognito custom attribute.
	BranchesClaim = "custom:branches"
)

// keyBytes is the HMAC key length: SHA-256's block-sized secret.
const keyBytes = httpapi.LocalKeyBytes

// LoadKey returns the signing key kept in dataDir/jwt.key, creating the
// directory and a random key (mode 0600) on first use. The file holds the key
// in hex so that a developer can paste it into a JWT debugger.
func LoadKey(dataDir string) ([]byte, error) {
	path := filepath.Join(dataDir, KeyFile)
	if key, err := readKey(path); err == nil {
		return key, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, err
	}
	raw := make([]byte, keyBytes)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	// Write aside and hard-link into place: when the runner and `make token`
	// race on a fresh directory, one key wins and both read it.
	tmp, err := os.CreateTemp(dataDir, ".jwt.key-*")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, err
	}
	if _, err := tmp.WriteString(hex.EncodeToString(raw) + "\n"); err != nil {
		tmp.Close()
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	if err := os.Link(tmp.Name(), path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return readKey(path)
}

func readKey(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < keyBytes {
		return nil, fmt.Errorf("%s is not a %d-byte hex key; delete it to get a new one", path, keyBytes)
	}
	return key, nil
}

// Mint signs a token for sub holding roles, each through its group in
// httpapi.DefaultRoleGroups (the groups a function grants when ROLE_GROUPS
// is not set).
func Mint(key []byte, sub, name string, roles []credit.Role, ttl time.Duration) (string, error) {
	return MintKept(key, sub, name, roles, nil, ttl)
}

// MintKept is Mint for a user kept to branches: custom:branches holds them
// comma-separated. Nil branches leave the claim out (every branch).
func MintKept(key []byte, sub, name string, roles []credit.Role, branches []string, ttl time.Duration) (string, error) {
	return MintGroupsKept(key, sub, name, Groups(roles...), branches, ttl)
}

// Groups are the default groups that grant roles: admin -> credit-admin.
func Groups(roles ...credit.Role) []string {
	groups := make([]string, len(roles))
	for i, r := range roles {
		groups[i] = httpapi.DefaultRoleGroups.GroupOf(r)
	}
	return groups
}

// MintGroups signs a token for sub with the claims a Cognito ID token
// carries: sub, name, cognito:groups (groups, a JSON array, exactly as
// given), iss, aud, iat, exp, token_use.
func MintGroups(key []byte, sub, name string, groups []string, ttl time.Duration) (string, error) {
	return MintGroupsKept(key, sub, name, groups, nil, ttl)
}

// MintGroupsKept is MintGroups for a user kept to branches (nil: every
// branch, no claim).
func MintGroupsKept(key []byte, sub, name string, groups, branches []string, ttl time.Duration) (string, error) {
	if sub == "" {
		return "", errors.New("localauth: empty subject")
	}
	if ttl <= 0 {
		return "", errors.New("localauth: ttl must be positive")
	}
	if groups == nil {
		groups = []string{}
	}
	now := time.Now()
	claims := jwt.MapClaims{
		"sub":              sub,
		"name":             name,
		"cognito:username": sub,
		RolesClaim:         groups,
		"iss":              Issuer,
		"aud":              Audience,
		"token_use":        "id",
		"iat":              now.Unix(),
		"exp":              now.Add(ttl).Unix(),
	}
	if branches != nil {
		claims[BranchesClaim] = strings.Join(branches, ",")
	}
	return jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(key)
}

// DevToken mints a token for a made-up local user holding role through its
// default group: sub "local-<role>", name "<Role> Local".
func DevToken(key []byte, role credit.Role, ttl time.Duration) (string, error) {
	return DevTokenKept(key, role, nil, ttl)
}

// DevTokenKept is DevToken for a user kept to branches (nil: every
// branch); its sub names them: "local-<role>-7-9" for branches 7 and 9.
func DevTokenKept(key []byte, role credit.Role, branches []string, ttl time.Duration) (string, error) {
	if role == "" {
		return "", errors.New("localauth: empty role")
	}
	return MintKept(key, DevSubject(role, branches), DevName(role), []credit.Role{role}, branches, ttl)
}

// DevSubject is the made-up local user's sub: "local-<role>", followed by
// the branches it is kept to.
func DevSubject(role credit.Role, branches []string) string {
	sub := "local-" + string(role)
	if branches != nil {
		sub += "-" + strings.Join(branches, "-")
	}
	return sub
}

// DevName is the made-up local user's name for role: "Admin Local".
func DevName(role credit.Role) string {
	r := []rune(string(role))
	if len(r) == 0 {
		return "Local"
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r) + " Local"
}

// GroupsToken mints a token for the made-up local user "local-groups"
// whose groups claim is groups, exactly as given: to try what a function
// grants to groups of any name.
func GroupsToken(key []byte, groups []string, ttl time.Duration) (string, error) {
	return MintGroups(key, "local-groups", "Groups Local", groups, ttl)
}

// Verify checks token as a function does under SAM CLI (HS256 only,
// signed with key, exp and iat present and valid, issuer and audience ours)
// and returns its claims flattened the way API Gateway HTTP APIs hand them
// to Lambda in requestContext.authorizer.jwt.claims. The check itself lives
// in shared/httpapi, so the local gateway and the functions share it.
func Verify(key []byte, token string) (map[string]string, error) {
	return httpapi.VerifyLocalToken(key, token)
}
