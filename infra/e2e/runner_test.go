package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/localauth"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runner is one run of the local runner's binary.
type runner struct {
	cmd    *exec.Cmd
	base   string
	out    *syncBuffer
	exited chan struct{}
}

// startRunner starts the binary `make run` runs (go run ./infra/run) with
// dataDir and a free port, and waits for its "listening on" line.
func startRunner(t *testing.T, root, binary, dataDir string) *runner {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(binary)
	cmd.Dir = root
	cmd.Env = append(os.Environ(),
		"LOCAL_DATA_DIR="+dataDir, fmt.Sprintf("PORT=%d", port),
		"DYNAMODB_PORT=0", "S3_PORT=0", "SECRETSMANAGER_PORT=0", "CONNECTSA_PORT=0", "EVENTBRIDGE_PORT=0")
	// If the test binary dies, so does the runner, and its Java with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	r := &runner{cmd: cmd, out: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = r.out
	want := fmt.Sprintf("listening on http://127.0.0.1:%d", port)
	ready := lineWatcher(stdout, r.out, want)
	require.NoError(t, cmd.Start())
	go func() { _ = cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-r.exited
		if t.Failed() {
			t.Logf("runner output:\n%s", r.out.String())
		}
	})
	select {
	case <-ready:
	case <-r.exited:
		t.Fatalf("runner exited before %q:\n%s", want, r.out.String())
	case <-time.After(startupDeadline):
		t.Fatalf("no %q after %s:\n%s", want, startupDeadline, r.out.String())
	}
	r.base = fmt.Sprintf("http://127.0.0.1:%d", port)
	return r
}

// stop sends SIGTERM and waits for a clean exit.
func (r *runner) stop(t *testing.T) {
	t.Helper()
	require.NoError(t, r.cmd.Process.Signal(syscall.SIGTERM))
	select {
	case <-r.exited:
	case <-time.After(startupDeadline):
		t.Fatalf("runner still running after SIGTERM:\n%s", r.out.String())
	}
	assert.Equal(t, 0, r.cmd.ProcessState.ExitCode(), r.out.String())
}

// TestLocalRunner is the smoke test of `make run`: start, health, a token,
// read and write the parameters, SIGTERM with no Java left behind, restart
// on the same data and find the write.
func TestLocalRunner(t *testing.T) {
	root := moduleRoot(t)
	spec := apispec.Load(t)
	run := runnerBinary(t, root)
	dataDir := t.TempDir()

	r := startRunner(t, root, run, dataDir)
	java := javaChildren(t, r.cmd.Process.Pid)
	require.Len(t, java, 1, "the runner starts one DynamoDB Local")

	resp, body := httpDo(t, "GET", r.base+"/health", "", "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok"}`, string(body))
	spec.ValidateResponse(t, "GET", "/health", resp.StatusCode, resp.Header, body)

	resp, body = httpDo(t, "GET", r.base+"/parameters", "", "")
	assert.Equal(t, 401, resp.StatusCode)
	assert.JSONEq(t, `{"message":"Unauthorized"}`, string(body))

	// The token command signs with the key the runner created.
	tokenCmd := exec.Command(buildShared(t, root, "token", nil, "./infra/token"), "-role", "admin")
	tokenCmd.Env = append(os.Environ(), "LOCAL_DATA_DIR="+dataDir)
	out, err := tokenCmd.Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	admin := lines[len(lines)-1]
	key, err := localauth.LoadKey(dataDir)
	require.NoError(t, err)
	claims, err := localauth.Verify(key, admin)
	require.NoError(t, err)
	assert.Equal(t, "local-admin", claims["sub"])
	viewer, err := localauth.DevToken(key, "viewer", time.Hour)
	require.NoError(t, err)

	resp, body = httpDo(t, "GET", r.base+"/parameters", admin, "")
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`, string(body))
	spec.ValidateResponse(t, "GET", "/parameters", resp.StatusCode, resp.Header, body)

	const put = `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":45}`
	resp, body = httpDo(t, "PUT", r.base+"/parameters", viewer, put)
	assert.Equal(t, 403, resp.StatusCode, string(body))
	spec.ValidateResponse(t, "PUT", "/parameters", resp.StatusCode, resp.Header, body)

	resp, body = httpDo(t, "PUT", r.base+"/parameters", admin, put)
	assert.Equal(t, 200, resp.StatusCode, string(body))
	assert.JSONEq(t, put, string(body))
	spec.ValidateResponse(t, "PUT", "/parameters", resp.StatusCode, resp.Header, body)

	var samEnv map[string]map[string]string
	b, err := os.ReadFile(filepath.Join(dataDir, "sam-env.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &samEnv))
	assert.Equal(t, "creditanalysis-local", samEnv["ParametersFunction"]["TABLE_NAME"])
	assert.True(t, strings.HasPrefix(samEnv["Parameters"]["AWS_ENDPOINT_URL_DYNAMODB"], "http://127.0.0.1:"))

	r.stop(t)
	for _, pid := range java {
		assert.False(t, isDynamoDBLocal(pid), "DynamoDB Local (pid %d) survived the runner", pid)
	}
	assert.Contains(t, r.out.String(), `"msg":"stopped"`)

	again := startRunner(t, root, run, dataDir)
	resp, body = httpDo(t, "GET", again.base+"/parameters", admin, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, put, string(body), "the data survives a restart")
	java = javaChildren(t, again.cmd.Process.Pid)
	again.stop(t)
	for _, pid := range java {
		assert.False(t, isDynamoDBLocal(pid), "DynamoDB Local (pid %d) survived the runner", pid)
	}
}

// TestLocalRunnerStopsWhenDynamoDBLocalEnds: a DynamoDB Local that dies
// under `make run` (its Java killed, as an out-of-memory killer would)
// stops the runner with the reason, instead of an API whose every call
// fails.
func TestLocalRunnerStopsWhenDynamoDBLocalEnds(t *testing.T) {
	root := moduleRoot(t)
	r := startRunner(t, root, runnerBinary(t, root), t.TempDir())
	java := javaChildren(t, r.cmd.Process.Pid)
	require.Len(t, java, 1)

	require.NoError(t, syscall.Kill(java[0], syscall.SIGKILL))
	select {
	case <-r.exited:
	case <-time.After(startupDeadline):
		t.Fatalf("runner still running after DynamoDB Local ended:\n%s", r.out.String())
	}
	assert.Equal(t, 1, r.cmd.ProcessState.ExitCode(), r.out.String())
	out := r.out.String()
	assert.Contains(t, out, "DynamoDB Local ended while in use")
	assert.Contains(t, out, `"msg":"stopped"`, "the runner stopped what it had started")
}
