package e2e_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"creditanalysis/infra/stack"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFreshCloneMakeRun does what the README tells a new user to do: clone
// the repository, `make run` with nothing of the project's set but a free
// PORT, run the README's own commands against it, and stop it with Ctrl-C
// (SIGINT to the foreground process group), leaving nothing running.
//
// It clones the committed HEAD: what a user gets, not the working tree.
func TestFreshCloneMakeRun(t *testing.T) {
	root := moduleRoot(t)
	clone := filepath.Join(t.TempDir(), "creditanalysis")
	out, err := exec.Command("git", "clone", "--quiet", root, clone).CombinedOutput()
	require.NoError(t, err, "git clone: %s", out)

	readme, err := os.ReadFile(filepath.Join(clone, "README.md"))
	require.NoError(t, err)
	server, session := readmeCommands(t, string(readme))
	require.Equal(t, "make run", server, "the README starts the API with make run")

	// The API and, right above it, one port for each stand-in.
	ports := 1 + reflect.TypeFor[stack.Ports]().NumField()
	port := freePortBlock(t, ports)
	env := newUserEnv(port)

	run := exec.Command("make", "run")
	run.Dir = clone
	run.Env = env
	// Its own process group, as a terminal's foreground job; Ctrl-C is
	// SIGINT to the whole group.
	run.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stdout, err := run.StdoutPipe()
	require.NoError(t, err)
	log := &syncBuffer{}
	run.Stderr = log
	want := fmt.Sprintf("listening on http://127.0.0.1:%d", port)
	ready := lineWatcher(stdout, log, want)
	require.NoError(t, run.Start())
	exited := make(chan struct{})
	go func() { _ = run.Wait(); close(exited) }()
	t.Cleanup(func() {
		killGroup(run)
		<-exited
		if t.Failed() {
			t.Logf("make run output:\n%s", log.String())
		}
	})
	// A first `make run` fetches and builds what it needs: a wider bound
	// than a process start, still only a guard against a hang.
	select {
	case <-ready:
	case <-exited:
		t.Fatalf("make run exited before %q:\n%s", want, log.String())
	case <-time.After(5 * time.Minute):
		t.Fatalf("no %q after 5 minutes:\n%s", want, log.String())
	}

	// The README's commands, as a user pastes them into another shell in
	// the clone, with the port the test chose. They write report.pdf there.
	script := "set -euo pipefail\n" + session
	for _, host := range []string{"localhost:3000", "127.0.0.1:3000"} {
		script = strings.ReplaceAll(script, host, strings.Replace(host, "3000", strconv.Itoa(port), 1))
	}
	sh := exec.Command("bash", "-c", script)
	sh.Dir = clone
	sh.Env = env
	var shOut, shErr bytes.Buffer
	sh.Stdout, sh.Stderr = &shOut, &shErr
	err = sh.Run()
	require.NoError(t, err, "the README's commands failed:\nstdout:\n%s\nstderr:\n%s", shOut.String(), shErr.String())
	answers := shOut.String()
	assert.Contains(t, answers, `"status":"ok"`, "health")
	assert.Contains(t, answers, `"creditAnalysisEnabled":true`, "the parameters")
	assert.Contains(t, answers, `"status":"pending"`, "the negativation is pending at the bureau")
	assert.Contains(t, answers, `"byStatus":{"active":1}`, "the sync turns it active")
	assert.Contains(t, answers, `"status":"running"`, "a billing run starts")
	assert.Contains(t, answers, `"action":"POST /billing-rule/runs"`, "the audit trail shows the run")
	assert.NotContains(t, answers, `"error"`)
	pdf, err := os.ReadFile(filepath.Join(clone, "report.pdf"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(pdf, []byte("%PDF-")), "report.pdf is a PDF")

	// Ctrl-C.
	require.NoError(t, syscall.Kill(-run.Process.Pid, syscall.SIGINT))
	select {
	case <-exited:
	case <-time.After(startupDeadline):
		t.Fatalf("make run still running after SIGINT:\n%s", log.String())
	}
	assert.Contains(t, log.String(), `"msg":"stopped"`, "the runner shut down cleanly")
	assert.Empty(t, processesIn(t, clone), "nothing make run started is left running")
	for p := port; p < port+ports; p++ {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if assert.NoError(t, err, "port %d is free again", p) {
			l.Close()
		}
	}
}

var shBlock = regexp.MustCompile("(?s)```sh\n(.*?)```")

// readmeCommands returns the README's quick-start commands: the server
// command (the block that starts with `make run`) and the shell session of
// every other block from "Run it" up to "Prerequisites".
func readmeCommands(t *testing.T, readme string) (server, session string) {
	t.Helper()
	start := strings.Index(readme, "## Run it")
	end := strings.Index(readme, "### Prerequisites")
	require.True(t, start >= 0 && end > start, "README has a Run it section before Prerequisites")
	var blocks []string
	for _, m := range shBlock.FindAllStringSubmatch(readme[start:end], -1) {
		block := m[1]
		first := strings.TrimSpace(strings.SplitN(block, "\n", 2)[0])
		if strings.HasPrefix(first, "make run") {
			server = "make run"
			continue
		}
		blocks = append(blocks, block)
	}
	require.NotEmpty(t, blocks, "README has commands to run against make run")
	return server, strings.Join(blocks, "\n")
}

// newUserEnv is a new user's shell: the machine's own settings (where the
// tools are, the home folder with its caches, the language, the trusted
// certificates that reach the package registries) and PORT; none of the
// project's variables, no AWS settings, nothing of the test's make.
func newUserEnv(port int) []string {
	keep := map[string]bool{
		"PATH": true, "HOME": true, "USER": true, "LANG": true, "TERM": true, "TMPDIR": true, "SHELL": true,
		"SSL_CERT_FILE": true, "SSL_CERT_DIR": true, "NODE_EXTRA_CA_CERTS": true, "CURL_CA_BUNDLE": true,
		"GIT_SSL_CAINFO": true,
	}
	env := []string{"PORT=" + strconv.Itoa(port)}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		toolchain := strings.HasPrefix(k, "GO") && k != "GOFLAGS"
		if keep[k] || toolchain || strings.HasPrefix(k, "npm_config_") {
			env = append(env, kv)
		}
	}
	return env
}

// freePortBlock finds n consecutive free loopback ports and returns the
// first. It looks below the kernel's ephemeral range: a first `make run`
// builds for minutes before its stand-ins listen, and meanwhile every
// connection and every port-0 listener of the tests running beside it
// takes its port from that range.
func freePortBlock(t *testing.T, n int) int {
	t.Helper()
	below := 32768 // Linux's default first ephemeral port
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if p, err := strconv.Atoi(f[0]); err == nil && p > 10000+n {
				below = p
			}
		}
	}
	for range 50 {
		first := 10000 + rand.IntN(below-10000-n)
		var held []net.Listener
		ok := true
		for p := first; p < first+n; p++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
			if err != nil {
				ok = false
				break
			}
			held = append(held, l)
		}
		for _, l := range held {
			l.Close()
		}
		if ok {
			return first
		}
	}
	t.Fatal("no block of free ports")
	return 0
}

// processesIn lists the live processes whose command line or working
// directory is inside dir.
func processesIn(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	require.NoError(t, err)
	var found []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		cwd, _ := os.Readlink(filepath.Join("/proc", e.Name(), "cwd"))
		if bytes.Contains(cmdline, []byte(dir)) || cwd == dir || strings.HasPrefix(cwd, dir+"/") {
			found = append(found, fmt.Sprintf("%d %s (in %s)", pid, bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}), cwd))
		}
	}
	return found
}
