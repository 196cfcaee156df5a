package e2e_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/eventbridgelocal"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// step is one invocation of a function with a fixture, and what it must
// answer. Steps run in order against one stack, so a write shows in the
// reads after it.
type step struct {
	fixture string
	status  int
	// body, when set, must equal the answer as JSON.
	body string
	// code, when set, is the error code of the answer.
	code string
}

// plans are the expected answers per function. A fixture missing here still
// runs (after the plan) and must answer without a 5xx, in the documented
// shape.
var plans = map[string][]step{
	"parameters": {
		{fixture: "health", status: 200, body: `{"status":"ok"}`},
		{fixture: "get-parameters", status: 200, body: `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`},
		{fixture: "get-parameters-unauthenticated", status: 401, code: "unauthorized"},
		{fixture: "put-parameters-forbidden", status: 403, code: "forbidden"},
		{fixture: "put-parameters-invalid", status: 400, code: "validation_failed"},
		{fixture: "put-parameters-unknown-field", status: 400, code: "unknown_field"},
		{fixture: "put-parameters", status: 200, body: `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
		{fixture: "get-parameters", status: 200, body: `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
	},
}

// TestFunctionsUnderRIE builds every function's bootstrap for this machine,
// runs each under the Lambda Runtime Interface Emulator with the stack's
// environment, and invokes it with every fixture in events/<function>/.
func TestFunctionsUnderRIE(t *testing.T) {
	root := moduleRoot(t)
	rie := rieBinary(t, root)
	spec := apispec.Load(t)

	functions, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	require.NoError(t, err)
	require.NotEmpty(t, functions)

	st := startStack(t)

	for _, main := range functions {
		name := filepath.Base(filepath.Dir(main))
		t.Run(name, func(t *testing.T) {
			bootstrap := buildFunction(t, root, name)

			fixtures := fixtureNames(t, root, name)
			require.NotEmpty(t, fixtures, "function %s has no fixtures in events/%s/", name, name)
			url := startRIE(t, rie, bootstrap, st.Env())

			ran := map[string]bool{}
			for i, s := range plans[name] {
				require.Contains(t, fixtures, s.fixture, "plan step %d names a missing fixture", i)
				ran[s.fixture] = true
				runStep(t, spec, url, filepath.Join(root, "events", name, s.fixture+".json"), s)
			}
			for _, f := range fixtures {
				if !ran[f] {
					runStep(t, spec, url, filepath.Join(root, "events", name, f+".json"), step{fixture: f})
				}
			}
			if name == "event-publisher" {
				// The stream batch's status change reached the bus; the
				// audit item in the same batch stands for no event.
				got, err := eventbridgelocal.ReadEvents(st.Events.Path())
				require.NoError(t, err)
				require.Len(t, got, 1)
				assert.Equal(t, "Negativation Status Changed", got[0].DetailType)
				assert.Contains(t, string(got[0].Detail), `"eventId":"negativation/neg-fixture/active/3"`)
				assert.Contains(t, string(got[0].Detail), `"document":"***.982.247-**"`)
			}
		})
	}
}

func fixtureNames(t *testing.T, root, function string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(root, "events", function, "*.json"))
	require.NoError(t, err)
	var names []string
	for _, p := range paths {
		names = append(names, strings.TrimSuffix(filepath.Base(p), ".json"))
	}
	sort.Strings(names)
	return names
}

// startRIE runs bootstrap under the emulator on free loopback ports and
// returns its invocation URL; the emulator and the bootstrap stop with the
// test.
func startRIE(t *testing.T, rie, bootstrap string, env map[string]string) string {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	cmd := exec.Command(rie,
		"--runtime-interface-emulator-address", addr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", freePort(t)),
		bootstrap)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "LOG_LEVEL=debug", "AWS_LAMBDA_FUNCTION_TIMEOUT=30"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		killGroup(cmd)
		<-exited
		if t.Failed() {
			t.Logf("emulator and function output:\n%s", out.String())
		}
	})
	waitTCP(t, addr, exited)
	return "http://" + addr + "/2015-03-31/functions/function/invocations"
}

// runStep invokes the function with one fixture and checks the answer.
func runStep(t *testing.T, spec *apispec.Spec, url, fixture string, want step) {
	t.Helper()
	payload, err := os.ReadFile(fixture)
	require.NoError(t, err)
	var event events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(payload, &event))

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(payload)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err, want.fixture)
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s: the invocation itself failed: %s", want.fixture, raw)
	require.Empty(t, resp.Header.Get("X-Amz-Function-Error"), "%s: function error: %s", want.fixture, raw)

	if event.RawPath == "" {
		return // not an HTTP event: a clean invocation is the expectation
	}
	var answer events.APIGatewayV2HTTPResponse
	require.NoError(t, json.Unmarshal(raw, &answer), "%s: %s", want.fixture, raw)

	if want.status != 0 {
		assert.Equal(t, want.status, answer.StatusCode, "%s: %s", want.fixture, answer.Body)
	} else {
		assert.Less(t, answer.StatusCode, 500, "%s: %s", want.fixture, answer.Body)
	}
	if want.body != "" {
		assert.JSONEq(t, want.body, answer.Body, want.fixture)
	}
	if answer.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
			RequestID string `json:"requestId"`
		}
		require.NoError(t, json.Unmarshal([]byte(answer.Body), &e), "%s: %s", want.fixture, answer.Body)
		if want.code != "" {
			assert.Equal(t, want.code, e.Error.Code, want.fixture)
		}
		assert.NotEmpty(t, e.Error.Message, want.fixture)
		assert.Equal(t, event.RequestContext.RequestID, e.RequestID, "%s: the request id is API Gateway's", want.fixture)
	}

	header := http.Header{}
	for k, v := range answer.Headers {
		header.Set(k, v)
	}
	path := event.RawPath
	if event.RawQueryString != "" {
		path += "?" + event.RawQueryString
	}
	body := []byte(answer.Body)
	if answer.IsBase64Encoded {
		body, err = base64.StdEncoding.DecodeString(answer.Body)
		require.NoError(t, err)
	}
	spec.ValidateResponse(t, event.RequestContext.HTTP.Method, path, answer.StatusCode, header, body)
}
