package e2e_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/apigateway"
	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/localauth"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/credit"
)

// awsCall is one call a stand-in served through a recordingProxy.
type awsCall struct {
	service, op string
	start, end  time.Time
}

// recordingProxy sits between the service's clients and one stand-in and
// records every call's operation, start and end, so that a request's calls
// can be counted and their overlap seen.
type recordingProxy struct {
	service string
	proxy   *httputil.ReverseProxy
	log     *callLog
	// last keeps the latest request's method, path, headers and body, for
	// replaying a bureau call straight to the sandbox.
	mu   sync.Mutex
	last *http.Request
	body []byte
}

type callLog struct {
	mu    sync.Mutex
	calls []awsCall
}

func (l *callLog) add(c awsCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// since returns the calls that started at or after t.
func (l *callLog) since(t time.Time) []awsCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []awsCall
	for _, c := range l.calls {
		if !c.start.Before(t) {
			out = append(out, c)
		}
	}
	return out
}

func newRecordingProxy(tb testing.TB, service, target string, log *callLog) string {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &recordingProxy{service: service, proxy: httputil.NewSingleHostReverseProxy(u), log: log}
	srv := httptest.NewServer(p)
	tb.Cleanup(srv.Close)
	return srv.URL
}

func (p *recordingProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if p.service == "bureau" {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		p.mu.Lock()
		p.last, p.body = r.Clone(context.Background()), body
		p.mu.Unlock()
	}
	op := r.Header.Get("X-Amz-Target")
	if i := strings.IndexByte(op, '.'); i >= 0 {
		op = op[i+1:]
	}
	if op == "" {
		op = r.Method + " " + strings.SplitN(strings.TrimPrefix(r.URL.Path, "/"), "/", 2)[0]
	}
	p.proxy.ServeHTTP(w, r)
	p.log.add(awsCall{service: p.service, op: op, start: start, end: time.Now()})
}

// sequentialRounds counts the calls' sequential round trips: calls that
// overlap in time count as one.
func sequentialRounds(calls []awsCall) int {
	calls = slices.Clone(calls)
	slices.SortFunc(calls, func(a, b awsCall) int { return a.start.Compare(b.start) })
	rounds := 0
	var until time.Time
	for _, c := range calls {
		if rounds == 0 || !c.start.Before(until) {
			rounds++
			until = c.end
		} else if c.end.After(until) {
			until = c.end
		}
	}
	return rounds
}

// BenchmarkConsultation measures the service's own work per consultation:
// POST /consultations through the local API Gateway, on the wiring the
// local runner serves (every client built from the stack's environment,
// each area on its own server), against the bare call to the Connect SA
// sandbox with the same form, both at zero sandbox latency, on one running
// stack, with the repeat interval on (every consultation after the first a
// confirmed repeat). Between the service and each stand-in (DynamoDB, S3, Secrets
// Manager, the sandbox) a proxy records every call's start and end, so that
// the calls of a consultation are counted and those that overlap count as
// one sequential round trip.
//
// It reports the medians and p90s of both, their difference (the service's
// own work), the AWS calls and sequential AWS round trips per consultation,
// and the ratio at CONSULTATION_BENCH_LATENCY (default 300ms) of sandbox
// latency: the consultation's median over the bare call's median, both
// measured with the sandbox answering that late. b.N consultations are
// measured at zero latency (after 5 to warm the container); a tenth of
// them, at least 5, at the latency. CONSULTATION_BENCH_CPUPROFILE names a
// file for a CPU profile of the zero-latency consultations.
//
//	go test ./infra/e2e/ -run '^$' -bench 'Consultation$' -benchtime 60x
func BenchmarkConsultation(b *testing.B) {
	latency := 300 * time.Millisecond
	if v := os.Getenv("CONSULTATION_BENCH_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatal(err)
		}
		latency = d
	}
	rig := newConsultationRig(b)
	consult, bare, st := rig.consult, rig.bare, rig.st

	// A warm container: the first consultations pay the connections and
	// the caches' first reads.
	for range 5 {
		consult()
	}
	if f := os.Getenv("CONSULTATION_BENCH_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			b.Fatal(err)
		}
		if err := pprof.StartCPUProfile(out); err != nil {
			b.Fatal(err)
		}
		defer func() { pprof.StopCPUProfile(); out.Close() }()
	}
	var took, bareTook []float64
	var callCounts, rounds []float64
	var trace []awsCall
	b.ResetTimer()
	for i := range b.N {
		d, aws := consult()
		took = append(took, ms(d))
		callCounts = append(callCounts, float64(len(aws)))
		rounds = append(rounds, float64(sequentialRounds(aws)))
		if i == b.N-1 {
			trace = aws
		}
		bareTook = append(bareTook, ms(bare()))
	}
	b.StopTimer()
	if f := os.Getenv("CONSULTATION_BENCH_CPUPROFILE"); f != "" {
		pprof.StopCPUProfile()
	}

	slowN := max(5, b.N/10)
	st.Sandbox.SetConfig(sandbox.Config{Latency: latency})
	var slow, slowBare []float64
	for range slowN {
		d, _ := consult()
		slow = append(slow, ms(d))
		slowBare = append(slowBare, ms(bare()))
	}
	st.Sandbox.SetConfig(sandbox.Config{})

	b.Logf("one consultation's AWS calls (ms from the first call's start):\n%s", formatTrace(trace))
	b.ReportMetric(median(took), "consult-ms-p50")
	b.ReportMetric(percentile(took, 0.9), "consult-ms-p90")
	b.ReportMetric(median(bareTook), "sandbox-ms-p50")
	b.ReportMetric(percentile(bareTook, 0.9), "sandbox-ms-p90")
	b.ReportMetric(median(took)-median(bareTook), "own-ms-p50")
	b.ReportMetric(median(callCounts), "aws-calls")
	b.ReportMetric(median(rounds), "aws-rounds")
	b.ReportMetric(median(slow)/median(slowBare), "ratio-at-"+strconv.Itoa(int(latency.Milliseconds()))+"ms")
	b.ReportMetric(median(slow), "consult-ms-p50-at-"+strconv.Itoa(int(latency.Milliseconds()))+"ms")
	b.ReportMetric(0, "ns/op")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentile is the nearest-rank percentile p (0..1) of xs.
