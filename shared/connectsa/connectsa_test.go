package connectsa_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/shared/connectsa"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testConfig keeps the deadlines short, so that the timeout scenarios end
// quickly, yet far above a loopback call.
func testConfig() connectsa.Config {
	return connectsa.Config{ConsultTimeout: 1500 * time.Millisecond, CallTimeout: 1500 * time.Millisecond}
}

func TestBureauContract(t *testing.T) {
	credittest.Bureau(t, func(t *testing.T) (credit.Bureau, credit.BureauAccount) {
		client, _ := sandboxtest.Bureau(t, sandbox.Config{}, testConfig())
		return client, sandboxtest.Account()
	})
}

// recorder wraps the sandbox and keeps every request's path, form and
// headers.
type recorder struct {
	next http.Handler
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	path   string
	form   url.Values
	header http.Header
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	req.ParseForm()
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{req.URL.Path, req.PostForm, req.Header.Clone()})
	r.mu.Unlock()
	r.next.ServeHTTP(w, req)
}

func (r *recorder) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, q := range r.reqs {
		if q.path == path {
			n++
		}
	}
	return n
}

func (r *recorder) last() recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reqs[len(r.reqs)-1]
}

func newRecorded(t *testing.T, cfg sandbox.Config, adapter connectsa.Config) (*connectsa.Client, *sandbox.Server, *recorder) {
	sb := sandbox.New(cfg)
	rec := &recorder{next: sb}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	adapter.BaseURLs = map[credit.Environment]string{credit.EnvironmentHomologation: srv.URL, credit.EnvironmentProduction: srv.URL + "/"}
	return connectsa.New(adapter, nil), sb, rec
}

var ctx = context.Background()

func cpfQuery(doc credit.Document) credit.ConsultQuery {
	return credit.ConsultQuery{Document: doc, Plan: credit.PlanReportScore, UF: "SP", CEP: "01001000", Phone: "11987654321"}
}

func TestConsultationWireFields(t *testing.T) {
	client, _, rec := newRecorded(t, sandbox.Config{}, testConfig())
	acct := sandboxtest.Account()
	_, err := client.Consult(ctx, acct, cpfQuery(credittest.BureauPendencies))
	require.NoError(t, err)
	got := rec.last()
	assert.Equal(t, "/mercurio/ws_consulta/", got.path)
	assert.Equal(t, url.Values{
		"login": {acct.Credentials.Login}, "password": {acct.Credentials.ConsultationPassword},
		"consulta": {"RELATORIO_SCORE"}, "tipodocumento": {"F"}, "documento": {"10000000280"},
		"uf": {"SP"}, "cep": {"01001000"}, "telefone": {"11987654321"}, "estatica": {"S"}, "tiporesposta": {"json"},
	}, got.form)
	assert.Equal(t, "application/x-www-form-urlencoded", got.header.Get("Content-Type"))

	acct.Environment = credit.EnvironmentProduction
	_, err = client.Consult(ctx, acct, credit.ConsultQuery{Document: credittest.BureauCompanyClean, Plan: credit.PlanCrednetTop})
	require.NoError(t, err)
	got = rec.last()
	assert.Equal(t, "N", got.form.Get("estatica"), "production is the real, charged consultation")
	assert.Equal(t, "J", got.form.Get("tipodocumento"))
	assert.Equal(t, "CREDNET_TOP", got.form.Get("consulta"))
}

