package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/localauth"
	"creditanalysis/infra/samenv"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/goformation/v7/intrinsics"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSAMLocal runs functions' bootstraps under the runtime emulator the way
// `sam local start-api --env-vars .local/sam-env.json` runs them: with the
// variables the template declares, filled from the sam-env.json the local
// runner writes, and AWS_SAM_LOCAL=true; the events carry no authorizer
// block, as SAM CLI runs no JWT authorizer, and a bearer token as `make
// token` prints it. Without AWS_SAM_LOCAL the same event is refused, as in
// AWS, where only the authorizer's claims count.
func TestSAMLocal(t *testing.T) {
	root := moduleRoot(t)
	rie := rieBinary(t, root)
	ctx := context.Background()

	st := startStack(t)

	dataDir := t.TempDir()
	key, err := localauth.LoadKey(dataDir)
	require.NoError(t, err)
	envFile := filepath.Join(dataDir, "sam-env.json")
	require.NoError(t, samenv.Write(envFile, allareas.Names(), samenv.Env(st.Env(), key)))
	token := makeToken(t, root, dataDir, "admin")

	// SAM CLI takes the region and credentials from the developer's own AWS
	// configuration, not from the file; these stand for them.
	shell := map[string]string{}
	for _, k := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		shell[k] = st.Env()[k]
	}
	underSAM := func(logicalID string) map[string]string {
		env := samFunctionEnv(t, root, envFile, logicalID)
		maps.Copy(env, shell)
		env[httpapi.EnvSAMLocal] = "true"
		return env
	}
	// withoutAuthorizer is a fixture as SAM CLI builds the event: no
	// authorizer block, the caller's Authorization header as sent.
	withoutAuthorizer := func(function, fixture, bearer string) events.APIGatewayV2HTTPRequest {
		e := loadFixture(t, root, function, fixture)
		e.RequestContext.Authorizer = nil
		e.Headers["authorization"] = "Bearer " + bearer
		return e
	}

	t.Run("parameters", func(t *testing.T) {
		bootstrap := buildFunction(t, root, "parameters")
		sam := underSAM("ParametersFunction")
		get := withoutAuthorizer("parameters", "get-parameters", token)

		url, _ := startPasswordsRIE(t, rie, bootstrap, sam)
		answer := invokeHTTP(t, url, get)
		assert.Equal(t, 200, answer.StatusCode, answer.Body)
		assert.JSONEq(t, `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`, answer.Body)

		put := withoutAuthorizer("parameters", "put-parameters", makeToken(t, root, dataDir, "viewer"))
		answer = invokeHTTP(t, url, put)
		assert.Equal(t, 403, answer.StatusCode, "the token's roles decide: %s", answer.Body)

		other := get
		other.Headers = maps.Clone(get.Headers)
		other.Headers["authorization"] = "Bearer " + makeToken(t, root, t.TempDir(), "admin")
		answer = invokeHTTP(t, url, other)
		assert.Equal(t, 401, answer.StatusCode, "a token signed with another key: %s", answer.Body)

		inAWS := maps.Clone(sam)
		delete(inAWS, httpapi.EnvSAMLocal)
		url, _ = startPasswordsRIE(t, rie, bootstrap, inAWS)
		answer = invokeHTTP(t, url, get)
		assert.Equal(t, 401, answer.StatusCode, "without AWS_SAM_LOCAL: %s", answer.Body)
		assert.Contains(t, answer.Body, `"code":"unauthorized"`)

		noKey := maps.Clone(sam)
		delete(noKey, httpapi.EnvSAMLocalJWTKey)
		url, logs := startPasswordsRIE(t, rie, bootstrap, noKey)
		status, body := invokeAny(t, url, get)
		assert.False(t, status == http.StatusOK && !strings.Contains(body, "errorType"),
			"under SAM CLI without the key the function must not start; it answered %d %s", status, body)
		assert.Eventually(t, func() bool { return strings.Contains(logs.String(), "SAM_LOCAL_JWT_KEY is not set") },
			10*time.Second, 50*time.Millisecond, "the startup log says why: %s", logs.String())
		assert.NotContains(t, logs.String(), fmt.Sprintf("%x", key), "the key never reaches a log")
	})

	t.Run("billing-rule runs in process", func(t *testing.T) {
		store := dynamo.New(st.Clients().DynamoDB, st.Env()["TABLE_NAME"])
		require.NoError(t, store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
		t.Cleanup(func() { _ = store.PutParameters(context.Background(), credit.Parameters{}) })

		sam := underSAM("BillingRuleFunction")
		require.Contains(t, sam, billingrule.EnvFunctionName)
		url, logs := startPasswordsRIE(t, rie, buildFunction(t, root, "billing-rule"), sam)

		start := invokeHTTP(t, url, withoutAuthorizer("billing-rule", "start-run", token))
		require.Equal(t, 202, start.StatusCode, start.Body)
		var run billingRun
		require.NoError(t, json.Unmarshal([]byte(start.Body), &run))

		get := withoutAuthorizer("billing-rule", "get-run-missing", token)
		get.RawPath = "/billing-rule/runs/" + run.ID
		get.RequestContext.HTTP.Path = get.RawPath
		get.PathParameters = map[string]string{"id": run.ID}
		for deadline := time.Now().Add(60 * time.Second); ; { // a guard against a hang, not a timing
			resp := invokeHTTP(t, url, get)
			require.Equal(t, 200, resp.StatusCode, resp.Body)
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &run))
			if run.Status != "running" {
				break
			}
			require.True(t, time.Now().Before(deadline), "the run never ended: %s", logs.String())
			time.Sleep(100 * time.Millisecond)
		}
		assert.Equal(t, "manual", run.Trigger)
		assert.Equal(t, "finished", run.Status, "%+v", run.Errors)
		assert.Contains(t, logs.String(), `"msg":"billing run ended"`, "the run ended in the function's own process")
	})
}

