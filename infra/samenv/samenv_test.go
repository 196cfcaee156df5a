package samenv_test

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"creditanalysis/infra/samenv"
	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/httpapi"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLogicalID(t *testing.T) {
	tests := map[string]string{
		"parameters":    "ParametersFunction",
		"billing-rule":  "BillingRuleFunction",
		"consultations": "ConsultationsFunction",
		"reports":       "ReportsFunction",
	}
	for area, want := range tests {
		assert.Equal(t, want, samenv.LogicalID(area), area)
	}
}

func TestEnv(t *testing.T) {
	t.Setenv("ROLE_GROUPS", "")
	t.Setenv("ROLES_CLAIM", "")
	key := []byte("0123456789abcdef0123456789abcdef")
	stack := map[string]string{"TABLE_NAME": "t", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:3001"}
	env := samenv.Env(stack, key)
	assert.Equal(t, map[string]string{
		"TABLE_NAME":                "t",
		"AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:3001",
		httpapi.EnvSAMLocalJWTKey:   hex.EncodeToString(key),
	}, env)
	assert.NotContains(t, stack, httpapi.EnvSAMLocalJWTKey, "the stack's map is left alone")
	assert.NotContains(t, env, httpapi.EnvSAMLocal, "SAM CLI sets AWS_SAM_LOCAL itself")
}

func TestEnvKeepsTheRunnersRoleGroups(t *testing.T) {
	t.Setenv("ROLE_GROUPS", "admin=TI,viewer=Leitura")
	t.Setenv("ROLES_CLAIM", "")
	env := samenv.Env(map[string]string{"TABLE_NAME": "t"}, []byte("0123456789abcdef0123456789abcdef"))
	assert.Equal(t, "admin=TI,viewer=Leitura", env["ROLE_GROUPS"])
	assert.NotContains(t, env, "ROLES_CLAIM", "unset keeps the template's default")
}

func TestWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sam-env.json")
	// A file left from before with a wider mode must not keep it.
	require.NoError(t, os.WriteFile(path, []byte("{}"), 0o644))
	env := map[string]string{"TABLE_NAME": "t", httpapi.EnvSAMLocalJWTKey: "ab"}
	require.NoError(t, samenv.Write(path, []string{"parameters", "billing-rule"}, env))

	info, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), info.Mode().Perm(), "the file holds the signing key")

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]map[string]string
	require.NoError(t, json.Unmarshal(b, &doc))
	billing := map[string]string{"TABLE_NAME": "t", httpapi.EnvSAMLocalJWTKey: "ab", billingrule.EnvFunctionName: ""}
	assert.Equal(t, map[string]map[string]string{
		"Parameters":          env,
		"ParametersFunction":  env,
		"BillingRuleFunction": billing,
	}, doc)
}
