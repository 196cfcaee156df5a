package sandbox_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConsultationPasswordRules(t *testing.T) {
	tests := []struct {
		password string
		ok       bool
	}{
		{"Abc@1234", true},
		{"zZ9!zZ9!", true},
		{"#1aB#1aB", true},
		{"Abc@123", false},   // 7
		{"Abc@12345", false}, // 9
		{"abc@1234", false},  // no upper
		{"ABC@1234", false},  // no lower
		{"Abcd@efg", false},  // no digit
		{"Abcd1234", false},  // no special
		{"Abc$1234", false},  // special outside @#!
		{"Abc 1234", false},  // space
		{"Ábc@1234", false},  // accented letter, 8 characters
		{"Аbc@1234", false},  // Cyrillic A look-alike
		{"Abc@１２３", false},   // full-width digits
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			v := sandbox.ConsultationPasswordViolations(tt.password)
			if tt.ok {
				assert.Empty(t, v)
			} else {
				assert.NotEmpty(t, v)
			}
		})
	}
	assert.Len(t, sandbox.ConsultationPasswordViolations(""), 5, "every rule broken is named")
}

func TestPEFINPasswordRules(t *testing.T) {
	tests := []struct {
		password string
		ok       bool
	}{
		{"147258", true},
		{"890246", true}, // 8-9-0 wraps around: not a run
		{"135791", true},
		{"111111", true}, // repeated, not sequential
		{"098642", true}, // 0-9 is not a step
		{"975421", true}, // steps of 2 and 1, never two steps of 1 in a row
		{"246810", true},
		{"123580", false},
		{"580123", false},
		{"012468", false}, // 012 is a run
		{"987135", false},
		{"864210", false},
		{"24680", false},
		{"2468024", false},
		{"24a680", false},
		{"２４６８０２", false}, // full-width digits
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			v := sandbox.PEFINPasswordViolations(tt.password)
			if tt.ok {
				assert.Empty(t, v)
			} else {
				assert.NotEmpty(t, v)
			}
		})
	}
}

func TestScenarioDocumentsAreValidAndDocumented(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	seen := map[string]bool{}
	for _, s := range sandbox.Scenarios {
		d, err := credit.ParseDocument(s.Document)
		require.NoError(t, err, s.Document)
		assert.Equal(t, s.Document, d.Formatted(), "written formatted")
		assert.False(t, seen[d.Number()], "%s twice", s.Document)
		seen[d.Number()] = true
		assert.Contains(t, string(readme), s.Document, "README lists %s", s.Document)
		assert.NotEmpty(t, s.Consultation)
		assert.NotEmpty(t, s.Negativation)
	}
}