func TestInclusionWireFields(t *testing.T) {
	client, _, rec := newRecorded(t, sandbox.Config{}, testConfig())
	acct := sandboxtest.Account()
	req := credittest.BureauNegativation("neg-wire", credittest.BureauNothingRecorded)
	req.Debtor.Name = strings.Repeat("Nome Muito Comprido ", 6) // 120 characters
	req.Debtor.Address.Neighborhood = "Jardim Paulista da Zona Sul"
	req.Debt.Amount = 123456
	_, err := client.Include(ctx, acct, req)
	require.NoError(t, err, "text longer than the layout is cut to fit")
	got := rec.last()
	assert.Equal(t, "/mercurio/ws_pefin/inclusao/", got.path)
	assert.Equal(t, "neg-wire", got.header.Get("Idempotency-Key"))
	assert.Equal(t, "neg-wire", got.form.Get("referencia"))
	assert.Equal(t, "1234,56", got.form.Get("valor"))
	assert.Equal(t, "S", got.form.Get("enviasms"))
	assert.Equal(t, "F", got.form.Get("sexo"))
	assert.Equal(t, "12/04/1985", got.form.Get("datanascimento"))
	assert.Equal(t, 70, len([]rune(got.form.Get("nome"))))
	assert.Equal(t, "Jardim Paulista da Z", got.form.Get("bairro"))
	assert.Equal(t, acct.Credentials.PEFINPassword, got.form.Get("senhapefin"))
	assert.Empty(t, got.form.Get("password"), "the consultation password is not sent where it is not needed")
}

func TestChargedCallsAreNotRetried(t *testing.T) {
	client, _, rec := newRecorded(t, sandbox.Config{ErrorRate: 1}, testConfig())
	acct := sandboxtest.Account()
	_, err := client.Consult(ctx, acct, cpfQuery(credittest.BureauNothingRecorded))
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
	assert.Equal(t, 1, rec.count("/mercurio/ws_consulta/"), "a consultation that may have been charged is not repeated")

	err = client.ChangeConsultationPassword(ctx, acct, "Abc@1234")
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
	assert.Equal(t, 1, rec.count("/mercurio/ws_senha/"))

	_, err = client.Status(ctx, acct, []string{"x"})
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
	assert.Equal(t, 3, rec.count("/mercurio/ws_pefin/situacao/"), "idempotent calls are retried")

	_, err = client.Include(ctx, acct, credittest.BureauNegativation("neg-retry", credittest.BureauNothingRecorded))
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
	assert.Equal(t, 3, rec.count("/mercurio/ws_pefin/inclusao/"), "an inclusion is idempotent by its reference")
}

func TestRetriesRecoverFromTransientFaults(t *testing.T) {
	// Every other call fails: an idempotent call gets through on a retry.
	client, sb, rec := newRecorded(t, sandbox.Config{}, testConfig())
	acct := sandboxtest.Account()
	var n atomic.Int64
	flaky := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1)%2 == 1 {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		sb.ServeHTTP(w, r)
	})
	rec.next = flaky
	codes, err := client.RemovalCodes(ctx, acct)
	require.NoError(t, err)
	assert.NotEmpty(t, codes)
	assert.Equal(t, 2, rec.count("/mercurio/ws_pefin/codigos/"))
}

func TestConsultationRetriedOnlyWhenNeverSent(t *testing.T) {
	// A port nobody listens on: the connection is refused, so the request
	// provably never left and may be tried again.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	var dials atomic.Int64
	transport := http.DefaultTransport.(*http.Transport).Clone()
	dialer := &net.Dialer{}
	transport.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		dials.Add(1)
		return dialer.DialContext(ctx, network, address)
	}
	cfg := testConfig()
	cfg.BaseURLs = map[credit.Environment]string{credit.EnvironmentHomologation: "http://" + addr}
	client := connectsa.New(cfg, &http.Client{Transport: transport})
	_, err = client.Consult(ctx, sandboxtest.Account(), cpfQuery(credittest.BureauNothingRecorded))
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
	assert.Equal(t, int64(3), dials.Load())
}

