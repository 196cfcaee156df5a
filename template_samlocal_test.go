package creditanalysis_test

// SAM CLI's side of template.yaml and samconfig.toml: what `sam local`
// hands the functions, and how `sam build` builds them.

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSAMBuildIsNotCached: SAM's build cache keys a function on its CodeUri
// folder alone, which holds a one-line main.go, so a cached build would
// deploy a binary older than shared/ or go.mod. Its output stays out of git.
func TestSAMBuildIsNotCached(t *testing.T) {
	var doc map[string]any
	_, err := toml.DecodeFile("samconfig.toml", &doc)
	require.NoError(t, err)
	builds := 0
	for env, v := range doc {
		table, _ := v.(map[string]any) // version is a number
		build, _ := table["build"].(map[string]any)
		params, ok := build["parameters"].(map[string]any)
		if !ok {
			continue
		}
		builds++
		assert.Equal(t, false, params["cached"], "[%s.build.parameters] cached", env)
	}
	assert.NotZero(t, builds, "samconfig.toml has no build parameters")

	out, err := exec.Command("git", "check-ignore", "-v", ".aws-sam/build/template.yaml").CombinedOutput()
	assert.NoError(t, err, "SAM's build output .aws-sam/ is not ignored by git: %s", strings.TrimSpace(string(out)))
}