// post sends a form to the sandbox and decodes the JSON answer.
func post(t *testing.T, url string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := http.PostForm(url, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	var m map[string]any
	if resp.Header.Get("Content-Type") == "application/json; charset=utf-8" {
		require.NoError(t, json.Unmarshal(body, &m), string(body))
	}
	return resp.StatusCode, m
}

func code(m map[string]any) float64 {
	st, _ := m["status"].(map[string]any)
	c, _ := st["codigoResposta"].(float64)
	return c
}

func consultForm(login, doc string) url.Values {
	return url.Values{"login": {login}, "password": {"Pass@123"}, "consulta": {"RELATORIO_SCORE"}, "tipodocumento": {"F"}, "documento": {doc}, "uf": {"SP"}, "estatica": {"S"}}
}

func inclusionForm(login, ref, debtor string, due time.Time) url.Values {
	return url.Values{
		"login": {login}, "senhapefin": {"147258"}, "referencia": {ref}, "enviasms": {"N"}, "cpfresponsavel": {"52998224725"},
		"tipodocumento": {"F"}, "documento": {debtor}, "nome": {"Fulano"}, "datanascimento": {"01/01/1980"}, "sexo": {"M"},
		"logradouro": {"Rua A"}, "numero": {"1"}, "bairro": {"Centro"}, "cidade": {"São Paulo"}, "uf": {"SP"}, "cep": {"01001000"},
		"codigorestricao": {"01"}, "contrato": {"C1"}, "datavencimento": {due.Format("02/01/2006")}, "valor": {"99,90"},
	}
}

// The large report is a legitimate answer of about 2 MB: bigger than a
// DynamoDB item can hold, smaller than the adapter's 4 MiB limit.
func TestLargeReportScenario(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(srv.Close)
	resp, err := http.PostForm(srv.URL+sandbox.PathConsult, consultForm("large", "10000001252"))
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Greater(t, len(body), 1_500_000, "about 2 MB")
	assert.Less(t, len(body), 4<<20, "within the adapter's limit")
	var m map[string]any
	require.NoError(t, json.Unmarshal(body, &m))
	require.EqualValues(t, 0, code(m))
	summary := m["resultado"].(map[string]any)["quadroResumoConsta"].(map[string]any)
	assert.EqualValues(t, 15000, summary["quantidadeTotalOcorrencias"])
}

func TestReportsAreDeterministicAndVaried(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(srv.Close)
	nothing, something := 0, 0
	for _, doc := range []string{"52998224725", "39053344705", "11144477735", "12345678909", "98765432100", "07068093868", "86288366757", "15350946056", "46171783846", "71428793860", "24681357928", "31415926590"} {
		_, first := post(t, srv.URL+sandbox.PathConsult, consultForm("det", doc))
		_, second := post(t, srv.URL+sandbox.PathConsult, consultForm("det", doc))
		require.EqualValues(t, 0, code(first), doc)
		assert.Equal(t, first["resultado"], second["resultado"], doc)
		if first["resultado"].(map[string]any)["quadroResumoConsta"].(map[string]any)["quantidadeTotalOcorrencias"].(float64) == 0 {
			nothing++
		} else {
			something++
		}
	}
	assert.Positive(t, nothing, "some derived documents have nothing recorded")
	assert.Positive(t, something, "some derived documents have restrictions")
}

func TestActivationDelay(t *testing.T) {
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	srv := httptest.NewServer(sandbox.New(sandbox.Config{ActivationDelay: 10 * 24 * time.Hour, Now: clock}))
	t.Cleanup(srv.Close)
	due := now.AddDate(0, 0, -30)
	_, m := post(t, srv.URL+sandbox.PathInclude, inclusionForm("act", "r1", "10000000108", due))
	require.EqualValues(t, 0, code(m), m)
	_, m = post(t, srv.URL+sandbox.PathInclude, inclusionForm("act", "r2", "10000000957", due))
	require.EqualValues(t, 0, code(m), m)

	situations := func() []string {
		_, m := post(t, srv.URL+sandbox.PathStatus, url.Values{"login": {"act"}, "senhapefin": {"147258"}, "referencia": {"r1", "r2"}})
		var s []string
		for _, r := range m["registros"].([]any) {
			s = append(s, r.(map[string]any)["situacao"].(string))
		}
		return s
	}
	assert.Equal(t, []string{"PENDENTE", "PENDENTE"}, situations())
	mu.Lock()
	now = now.Add(10*24*time.Hour - time.Second)
	mu.Unlock()
	assert.Equal(t, []string{"PENDENTE", "PENDENTE"}, situations())
	mu.Lock()
	now = now.Add(time.Second)
	mu.Unlock()
	assert.Equal(t, []string{"ATIVO", "REJEITADO"}, situations())
}

func TestInclusionChecksTheLayout(t *testing.T) {
	now := time.Now()
	srv := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name   string
		change func(url.Values)
	}{
		{"due in the future", func(f url.Values) { f.Set("datavencimento", now.AddDate(0, 0, 2).Format("02/01/2006")) }},
		{"debt older than 5 years", func(f url.Values) { f.Set("datavencimento", now.AddDate(-5, 0, -2).Format("02/01/2006")) }},
		{"name too long", func(f url.Values) { f.Set("nome", strings.Repeat("a", 71)) }},
		{"neighbourhood too long", func(f url.Values) { f.Set("bairro", strings.Repeat("b", 21)) }},
		{"underage debtor", func(f url.Values) { f.Set("datanascimento", now.AddDate(-17, 0, 0).Format("02/01/2006")) }},
		{"SMS without phone", func(f url.Values) { f.Set("enviasms", "S") }},
		{"float amount", func(f url.Values) { f.Set("valor", "99.90") }},
		{"zero amount", func(f url.Values) { f.Set("valor", "0,00") }},
		{"unknown restriction code", func(f url.Values) { f.Set("codigorestricao", "99") }},
		{"CNPJ as responsible", func(f url.Values) { f.Set("cpfresponsavel", "11222333000181") }},
		{"kind does not match", func(f url.Values) { f.Set("tipodocumento", "J") }},
		{"bad reference", func(f url.Values) { f.Set("referencia", "a b") }},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := inclusionForm("layout", "ref-"+string(rune('a'+i)), "10000000108", now.AddDate(0, 0, -30))
			tt.change(f)
			_, m := post(t, srv.URL+sandbox.PathInclude, f)
			assert.EqualValues(t, 2, code(m), m)
		})
	}
}

