package checkout_test

import (
	"path/filepath"
	"testing"

	"creditanalysis/infra/checkout"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRootFindsGoMod(t *testing.T) {
	root, err := checkout.Root()
	require.NoError(t, err)
	assert.FileExists(t, filepath.Join(root, "go.mod"))

	t.Chdir(t.TempDir())
	_, err = checkout.Root()
	assert.Error(t, err, "no go.mod above a temporary directory")
}
