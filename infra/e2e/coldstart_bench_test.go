package e2e_test

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"syscall"
	"testing"
	"time"

	"creditanalysis/infra/checkout"
	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/stack"
)

// coldStartFixture is the event each function's first invocation serves: a
// read that reaches DynamoDB (for the event publisher, a stream record it
// publishes to EventBridge), so the first call's connection is counted.
var coldStartFixture = map[string]string{
	"audit":           "list-audit",
	"event-publisher": "negativation-activated",
	"billing-rule":    "list-runs",
	"consultations":   "list-consultations",
	"integrations":    "list-integrations",
	"negativations":   "list-negativations",
	"parameters":      "get-parameters",
	"parties":         "get-customer",
	"passwords":       "list-password-changes-missing",
	"reports":         "get-consultation-pdf-json",
}

// lambdaEnvironment is what Lambda itself sets in a function's environment
// (the emulator adds AWS_LAMBDA_RUNTIME_API); the stack's variables stand in
// for the template's. Nothing of this shell's environment is inherited: a
// variable such as AWS_CA_BUNDLE makes the SDK do work at start-up that
// Lambda never does.
func lambdaEnvironment(function string, st *stack.Stack) []string {
	env := []string{
		"PATH=/usr/local/bin:/usr/bin/:/bin:/opt/bin",
		"LANG=en_US.UTF-8",
		"TZ=:UTC",
		"LAMBDA_TASK_ROOT=/var/task",
		"_HANDLER=bootstrap",
		"AWS_EXECUTION_ENV=AWS_Lambda_provided.al2023",
		"AWS_LAMBDA_FUNCTION_NAME=" + function,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_INITIALIZATION_TYPE=on-demand",
		"AWS_LAMBDA_LOG_GROUP_NAME=/aws/lambda/" + function,
		"AWS_LAMBDA_LOG_STREAM_NAME=2026/12/07/[$LATEST]0123456789abcdef",
		"AWS_LAMBDA_LOG_FORMAT=JSON",
		"AWS_LAMBDA_LOG_LEVEL=INFO",
		"AWS_SESSION_TOKEN=local",
	}
	for k, v := range st.Env() {
		env = append(env, k+"="+v)
	}
	sort.Strings(env)
	return env
}

var (
	initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)
	invokeDone = regexp.MustCompile(`INVOKE RTDONE\(status: \w+, produced bytes: \d+, duration: ([0-9.]+)ms\)`)
)

// BenchmarkColdStart starts each function's bootstrap (built as `make
// build` builds it, for this machine's architecture) under the runtime
// emulator b.N times, in Lambda's environment, and invokes it once. It
// reports, per function, the emulator's INIT REPORT duration (the
// function's start-up up to its first request for work) and the first
// invocation's duration, each as mean and median.
//
// The functions take turns, one cold start each per round, so that the
// machine's changing load falls on all of them alike; two rounds before the
// counted ones read the new binaries from disk and let the stand-ins (a JVM
// among them) warm up. An empty function (aws-lambda-go alone,
// testdata/emptyfunction) takes its turn too: its INIT is the floor the
// emulator and a Go process set on this machine, and each function is also
// reported above it.
//
//	go test ./infra/e2e/ -run '^$' -bench ColdStart -benchtime 30x
func BenchmarkColdStart(b *testing.B) {
	root, err := checkout.Root()
	if err != nil {
		b.Fatal(err)
	}
	rie := filepath.Join(root, ".cache", "bin", "aws-lambda-rie")
	if p := os.Getenv("AWS_LAMBDA_RIE"); p != "" {
		rie = p
	}
	if _, err := os.Stat(rie); err != nil {
		b.Fatalf("no runtime emulator at %s: run make deps", rie)
	}
	st := startStack(b)

	type function struct {
		name, bootstrap string
		env             []string
		event           []byte
		inits, invokes  []float64
	}
	var fns []*function
	for _, name := range slices.Sorted(maps.Keys(coldStartFixture)) {
		f := &function{name: name, bootstrap: buildFunction(b, root, name), env: lambdaEnvironment(name, st)}
		var err error
		if f.event, err = os.ReadFile(filepath.Join(root, "events", name, coldStartFixture[name]+".json")); err != nil {
			b.Fatal(err)
		}
		fns = append(fns, f)
	}
	// The floor: a function of aws-lambda-go alone, in the same rounds.
	floor := &function{name: "(empty function)", bootstrap: filepath.Join(b.TempDir(), "emptyfunction", "bootstrap"),
		env: lambdaEnvironment("emptyfunction", st), event: []byte(`{}`)}
	goBuild(b, root, floor.bootstrap, lambdaBuildEnv, slices.Concat(lambdaBuildFlags, []string{"./infra/e2e/testdata/emptyfunction"})...)
	fns = append(fns, floor)
	for range 2 {
		for _, f := range fns {
			coldStart(b, rie, f.bootstrap, f.env, f.event)
		}
	}
	b.ResetTimer()
	for range b.N {
		for _, f := range fns {
			i, v := coldStart(b, rie, f.bootstrap, f.env, f.event)
			f.inits, f.invokes = append(f.inits, i), append(f.invokes, v)
		}
	}
	b.StopTimer()
	// The mean, and the median, which a loaded machine's outliers move
	// less.
	for _, f := range fns[:len(fns)-1] {
		b.ReportMetric(median(f.inits), f.name+"-init-ms-p50")
		b.ReportMetric(mean(f.inits), f.name+"-init-ms")
		b.ReportMetric(median(f.invokes), f.name+"-first-invoke-ms-p50")
		b.Logf("%-16s INIT p50 %6.2f ms  mean %6.2f ms  p90 %6.2f ms   first invoke p50 %6.2f ms   INIT p50 above the empty function %5.2f ms", f.name,
			median(f.inits), mean(f.inits), percentile(f.inits, 0.9), median(f.invokes), median(f.inits)-median(floor.inits))
	}
	b.ReportMetric(median(floor.inits), "empty-function-init-ms-p50")
	b.Logf("%-16s INIT p50 %6.2f ms  mean %6.2f ms  p90 %6.2f ms", floor.name, median(floor.inits), mean(floor.inits), percentile(floor.inits, 0.9))
	b.ReportMetric(0, "ns/op")
}

func mean(xs []float64) float64 {
	sum := 0.0
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// coldStart runs one emulator with a fresh bootstrap process, invokes it
// once and reads the two durations from the emulator's log.
func coldStart(b *testing.B, rie, bootstrap string, env []string, event []byte) (initMs, invokeMs float64) {
	b.Helper()
	port, err := dynamodblocal.FreePort()
	if err != nil {
		b.Fatal(err)
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, bootstrap)
	cmd.Dir = filepath.Dir(bootstrap)
	cmd.Env = env
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { killGroup(cmd); _ = cmd.Wait() }()

	url := "http://" + addr + "/2015-03-31/functions/function/invocations"
	deadline := time.Now().Add(startupDeadline)
	for {
		resp, err := http.Post(url, "application/json", bytes.NewReader(event))
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("invoke: %s\n%s", resp.Status, out.String())
			}
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("emulator not listening: %v\n%s", err, out.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	for time.Now().Before(deadline) {
		log := out.String()
		i, v := initReport.FindStringSubmatch(log), invokeDone.FindStringSubmatch(log)
		if i != nil && v != nil {
			initMs, _ = strconv.ParseFloat(i[1], 64)
			invokeMs, _ = strconv.ParseFloat(v[1], 64)
			return initMs, invokeMs
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("no INIT REPORT and INVOKE RTDONE in the emulator's log:\n%s", out.String())
	return 0, 0
}