func TestFaults(t *testing.T) {
	sb := sandbox.New(sandbox.Config{})
	srv := httptest.NewServer(sb)
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	status := func(form url.Values) int {
		resp, err := http.PostForm(srv.URL+sandbox.PathConsult, form)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	form := consultForm("faults", "10000000108")

	sb.SetConfig(sandbox.Config{ErrorRate: 1})
	assert.Equal(t, http.StatusServiceUnavailable, status(form))

	sb.SetConfig(sandbox.Config{TimeoutRate: 1, TimeoutAfter: time.Millisecond})
	assert.Equal(t, http.StatusGatewayTimeout, status(form))

	sb.SetConfig(sandbox.Config{ErrorRate: 1, FaultOperations: []sandbox.Operation{sandbox.OpStatus}})
	assert.Equal(t, http.StatusOK, status(form), "faults limited to another operation")

	sb.SetConfig(sandbox.Config{MalformedRate: 1, Seed: 3})
	for range 10 {
		resp, err := http.PostForm(srv.URL+sandbox.PathConsult, form)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var answer struct {
			Status struct {
				Code int `json:"codigoResposta"`
			} `json:"status"`
			Result map[string]any `json:"resultado"`
		}
		err = json.Unmarshal(body, &answer)
		assert.True(t, err != nil || answer.Result == nil, "malformed answer decoded cleanly: %.80s", body)
	}

	// A lost answer: the work is done, the client only hears late.
	sb.SetConfig(sandbox.Config{LostAnswerRate: 1, TimeoutAfter: time.Millisecond})
	_, m := post(t, srv.URL+sandbox.PathInclude, inclusionForm("faults", "lost-1", "10000000108", time.Now().AddDate(0, 0, -30)))
	assert.EqualValues(t, 0, code(m))
	sb.SetConfig(sandbox.Config{})
	_, m = post(t, srv.URL+sandbox.PathStatus, url.Values{"login": {"faults"}, "senhapefin": {"147258"}, "referencia": {"lost-1"}})
	assert.Len(t, m["registros"], 1)
}

func TestSeedReproducesFaults(t *testing.T) {
	pattern := func() []int {
		sb := sandbox.New(sandbox.Config{ErrorRate: 0.5, Seed: 42})
		var codes []int
		for range 30 {
			w := httptest.NewRecorder()
			r := httptest.NewRequest(http.MethodPost, sandbox.PathProducts, strings.NewReader("login=a&password=Pass%40123"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			sb.ServeHTTP(w, r)
			codes = append(codes, w.Code)
		}
		return codes
	}
	first := pattern()
	assert.Equal(t, first, pattern())
	assert.Contains(t, first, http.StatusOK)
	assert.Contains(t, first, http.StatusServiceUnavailable)
}

func TestStallEndsWhenTheClientLeaves(t *testing.T) {
	sb := sandbox.New(sandbox.Config{TimeoutRate: 1})
	srv := httptest.NewServer(sb)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+sandbox.PathProducts, strings.NewReader("login=a&password=x"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err)
	// Close waits for every handler: it returns only because the stalled one
	// noticed the client had gone.
	srv.Close()
}

func TestRequestsOutsideTheProtocol(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(sandbox.Config{}))
	t.Cleanup(srv.Close)
	resp, err := http.Get(srv.URL + sandbox.PathConsult)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)

	resp, err = http.PostForm(srv.URL+"/mercurio/ws_outro/", url.Values{})
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)

	code, m := post(t, srv.URL+sandbox.PathConsult, url.Values{"login": {"big"}, "password": {strings.Repeat("x", 70<<10)}})
	assert.Equal(t, http.StatusBadRequest, code)
	assert.NotNil(t, m["status"])

	resp, err = http.Get(srv.URL + "/health")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestConcurrentUse(t *testing.T) {
	srv := httptest.NewServer(sandbox.New(sandbox.Config{LatencyJitter: time.Millisecond, Seed: 1}))
	t.Cleanup(srv.Close)
	due := time.Now().AddDate(0, 0, -30)
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			login := "conc-" + string(rune('a'+i%4))
			for j := range 5 {
				ref := login + "-" + string(rune('a'+j))
				_, m := post(t, srv.URL+sandbox.PathInclude, inclusionForm(login, ref, "10000000108", due))
				assert.EqualValues(t, 0, code(m))
				_, m = post(t, srv.URL+sandbox.PathConsult, consultForm(login, "10000000280"))
				assert.EqualValues(t, 0, code(m))
			}
		}()
	}
	wg.Wait()
	for _, login := range []string{"conc-a", "conc-b", "conc-c", "conc-d"} {
		refs := url.Values{"login": {login}, "senhapefin": {"147258"}}
		for j := range 5 {
			refs.Add("referencia", login+"-"+string(rune('a'+j)))
		}
		_, m := post(t, srv.URL+sandbox.PathStatus, refs)
		assert.Len(t, m["registros"], 5, login)
	}
}
