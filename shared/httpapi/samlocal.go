package httpapi

// `sam local start-api` runs no JWT authorizer: the function gets the
// Authorization header and no claims, so every route would answer 401.
// SAM CLI sets AWS_SAM_LOCAL=true in every function it runs; then, and only
// then, the function checks the bearer token itself, with the local
// runner's HS256 key (the one `make token` signs with), which `make run`
// writes into the file `sam local --env-vars` reads. In AWS, AWS_SAM_LOCAL
// is absent and the claims come only from the API Gateway authorizer.

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// EnvSAMLocal is what SAM CLI sets to "true" in a function it runs.
	EnvSAMLocal = "AWS_SAM_LOCAL"
	// EnvSAMLocalJWTKey carries the local signing key, hex-encoded, to a
	// function under SAM CLI.
	EnvSAMLocalJWTKey = "SAM_LOCAL_JWT_KEY"

	// LocalIssuer and LocalAudience are the iss and aud of every token the
	// local runner mints.
	LocalIssuer   = "http://127.0.0.1/creditanalysis-local"
	LocalAudience = "creditanalysis-local"

	// LocalKeyBytes is the local HMAC key's length: SHA-256's block-sized
	// secret.
	LocalKeyBytes = 32
)

// SAMLocalAuth checks bearer tokens in a function run by SAM CLI.
type SAMLocalAuth struct{ key []byte }

// SAMLocalAuthFromEnv returns nil unless AWS_SAM_LOCAL is "true". Under SAM
// CLI it refuses to start without a usable SAM_LOCAL_JWT_KEY: a function
// that answered 401 to every token would hide the cause.
func SAMLocalAuthFromEnv() (*SAMLocalAuth, error) {
	if os.Getenv(EnvSAMLocal) != "true" {
		return nil, nil
	}
	v := strings.TrimSpace(os.Getenv(EnvSAMLocalJWTKey))
	if v == "" {
		return nil, fmt.Errorf("%s=true but %s is not set: SAM CLI runs no JWT authorizer, so the function checks tokens itself with the local key; pass --env-vars .local/sam-env.json (written by make run)", EnvSAMLocal, EnvSAMLocalJWTKey)
	}
	key, err := hex.DecodeString(v)
	if err != nil || len(key) < LocalKeyBytes {
		return nil, fmt.Errorf("%s is not a %d-byte hex key", EnvSAMLocalJWTKey, LocalKeyBytes)
	}
	return &SAMLocalAuth{key: key}, nil
}

// claims verifies the request's bearer token.
func (a *SAMLocalAuth) claims(r *http.Request) (map[string]string, error) {
	header := strings.TrimSpace(r.Header.Get("Authorization"))
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return nil, errors.New("no bearer token")
	}
	return VerifyLocalToken(a.key, strings.TrimSpace(token))
}

// VerifyLocalToken checks a local token (HS256 only, signed with key, exp
// and iat present and valid, issuer and audience the local ones) and returns
// its claims flattened the way API Gateway HTTP APIs hand them to Lambda in
// requestContext.authorizer.jwt.claims: every value a string, arrays as
// "[a b]".
func VerifyLocalToken(key []byte, token string) (map[string]string, error) {
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(token, claims,
		func(*jwt.Token) (any, error) { return key, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithIssuer(LocalIssuer),
		jwt.WithAudience(LocalAudience),
		jwt.WithJSONNumber(),
	)
	if err != nil {
		return nil, err
	}
	if _, ok := claims["iat"]; !ok {
		return nil, fmt.Errorf("%w: iat is required", jwt.ErrTokenRequiredClaimMissing)
	}
	out := make(map[string]string, len(claims))
	for k, v := range claims {
		out[k] = flattenClaim(v)
	}
	return out, nil
}

// flattenClaim renders one claim value as API Gateway does: strings as they
// are, numbers in their JSON form, arrays as "[a b]" (space-separated, no
// quotes), objects as "map[k:v ...]" with sorted keys.
func flattenClaim(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		return fmt.Sprint(x)
	case nil:
		return ""
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = flattenClaim(e)
		}
		return "[" + strings.Join(parts, " ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var b bytes.Buffer
		b.WriteString("map[")
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(k + ":" + flattenClaim(x[k]))
		}
		b.WriteByte(']')
		return b.String()
	}
	return fmt.Sprint(v)
}
