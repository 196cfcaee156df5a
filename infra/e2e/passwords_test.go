package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Plan of the passwords function for TestFunctionsUnderRIE. The fixtures
// carry no password, so every change they send is refused before anything
// else; their integration does not exist in a fresh stack.
func init() {
	plans["passwords"] = []step{
		{fixture: "change-consultation-password-policy", status: 400, code: "password_policy"},
		{fixture: "change-pefin-password-policy", status: 400, code: "password_policy"},
		{fixture: "change-consultation-password-forbidden", status: 403, code: "forbidden"},
		{fixture: "change-pefin-password-unauthenticated", status: 401, code: "unauthorized"},
		{fixture: "change-pefin-password-unknown-field", status: 400, code: "unknown_field"},
		{fixture: "change-consultation-password-invalid-id", status: 400, code: "invalid_parameter"},
		{fixture: "list-password-changes", status: 404, code: "not_found"},
		{fixture: "list-password-changes-missing", status: 404, code: "not_found"},
		{fixture: "list-password-changes-bad-limit", status: 400, code: "invalid_parameter"},
		{fixture: "list-password-changes-viewer-forbidden", status: 403, code: "forbidden"},
	}
}

// TestPasswordChangesEndToEnd changes both passwords through the passwords
// function's bootstrap under the Lambda Runtime Interface Emulator, on the
// local stack (DynamoDB Local, the Secrets Manager stand-in, the Connect SA
// sandbox): a plain change, a change whose answer the bureau loses, one the
// bureau cannot take (503), a reused password, and the history. After each,
// the connection test passes with what Secrets Manager holds; every answer
// is checked against openapi.yaml; no password reaches an answer, a log line
// of the function or the table.
func TestPasswordChangesEndToEnd(t *testing.T) {
	root := moduleRoot(t)
	rie := rieBinary(t, root)
	spec := apispec.Load(t)
	ctx := context.Background()

	st := startStack(t)
	env := st.Env()

	// The integrations area in process on the same stack creates the
	// integration and runs the connection tests. Its secret cache is off:
	// the passwords function is another process, whose changes a cached
	// reader would see only after the cache's TTL.
	cfg := stackConfig(t, st, "")
	cfg.Bureau.Secrets.CacheTTL = -1
	p := stackApp(t, st, cfg, nil)
	setup, admin := serveAreas(t, p, nil, p.IntegrationsHandler())

	const consultation, pefin = "Sand@123", "246802"
	used := []string{consultation, pefin}
	resp, raw := httpDo(t, "POST", setup+"/integrations", admin, `{"intermediary":"connect","branchId":"filial-senhas","environment":"homologation",
		"login":"`+sandboxtest.Account().Credentials.Login+`","consultationPassword":"`+consultation+`","pefinPassword":"`+pefin+`",
		"defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725","automation":{"enabled":false}}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &created))
	connectionOK := func() bool {
		t.Helper()
		resp, raw := httpDo(t, "POST", setup+"/integrations/"+created.ID+"/connection-test", admin, "")
		require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
		var test struct{ OK bool }
		require.NoError(t, json.Unmarshal(raw, &test))
		return test.OK
	}
	require.True(t, connectionOK(), "the sandbox enrols the account with the stored passwords")

	bootstrap := buildFunction(t, root, "passwords")
	fnEnv := map[string]string{"CONNECTSA_CALL_TIMEOUT": "2s"}
	for k, v := range env {
		fnEnv[k] = v
	}
	url, logs := startPasswordsRIE(t, rie, bootstrap, fnEnv)

	fixture := func(name string) events.APIGatewayV2HTTPRequest {
		t.Helper()
		e := loadFixture(t, root, "passwords", name)
		path := strings.Replace(e.RawPath, "0192f5a0-0000-7000-8000-000000000001", created.ID, 1)
		e.RawPath, e.RequestContext.HTTP.Path = path, path
		e.RawQueryString, e.QueryStringParameters = "", nil
		return e
	}
	var answers []string
	send := func(e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		t.Helper()
		answer := invokeHTTP(t, url, e)
		answers = append(answers, answer.Body)
		validateAnswer(t, spec, e, answer)
		return answer
	}
	// change builds the request here: no fixture file holds a password.
	change := func(kind credit.CredentialKind, password string) events.APIGatewayV2HTTPResponse {
		t.Helper()
		e := fixture("change-" + map[credit.CredentialKind]string{credit.CredentialConsultation: "consultation", credit.CredentialPEFIN: "pefin"}[kind] + "-password-policy")
		body, _ := json.Marshal(map[string]string{"newPassword": password, "confirmation": password})
		e.Body = string(body)
		e.Headers["content-length"] = strconv.Itoa(len(body))
		e.RequestContext.RequestID = fmt.Sprintf("e2e-pw-%d", len(answers))
		used = append(used, password)
		return send(e)
	}
	code := func(r events.APIGatewayV2HTTPResponse) string {
		var b struct{ Error struct{ Code string } }
		_ = json.Unmarshal([]byte(r.Body), &b)
		return b.Error.Code
	}

	r := change(credit.CredentialConsultation, "Troc@001")
	require.Equal(t, 204, r.StatusCode, r.Body)
	assert.True(t, connectionOK())

	// The bureau takes the PEFIN password and never answers: the function
	// asks which password holds and finishes the change.
	st.Sandbox.SetConfig(sandbox.Config{LostAnswerRate: 1, FaultOperations: []sandbox.Operation{sandbox.OpPassword}})
	r = change(credit.CredentialPEFIN, "802468")
	st.Sandbox.SetConfig(sandbox.Config{})
	require.Equal(t, 204, r.StatusCode, r.Body)
	assert.True(t, connectionOK())

	// The bureau is down: 502, the stored passwords still work.
	st.Sandbox.SetConfig(sandbox.Config{ErrorRate: 1, FaultOperations: []sandbox.Operation{sandbox.OpPassword}})
	r = change(credit.CredentialConsultation, "Troc@002")
	st.Sandbox.SetConfig(sandbox.Config{})
	require.Equal(t, 502, r.StatusCode, r.Body)
	assert.Equal(t, "bureau_unavailable", code(r))
	assert.True(t, connectionOK())

	r = change(credit.CredentialConsultation, consultation)
	require.Equal(t, 409, r.StatusCode, r.Body)
	assert.Equal(t, "password_reused", code(r))
	r = change(credit.CredentialConsultation, "Troc@002")
	require.Equal(t, 204, r.StatusCode, r.Body, "the password the bureau never took can be used")
	assert.True(t, connectionOK())

	r = send(fixture("list-password-changes"))
	require.Equal(t, 200, r.StatusCode, r.Body)
	var history struct {
		Items []struct{ Kind, Outcome, ErrorCode string }
	}
	require.NoError(t, json.Unmarshal([]byte(r.Body), &history))
	var got []string
	for _, it := range history.Items {
		got = append(got, it.Kind+":"+it.Outcome)
	}
	assert.Equal(t, []string{"consultation:changed", "consultation:failed", "pefin:changed", "consultation:changed"}, got)

	// Passwords live in Secrets Manager only. (A scan here is the test
	// looking at everything; no request path scans.)
	out, err := st.Clients().DynamoDB.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(cfg.App.Table)})
	require.NoError(t, err)
	dump, err := json.Marshal(out.Items)
	require.NoError(t, err)
	assert.Contains(t, string(dump), "$hmac-sha256-argon2id$", "replaced passwords are kept as hashes keyed with the pepper")
	assert.NotContains(t, string(dump), "$argon2id$", "no hash without the pepper")
	pepper, err := st.SecretsManager().GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(stack.PepperSecret)})
	require.NoError(t, err)
	assert.NotContains(t, string(dump), aws.ToString(pepper.SecretString), "the pepper is not in the table")
	assert.NotContains(t, logs.String(), aws.ToString(pepper.SecretString), "nor in the log")
	for _, pw := range used {
		assert.NotContains(t, string(dump), `"`+pw+`"`, "DynamoDB")
		assert.NotContains(t, logs.String(), pw, "the function's log")
		for i, a := range answers {
			assert.NotContains(t, a, pw, "answer %d", i)
		}
	}
	assert.NotContains(t, logs.String(), "$argon2id$", "no hash in the log")
	assert.Contains(t, logs.String(), `"audit":"password_change"`, "each change is an audit line")
}

// startPasswordsRIE is startRIE keeping the function's output for the test
// to search.
func startPasswordsRIE(t *testing.T, rie, bootstrap string, env map[string]string) (string, *syncBuffer) {
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
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
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
	return "http://" + addr + "/2015-03-31/functions/function/invocations", out
}
