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