func TestLostPasswordChangeIsFoundByCheckingCredentials(t *testing.T) {
	client, sb, _ := newRecorded(t, sandbox.Config{}, testConfig())
	acct := sandboxtest.Account()
	_, err := client.CheckCredentials(ctx, acct) // enrol
	require.NoError(t, err)
	sb.SetConfig(sandbox.Config{LostAnswerRate: 1, FaultOperations: []sandbox.Operation{sandbox.OpPassword}})
	err = client.ChangeConsultationPassword(ctx, acct, "Nova@123")
	require.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))

	// The answer was lost but the bureau applied the change: the access
	// check, which the fault does not touch, tells.
	check, err := client.CheckCredentials(ctx, acct)
	require.NoError(t, err)
	assert.False(t, check.Consultation)
	changed := acct
	changed.Credentials.ConsultationPassword = "Nova@123"
	check, err = client.CheckCredentials(ctx, changed)
	require.NoError(t, err)
	assert.True(t, check.OK())
}

func TestMisconfiguration(t *testing.T) {
	client := connectsa.New(connectsa.Config{BaseURLs: map[credit.Environment]string{credit.EnvironmentHomologation: "http://127.0.0.1:1"}}, nil)
	acct := sandboxtest.Account()
	acct.Environment = credit.EnvironmentProduction
	_, err := client.Plans(ctx, acct)
	assert.Equal(t, credit.CodeInternal, credit.ErrorCode(err), "an environment without URL is our fault")

	noCode := connectsa.New(connectsa.Config{ProductCodes: map[credit.Plan]string{credit.PlanReportScore: "RELATORIO_SCORE"}}, nil)
	_, err = noCode.Consult(ctx, sandboxtest.Account(), credit.ConsultQuery{Document: credittest.BureauCompanyClean, Plan: credit.PlanCrednetTop})
	assert.Equal(t, credit.CodeInternal, credit.ErrorCode(err))
}

func TestPlansSkipUnknownProducts(t *testing.T) {
	client, _, _ := newRecorded(t, sandbox.Config{}, testConfig())
	plans, err := client.Plans(ctx, sandboxtest.Account())
	require.NoError(t, err)
	var got []credit.Plan
	for _, p := range plans {
		got = append(got, p.Plan)
	}
	assert.ElementsMatch(t, []credit.Plan{credit.PlanNegativeIndicator, credit.PlanCrednetTop, credit.PlanReportScore}, got)

	scoreOnly := sandboxtest.Account()
	scoreOnly.Credentials.Login = sandbox.ScoreOnlyLoginPrefix + "-isp"
	plans, err = client.Plans(ctx, scoreOnly)
	require.NoError(t, err)
	require.Len(t, plans, 1)
	assert.Equal(t, credit.PlanReportScore, plans[0].Plan)
	_, err = client.Consult(ctx, scoreOnly, credit.ConsultQuery{Document: credittest.BureauCompanyClean, Plan: credit.PlanCrednetTop})
	assert.Equal(t, credit.CodeBureauRejected, credit.ErrorCode(err))
}

func TestRedirectsAreNotFollowed(t *testing.T) {
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { leaked.Store(true) }))
	t.Cleanup(elsewhere.Close)
	redirecting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redirecting.Close)
	cfg := testConfig()
	cfg.BaseURLs = map[credit.Environment]string{credit.EnvironmentHomologation: redirecting.URL}
	client := connectsa.New(cfg, &http.Client{})
	_, err := client.CheckCredentials(ctx, sandboxtest.Account())
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
	assert.False(t, leaked.Load(), "credentials followed a redirect")
}

