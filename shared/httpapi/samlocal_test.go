package httpapi_test

import (
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var samLocalKey = []byte("0123456789abcdef0123456789abcdef")

func TestSAMLocalAuthFromEnv(t *testing.T) {
	validKey := hex.EncodeToString(samLocalKey)
	tests := []struct {
		name     string
		samLocal string
		key      string
		enabled  bool
		err      string
	}{
		{"in AWS: no AWS_SAM_LOCAL, the key ignored", "", validKey, false, ""},
		{"AWS_SAM_LOCAL other than true", "1", validKey, false, ""},
		{"under SAM with the key", "true", validKey, true, ""},
		{"under SAM without the key", "true", "", false, "SAM_LOCAL_JWT_KEY is not set"},
		{"under SAM with a key that is not hex", "true", "not-hex", false, "not a 32-byte hex key"},
		{"under SAM with a short key", "true", "abcd", false, "not a 32-byte hex key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(httpapi.EnvSAMLocal, tt.samLocal)
			t.Setenv(httpapi.EnvSAMLocalJWTKey, tt.key)
			auth, err := httpapi.SAMLocalAuthFromEnv()
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				assert.NotContains(t, err.Error(), validKey, "the key never reaches a message")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.enabled, auth != nil)
		})
	}
}

// localToken signs a token the way the local runner's `make token` does.
func localToken(t *testing.T, key []byte, role credit.Role, issued time.Time, ttl time.Duration) string {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "local-" + string(role), "name": "Local", "cognito:groups": []string{httpapi.DefaultRoleGroups.GroupOf(role)},
		"iss": httpapi.LocalIssuer, "aud": httpapi.LocalAudience, "token_use": "id",
		"iat": issued.Unix(), "exp": issued.Add(ttl).Unix(),
	}).SignedString(key)
	require.NoError(t, err)
	return tok
}

// TestSAMLocalServer serves the parameters fixtures as SAM CLI hands them
// over (no authorizer block) with a bearer token, with and without the SAM
// CLI check.
func TestSAMLocalServer(t *testing.T) {
	now := time.Now()
	admin := localToken(t, samLocalKey, credit.RoleAdmin, now, time.Hour)
	tests := []struct {
		name     string
		samLocal bool
		fixture  string
		keepAuth bool // keep the fixture's authorizer claims
		bearer   string
		status   int
	}{
		{"under SAM, a local token", true, "get-parameters", false, admin, 200},
		{"in AWS, the same event", false, "get-parameters", false, admin, 401},
		{"under SAM, no token", true, "get-parameters", false, "", 401},
		{"under SAM, another key's token", true, "get-parameters", false, localToken(t, []byte("another-key-another-key-another-"), credit.RoleAdmin, now, time.Hour), 401},
		{"under SAM, an expired token", true, "get-parameters", false, localToken(t, samLocalKey, credit.RoleAdmin, now.Add(-2*time.Hour), time.Hour), 401},
		{"under SAM, the roles come from the token", true, "put-parameters", false, localToken(t, samLocalKey, credit.RoleViewer, now, time.Hour), 403},
		{"under SAM, a write by an admin", true, "put-parameters", false, admin, 200},
		{"under SAM, authorizer claims still count", true, "get-parameters", true, "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := httpapi.Config{Logger: discardLogger()}
			if tt.samLocal {
				t.Setenv(httpapi.EnvSAMLocal, "true")
				t.Setenv(httpapi.EnvSAMLocalJWTKey, hex.EncodeToString(samLocalKey))
				auth, err := httpapi.SAMLocalAuthFromEnv()
				require.NoError(t, err)
				cfg.SAMLocal = auth
			}
			h := httpapi.NewServer(cfg, &httpapi.ParametersHandler{Service: &credit.ParametersService{Store: memory.New()}})

			e := loadEvent(t, filepath.Join(eventsDir, "parameters", tt.fixture+".json"))
			if !tt.keepAuth {
				e.RequestContext.Authorizer = nil
			}
			e.Headers = withBearer(e.Headers, tt.bearer)

			resp := invoke(t, h, e)
			assert.Equal(t, tt.status, resp.StatusCode, resp.Body)
		})
	}
}

func withBearer(headers map[string]string, token string) map[string]string {
	out := map[string]string{}
	for k, v := range headers {
		if !strings.EqualFold(k, "authorization") {
			out[k] = v
		}
	}
	if token != "" {
		out["authorization"] = "Bearer " + token
	}
	return out
}