// makeToken runs `make token` as a developer does and returns its last
// line, with the signing key kept in dataDir.
func makeToken(t *testing.T, root, dataDir string, role credit.Role) string {
	t.Helper()
	cmd := exec.Command("make", "--no-print-directory", "-s", "token", "ROLE="+string(role), "LOCAL_DATA_DIR="+dataDir)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "LOCAL_DATA_DIR="+dataDir)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "make token: %s", stderr.String())
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// samFunctionEnv is the environment SAM CLI gives a function from
// template.yaml and an --env-vars file: only the variables the template
// declares (Globals and the function's own), each overridden by the
// file's "Parameters" and then by the function's section; a variable the
// file leaves alone keeps the template's value (a parameter's default for
// a Ref).
func samFunctionEnv(t *testing.T, root, envFile, logicalID string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "template.yaml"))
	require.NoError(t, err)
	js, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	require.NoError(t, err)
	var tmpl struct {
		Parameters map[string]struct{ Default any }
		Globals    struct {
			Function struct {
				Environment struct{ Variables map[string]any }
			}
		}
		Resources map[string]struct {
			Properties struct {
				Environment struct{ Variables map[string]any }
			}
		}
	}
	require.NoError(t, json.Unmarshal(js, &tmpl))
	fn, ok := tmpl.Resources[logicalID]
	require.True(t, ok, "template.yaml has no %s", logicalID)
	declared := maps.Clone(tmpl.Globals.Function.Environment.Variables)
	maps.Copy(declared, fn.Properties.Environment.Variables)

	raw, err := os.ReadFile(envFile)
	require.NoError(t, err)
	var file map[string]map[string]string
	require.NoError(t, json.Unmarshal(raw, &file))

	env := map[string]string{}
	for name, v := range declared {
		switch x := v.(type) {
		case string:
			env[name] = x
		case map[string]any:
			// SAM CLI resolves a Ref to a parameter's default or a
			// resource's logical id, and substitutes Fn::Sub's references.
			resolve := func(ref string) string {
				if p, ok := tmpl.Parameters[ref]; ok && p.Default != nil {
					return fmt.Sprint(p.Default)
				}
				return ref
			}
			if ref, ok := x["Ref"].(string); ok {
				env[name] = resolve(ref)
			} else if sub, ok := x["Fn::Sub"].(string); ok {
				env[name] = subReference.ReplaceAllStringFunc(sub, func(m string) string { return resolve(m[2 : len(m)-1]) })
			}
		}
		for _, section := range []string{"Parameters", logicalID} {
			if v, ok := file[section][name]; ok {
				env[name] = v
			}
		}
	}
	return env
}

var subReference = regexp.MustCompile(`\$\{[^}]+\}`)

// invokeAny sends an event to the emulator and returns whatever it answers.
func invokeAny(t *testing.T, url string, e events.APIGatewayV2HTTPRequest) (int, string) {
	t.Helper()
	payload, err := json.Marshal(e)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(payload)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header.Get("X-Amz-Function-Error") + string(body)
}