func percentile(xs []float64, p float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	i := int(float64(len(s))*p+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func formatTrace(calls []awsCall) string {
	if len(calls) == 0 {
		return "  (none)"
	}
	slices.SortFunc(calls, func(a, b awsCall) int { return a.start.Compare(b.start) })
	t0 := calls[0].start
	var sb strings.Builder
	for _, c := range calls {
		fmt.Fprintf(&sb, "  %7.2f – %7.2f  %s %s\n", ms(c.start.Sub(t0)), ms(c.end.Sub(t0)), c.service, c.op)
	}
	return sb.String()
}

// consultationRig is the product as the local runner wires it
// (configuration and clients from the stack's environment, each area on its
// own server behind the local gateway), with a recording proxy between it
// and each stand-in, branch filial-7 integrated with a sandbox account and
// the repeat interval on.
type consultationRig struct {
	st *stack.Stack
	// consult sends one confirmed consultation and answers how long it took
	// and the AWS calls it made.
	consult func() (time.Duration, []awsCall)
	// bare replays the last bureau call straight to the sandbox.
	bare func() time.Duration
}

func newConsultationRig(tb testing.TB) consultationRig {
	tb.Helper()
	st := startStack(tb)

	calls := &callLog{}
	env := st.Env()
	env["AWS_ENDPOINT_URL_DYNAMODB"] = newRecordingProxy(tb, "dynamodb", st.DynamoDBEndpoint, calls)
	env["AWS_ENDPOINT_URL_S3"] = newRecordingProxy(tb, "s3", st.S3Endpoint, calls)
	env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = newRecordingProxy(tb, "secretsmanager", st.SecretsManagerEndpoint, calls)
	var bureau *recordingProxy
	{
		u, _ := url.Parse(st.ConnectSAEndpoint)
		bureau = &recordingProxy{service: "bureau", proxy: httputil.NewSingleHostReverseProxy(u), log: calls}
		srv := httptest.NewServer(bureau)
		tb.Cleanup(srv.Close)
		env["CONNECTSA_HOMOLOGATION_URL"], env["CONNECTSA_PRODUCTION_URL"] = srv.URL, srv.URL
	}
	for k, v := range env {
		tb.Setenv(k, v)
	}
	// As the local runner wires the product: configuration and clients from
	// the environment, one server per area behind the gateway.
	cfg, err := allareas.ConfigFromEnv()
	if err != nil {
		tb.Fatal(err)
	}
	clients, err := allareas.AWSClients(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	product := allareas.New(cfg, clients, log)
	gw := apigateway.New(gatewayKey, log)
	for _, fn := range product.Functions() {
		gw.Area(fn.Area, product.Server(fn.Area))
	}
	srv := httptest.NewServer(gw)
	tb.Cleanup(srv.Close)
	admin, err := localauth.DevToken(gatewayKey, credit.RoleAdmin, time.Hour)
	if err != nil {
		tb.Fatal(err)
	}

	do := func(method, path, body string) (int, string) {
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+admin)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(raw)
	}
	for _, req := range []struct{ method, path, body string }{
		{"PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
		{"POST", "/integrations", `{"intermediary":"connect","branchId":"filial-7","environment":"homologation",
			"login":"` + sandboxtest.Account().Credentials.Login + `","consultationPassword":"Sand@123","pefinPassword":"246802",
			"defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725","automation":{"enabled":false}}`},
	} {
		if status, body := do(req.method, req.path, req.body); status >= 300 {
			tb.Fatalf("%s %s: %d %s", req.method, req.path, status, body)
		}
	}
	// The interval rule is on, as an ISP runs it: every consultation after
	// the first is a confirmed repeat.
	const consultation = `{"document":"529.982.247-25","branchId":"filial-7","uf":"SP","confirmRepeat":true}`
	consult := func() (time.Duration, []awsCall) {
		start := time.Now()
		status, body := do("POST", "/consultations", consultation)
		took := time.Since(start)
		if status != http.StatusCreated {
			tb.Fatalf("POST /consultations: %d %s", status, body)
		}
		var aws []awsCall
		for _, c := range calls.since(start) {
			if c.service != "bureau" {
				aws = append(aws, c)
			}
		}
		return took, aws
	}
	bare := func() time.Duration {
		bureau.mu.Lock()
		last, body := bureau.last, bureau.body
		bureau.mu.Unlock()
		req, err := http.NewRequest(last.Method, st.ConnectSAEndpoint+last.URL.RequestURI(), bytes.NewReader(body))
		if err != nil {
			tb.Fatal(err)
		}
		req.Header = last.Header.Clone()
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			tb.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK {
			tb.Fatalf("sandbox: %s", resp.Status)
		}
		return took
	}

	return consultationRig{st: st, consult: consult, bare: bare}
}