func TestHostileAnswers(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
		code   string
	}{
		{"empty 200", 200, "", credit.CodeBureauMalformedAnswer},
		{"html 200", 200, "<html>oops</html>", credit.CodeBureauMalformedAnswer},
		{"no status", 200, `{"resultado":{}}`, credit.CodeBureauMalformedAnswer},
		{"status without code", 200, `{"status":{"mensagem":"ok"}}`, credit.CodeBureauMalformedAnswer},
		{"unknown code", 200, `{"status":{"codigoResposta":42}}`, credit.CodeBureauMalformedAnswer},
		{"code as text", 200, `{"status":{"codigoResposta":"0","protocolo":123},"resultado":{"identificacao":{"nome":"X"}}}`, ""},
		{"wrong types", 200, `{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"pendenciasFinanceiras":{"registros":"many"}}}`, credit.CodeBureauMalformedAnswer},
		{"float amount", 200, `{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"protestos":{"registros":[{"data":"01/02/2024","valor":"12.5"}]}}}`, credit.CodeBureauMalformedAnswer},
		{"negative score", 200, `{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"score":{"pontuacao":-1}}}`, credit.CodeBureauMalformedAnswer},
		{"count below entries", 200, `{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"protestos":{"quantidadeOcorrencias":0,"registros":[{"data":"01/02/2024","valor":"R$ 1,00"}]}}}`, credit.CodeBureauMalformedAnswer},
		{"another person's report", 200, `{"status":{"codigoResposta":0,"protocolo":"1"},"entrada":{"documentoConsultado":"529.982.247-25"},"resultado":{}}`, credit.CodeBureauMalformedAnswer},
		{"truncated", 200, `{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{"ident`, credit.CodeBureauMalformedAnswer},
		{"trailing garbage", 200, `{"status":{"codigoResposta":0,"protocolo":"1"},"resultado":{}}{"x":1}`, credit.CodeBureauMalformedAnswer},
		{"bureau error code", 200, `{"status":{"codigoResposta":9,"mensagem":"falha"}}`, credit.CodeBureauUnavailable},
		{"rejected with a status in a 4xx", 400, `{"status":{"codigoResposta":2,"mensagem":"Documento bloqueado"}}`, credit.CodeBureauRejected},
		{"plain 404", 404, "not found", credit.CodeBureauUnavailable},
		{"502", 502, "bad gateway", credit.CodeBureauUnavailable},
		{"huge", 200, `{"status":{"codigoResposta":0,"mensagem":"` + strings.Repeat("a", 5000) + `"}}`, credit.CodeBureauMalformedAnswer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(tt.status)
				w.Write([]byte(tt.body))
			}))
			t.Cleanup(srv.Close)
			cfg := testConfig()
			cfg.MaxBodyBytes = 4096
			cfg.BaseURLs = map[credit.Environment]string{credit.EnvironmentHomologation: srv.URL}
			client := connectsa.New(cfg, nil)
			_, err := client.Consult(ctx, sandboxtest.Account(), cpfQuery(credittest.BureauNothingRecorded))
			assert.Equal(t, tt.code, credit.ErrorCode(err), "%v", err)
		})
	}
}

func TestLogsNeverShowSecretsNorDocuments(t *testing.T) {
	var logs bytes.Buffer
	cfg := testConfig()
	cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	client, _, _ := newRecorded(t, sandbox.Config{}, cfg)
	acct := sandboxtest.Account()
	_, err := client.Consult(ctx, acct, cpfQuery(credittest.BureauSeveralKinds))
	require.NoError(t, err)
	_, err = client.Include(ctx, acct, credittest.BureauNegativation("neg-logs", credittest.BureauPendencies))
	require.NoError(t, err)
	require.NoError(t, client.ChangePEFINPassword(ctx, acct, "258147"))
	_, err = client.Consult(ctx, acct, cpfQuery(credittest.BureauServerError))
	require.Error(t, err)

	out := logs.String()
	require.Contains(t, out, `"op":"consult"`, "the calls are logged")
	assert.Contains(t, out, credittest.BureauSeveralKinds.Masked())
	for _, secret := range []string{acct.Credentials.ConsultationPassword, acct.Credentials.PEFINPassword, "258147",
		credittest.BureauSeveralKinds.Number(), credittest.BureauPendencies.Number(), credittest.BureauServerError.Number()} {
		assert.NotContains(t, out, secret)
	}
}

