package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/checkout"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rieModule is the emulator `make deps` installs; the tests install it
// themselves when it is missing.
const rieModule = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie@v0.0.0-20261030222936-bef5c4ba774d"

// startupDeadline bounds how long a process may take to come up; it is a
// guard against hangs, not a performance check.
const startupDeadline = 90 * time.Second

func moduleRoot(t *testing.T) string {
	t.Helper()
	root, err := checkout.Root()
	require.NoError(t, err)
	return root
}

var rieOnce sync.Once

// rieBinary returns $AWS_LAMBDA_RIE or <root>/.cache/bin/aws-lambda-rie,
// installing the latter with `go install` when missing.
func rieBinary(t *testing.T, root string) string {
	t.Helper()
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	bin := filepath.Join(root, ".cache", "bin")
	path := filepath.Join(bin, "aws-lambda-rie")
	var installErr error
	rieOnce.Do(func() {
		if _, err := os.Stat(path); err == nil {
			return
		}
		cmd := exec.Command("go", "install", rieModule)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOBIN="+bin)
		out, err := cmd.CombinedOutput()
		if err != nil {
			installErr = fmt.Errorf("go install %s: %v\n%s", rieModule, err, out)
		}
	})
	require.NoError(t, installErr)
	require.FileExists(t, path)
	return path
}

// startStack starts the local stack in memory (DynamoDB Local, the S3,
// Secrets Manager and EventBridge stand-ins, the Connect SA sandbox) for one
// test or benchmark, stopped when it ends.
func startStack(t testing.TB) *stack.Stack {
	t.Helper()
	st, err := stack.Start(context.Background(), stack.Options{InMemory: true})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	return st
}

// goBuild builds packages into dir with extra environment.
func goBuild(t testing.TB, root, out string, env []string, args ...string) {
	t.Helper()
	require.NoError(t, build(root, out, env, args...))
}

func build(root, out string, env []string, args ...string) error {
	cmd := exec.Command("go", append([]string{"build", "-o", out}, args...)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %w\n%s", args, err, b)
	}
	return nil
}

// built keeps the binaries the tests share, each built once per test
// binary into a directory TestMain removes.
var built struct {
	dir  string
	mu   sync.Mutex
	once map[string]*builtOnce
}

type builtOnce struct {
	sync.Once
	err error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "creditanalysis-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	built.dir = dir
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// buildShared builds what args name into the shared directory's path name
// the first time a test asks for name, and returns that path.
func buildShared(t testing.TB, root, name string, env []string, args ...string) string {
	t.Helper()
	built.mu.Lock()
	if built.once == nil {
		built.once = map[string]*builtOnce{}
	}
	b := built.once[name]
	if b == nil {
		b = &builtOnce{}
		built.once[name] = b
	}
	built.mu.Unlock()
	out := filepath.Join(built.dir, name)
	b.Do(func() { b.err = build(root, out, env, args...) })
	require.NoError(t, b.err)
	return out
}

// runnerBinary is `make run`'s runner (./infra/run), built once.
func runnerBinary(t testing.TB, root string) string {
	return buildShared(t, root, "run", nil, "./infra/run")
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := dynamodblocal.FreePort()
	require.NoError(t, err)
	return p
}

// waitTCP waits until addr accepts connections or the process exits.
func waitTCP(t *testing.T, addr string, exited <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(startupDeadline)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			t.Fatalf("process exited before listening on %s", addr)
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("nothing listens on %s after %s", addr, startupDeadline)
}

// syncBuffer collects a process's output for the failure message.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// lineWatcher copies a process's output into a buffer and reports when a
// line containing want appears.
func lineWatcher(r io.Reader, buf *syncBuffer, want string) <-chan struct{} {
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		seen := false
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(buf, line)
			if !seen && strings.Contains(line, want) {
				seen = true
				close(found)
			}
		}
	}()
	return found
}

// javaChildren lists the children of pid running DynamoDB Local.
func javaChildren(t *testing.T, pid int) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var pids []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if isDynamoDBLocal(child) {
			pids = append(pids, child)
		}
	}
	return pids
}

// isDynamoDBLocal reports whether pid is a live DynamoDB Local process.
func isDynamoDBLocal(pid int) bool {
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	return err == nil && bytes.Contains(cmdline, []byte("DynamoDBLocal.jar"))
}

// killGroup ends a process started with Setpgid and everything it started.
func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}

