package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"creditanalysis/shared/httpapi"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWriteSAMEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sam-env.json")
	key := []byte("0123456789abcdef0123456789abcdef")
	env := map[string]string{"TABLE_NAME": "t"}
	require.NoError(t, writeSAMEnv(path, []string{"parameters"}, env, key))

	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]map[string]string
	require.NoError(t, json.Unmarshal(b, &doc))
	want := map[string]string{"TABLE_NAME": "t", httpapi.EnvSAMLocalJWTKey: hex.EncodeToString(key)}
	assert.Equal(t, want, doc["Parameters"])
	assert.Equal(t, want, doc["ParametersFunction"])
}

func TestStandInPorts(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		api  int
		want [4]int
	}{
		{"right above the API", nil, 3000, [4]int{3001, 3002, 3003, 3004}},
		{"overridden", map[string]string{"DYNAMODB_PORT": "8000", "S3_PORT": "0"}, 3000, [4]int{8000, 0, 3003, 3004}},
		{"any free port with PORT=0", nil, 0, [4]int{0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"DYNAMODB_PORT", "S3_PORT", "SECRETSMANAGER_PORT", "CONNECTSA_PORT"} {
				t.Setenv(k, tt.env[k])
			}
			p, err := standInPorts(tt.api)
			require.NoError(t, err)
			assert.Equal(t, tt.want, [4]int{p.DynamoDB, p.S3, p.SecretsManager, p.ConnectSA})
		})
	}
	t.Setenv("S3_PORT", "http")
	_, err := standInPorts(3000)
	assert.Error(t, err)
}