func TestFaultsCanTargetOneOperation(t *testing.T) {
	client, _, _ := newRecorded(t, sandbox.Config{ErrorRate: 1, FaultOperations: []sandbox.Operation{sandbox.OpStatus}}, testConfig())
	acct := sandboxtest.Account()
	_, err := client.Consult(ctx, acct, cpfQuery(credittest.BureauNothingRecorded))
	require.NoError(t, err)
	_, err = client.Status(ctx, acct, []string{"x"})
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
}

func TestMalformedFaultsNeverPanic(t *testing.T) {
	client, _, _ := newRecorded(t, sandbox.Config{MalformedRate: 1, Seed: 7}, testConfig())
	acct := sandboxtest.Account()
	for range 20 {
		_, err := client.Consult(ctx, acct, cpfQuery(credittest.BureauSeveralKinds))
		assert.Equal(t, credit.CodeBureauMalformedAnswer, credit.ErrorCode(err), "%v", err)
	}
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("CONNECTSA_HOMOLOGATION_URL", "http://127.0.0.1:8089/")
	t.Setenv("CONNECTSA_PRODUCTION_URL", "https://bureau.example")
	t.Setenv("CONNECTSA_CONSULT_TIMEOUT", "12s")
	t.Setenv("CONNECTSA_CALL_TIMEOUT", "")
	t.Setenv("CONNECTSA_PRODUCT_CODES", "report_score=REL_SCORE_V2")
	cfg, err := connectsa.ConfigFromEnv()
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8089", cfg.BaseURLs[credit.EnvironmentHomologation])
	assert.Equal(t, "https://bureau.example", cfg.BaseURLs[credit.EnvironmentProduction])
	assert.Equal(t, 12*time.Second, cfg.ConsultTimeout)
	assert.Equal(t, connectsa.DefaultCallTimeout, cfg.CallTimeout)
	assert.Equal(t, "REL_SCORE_V2", cfg.ProductCodes[credit.PlanReportScore])
	assert.Equal(t, "CREDNET_TOP", cfg.ProductCodes[credit.PlanCrednetTop])
	assert.Less(t, cfg.ConsultTimeout, 30*time.Second)

	for name, value := range map[string]string{
		"CONNECTSA_PRODUCTION_URL":  "bureau.example",
		"CONNECTSA_CALL_TIMEOUT":    "ten",
		"CONNECTSA_MAX_BODY_BYTES":  "12",
		"CONNECTSA_PRODUCT_CODES":   "all=X",
		"CONNECTSA_CONSULT_TIMEOUT": "-1s",
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv(name, value)
			_, err := connectsa.ConfigFromEnv()
			assert.Error(t, err)
		})
	}
}

// TestRequestDeadlineWinsOverTheAdapterTimeout: against a slow bureau, a
// call ends at its context's deadline, long before the adapter's own
// timeout, as bureau_unavailable. The bounds are guards, not measurements.
func TestRequestDeadlineWinsOverTheAdapterTimeout(t *testing.T) {
	client, _ := sandboxtest.Bureau(t, sandbox.Config{Latency: 5 * time.Second},
		connectsa.Config{ConsultTimeout: 20 * time.Second, CallTimeout: 10 * time.Second})
	acct := sandboxtest.Account()
	tests := []struct {
		name string
		call func(ctx context.Context) error
	}{
		{"consultation", func(ctx context.Context) error {
			_, err := client.Consult(ctx, acct, cpfQuery(credittest.BureauPendencies))
			return err
		}},
		{"plans", func(ctx context.Context) error { _, err := client.Plans(ctx, acct); return err }},
		{"status", func(ctx context.Context) error { _, err := client.Status(ctx, acct, []string{"n-1"}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			err := tt.call(ctx)
			assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err), "%v", err)
			assert.Less(t, time.Since(start), 3*time.Second, "ended at the request's deadline, not the adapter's timeout")
		})
	}
}