func httpDo(t *testing.T, method, url, token, body string) (*http.Response, []byte) {
	t.Helper()
	return keyedDo(t, method, url, token, "", body)
}

// keyedDo is httpDo with an Idempotency-Key ("" sends none).
func keyedDo(t *testing.T, method, url, token, key, body string) (*http.Response, []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	require.NoError(t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, b
}

// loadFixture reads events/<function>/<name>.json, the payload v2 event
// `sam local invoke -e` uses too.
func loadFixture(t *testing.T, root, function, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "events", function, name+".json"))
	require.NoError(t, err)
	var e events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(raw, &e), name)
	return e
}

// invokeHTTP sends an API Gateway v2 event to a function under the emulator
// and returns the function's answer, its body decoded when base64. The
// invocation itself must succeed.
func invokeHTTP(t *testing.T, url string, e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	payload, err := json.Marshal(e)
	require.NoError(t, err)
	var answer events.APIGatewayV2HTTPResponse
	raw := invokeRaw(t, url, payload)
	require.NoError(t, json.Unmarshal(raw, &answer), string(raw))
	if answer.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(answer.Body)
		require.NoError(t, err)
		answer.Body, answer.IsBase64Encoded = string(b), false
	}
	return answer
}

// validateAnswer checks a function's answer to e against openapi.yaml.
func validateAnswer(t *testing.T, spec *apispec.Spec, e events.APIGatewayV2HTTPRequest, answer events.APIGatewayV2HTTPResponse) {
	t.Helper()
	header := http.Header{}
	for k, v := range answer.Headers {
		header.Set(k, v)
	}
	path := e.RawPath
	if e.RawQueryString != "" {
		path += "?" + e.RawQueryString
	}
	spec.ValidateResponse(t, e.RequestContext.HTTP.Method, path, answer.StatusCode, header, []byte(answer.Body))
}

// sendChecked invokes a function with e, checks the answer against the API
// document and for any of fullDocuments, and decodes its JSON body.
func sendChecked(t *testing.T, spec *apispec.Spec, url string, e events.APIGatewayV2HTTPRequest, fullDocuments ...string) (events.APIGatewayV2HTTPResponse, map[string]any) {
	t.Helper()
	answer := invokeHTTP(t, url, e)
	validateAnswer(t, spec, e, answer)
	for _, full := range fullDocuments {
		assert.NotContains(t, answer.Body, full, "no full document in an answer")
	}
	var b map[string]any
	require.NoError(t, json.Unmarshal([]byte(answer.Body), &b), answer.Body)
	return answer, b
}

// branchSeven is the local stack as an ISP has it before a test's story:
// the master switch on and branch 7 integrated with the sandbox's account,
// with automation as given; the API behind the local API Gateway at base.
type branchSeven struct {
	st          *stack.Stack
	base        string
	app         *allareas.Product
	store       *dynamo.Store
	integration credit.Integration
}

func startBranchSeven(t *testing.T, automation credit.Automation, sendSMS bool) branchSeven {
	t.Helper()
	ctx := context.Background()
	st := startStack(t)
	b := branchSeven{st: st, base: localGateway(t, st, nil), app: stackApp(t, st, stackConfig(t, st, ""), nil),
		store: dynamo.New(st.Clients().DynamoDB, st.Env()["TABLE_NAME"])}
	require.NoError(t, b.store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	var err error
	b.integration, err = b.app.Integrations().Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{Intermediary: credit.IntermediaryConnect, BranchID: "7",
			Environment: credit.EnvironmentHomologation, Login: sandboxtest.Account().Credentials.Login,
			DefaultPlan: credit.PlanReportScore, SendSMSOnInclusion: sendSMS, ResponsibleCPF: "529.982.247-25",
			Automation: automation},
		ConsultationPassword: "Sand@123", PEFINPassword: "246802",
	})
	require.NoError(t, err)
	return b
}

// caller calls the API with a token and requires the status it wants,
// answering the JSON body.
func (b branchSeven) caller(t *testing.T) func(tok, method, path, body string, want int) map[string]any {
	return func(tok, method, path, body string, want int) map[string]any {
		t.Helper()
		resp, raw := httpDo(t, method, b.base+path, tok, body)
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
		out := map[string]any{}
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		return out
	}
}

// answerCode is an error answer's error.code.
func answerCode(answer map[string]any) string {
	e, _ := answer["error"].(map[string]any)
	return fmt.Sprint(e["code"])
}
