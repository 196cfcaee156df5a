package creditanalysis_test

// SAM CLI's side of template.yaml and samconfig.toml: what `sam local`
// hands the functions, and how `sam build` builds them.

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"creditanalysis/infra/samenv"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/httpapi"

	"github.com/BurntSushi/toml"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// samLocalTemplate reads template.yaml with intrinsic functions in long
// form and nothing resolved.
func samLocalTemplate(t *testing.T) map[string]any {
	t.Helper()
	data, err := os.ReadFile(templateFile)
	require.NoError(t, err)
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	require.NoError(t, err)
	var raw map[string]any
	require.NoError(t, json.Unmarshal(js, &raw))
	return raw
}

// samLocalFunctions lists the template's AWS::Serverless::Function ids.
func samLocalFunctions(raw map[string]any) []string {
	var ids []string
	for id, res := range raw["Resources"].(map[string]any) {
		if res.(map[string]any)["Type"] == "AWS::Serverless::Function" {
			ids = append(ids, id)
		}
	}
	return ids
}

// samLocalVariables is a function's Environment.Variables: the Globals'
// when id is empty.
func samLocalVariables(raw map[string]any, id string) map[string]any {
	var node any = raw
	path := []string{"Globals", "Function", "Environment", "Variables"}
	if id != "" {
		path = []string{"Resources", id, "Properties", "Environment", "Variables"}
	}
	for _, k := range path {
		m, _ := node.(map[string]any)
		node = m[k]
	}
	vars, _ := node.(map[string]any)
	return vars
}

// TestTemplateLeavesSAMLocalOff: a function checks tokens itself only when
// SAM CLI sets AWS_SAM_LOCAL=true, so the template never sets it, and
// declares the local key empty (SAM CLI's --env-vars only fills variables
// the template declares), for every function alike.
func TestTemplateLeavesSAMLocalOff(t *testing.T) {
	raw := samLocalTemplate(t)
	globals := samLocalVariables(raw, "")
	assert.NotContains(t, globals, httpapi.EnvSAMLocal, "Globals")
	if v, ok := globals[httpapi.EnvSAMLocalJWTKey]; ok {
		assert.Equal(t, "", v, "Globals: %s is declared empty, never given a key", httpapi.EnvSAMLocalJWTKey)
	}
	fns := samLocalFunctions(raw)
	require.NotEmpty(t, fns)
	for _, id := range fns {
		vars := samLocalVariables(raw, id)
		assert.NotContains(t, vars, httpapi.EnvSAMLocal, id)
		assert.NotContains(t, vars, httpapi.EnvSAMLocalJWTKey, "%s: declared once, empty, in Globals", id)
	}
}

// samProvided are variables SAM CLI gives every function from the
// developer's own AWS configuration, whatever the file says.
var samProvided = map[string]bool{
	"AWS_REGION": true, "AWS_DEFAULT_REGION": true, "AWS_ACCESS_KEY_ID": true, "AWS_SECRET_ACCESS_KEY": true,
}

// TestSAMEnvReachesEveryFunction writes sam-env.json with the local
// runner's writer and checks that SAM CLI would hand each function all of
// it: every variable in the function's section is one the template declares
// for it, the local key among them, and the billing-rule function's name is
// overridden empty, so a started run executes in process.
func TestSAMEnvReachesEveryFunction(t *testing.T) {
	st := &stack.Stack{
		DynamoDBEndpoint: "http://127.0.0.1:3101", S3Endpoint: "http://127.0.0.1:3102",
		SecretsManagerEndpoint: "http://127.0.0.1:3103", ConnectSAEndpoint: "http://127.0.0.1:3104",
	}
	path := filepath.Join(t.TempDir(), "sam-env.json")
	require.NoError(t, samenv.Write(path, allareas.Names(), samenv.Env(st.Env(), make([]byte, httpapi.LocalKeyBytes))))
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var doc map[string]map[string]string
	require.NoError(t, json.Unmarshal(b, &doc))

	raw := samLocalTemplate(t)
	globals := samLocalVariables(raw, "")
	for _, id := range samLocalFunctions(raw) {
		section, ok := doc[id]
		if !assert.True(t, ok, "sam-env.json has no section for %s", id) {
			continue
		}
		own := samLocalVariables(raw, id)
		for name := range section {
			_, global := globals[name]
			_, declared := own[name]
			assert.True(t, samProvided[name] || global || declared,
				"%s: sam-env.json sets %s, which the template does not declare, so SAM CLI drops it", id, name)
		}
		assert.NotEmpty(t, section[httpapi.EnvSAMLocalJWTKey], id)
		if id == "BillingRuleFunction" {
			assert.Contains(t, own, billingrule.EnvFunctionName, id)
			v, ok := section[billingrule.EnvFunctionName]
			assert.True(t, ok && v == "", "%s: %s must be overridden empty for an in-process run, got %q", id, billingrule.EnvFunctionName, v)
		}
	}
}

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
