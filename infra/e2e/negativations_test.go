package e2e_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Plan of the negativations function for TestFunctionsUnderRIE: a fresh
// stack with the master switch off refuses new inclusions, still reads,
// and still syncs and removes.
func init() {
	plans["negativations"] = []step{
		{fixture: "create-negativation", status: 403, code: "credit_analysis_disabled"},
		{fixture: "create-negativation-bureau-unavailable", status: 403, code: "credit_analysis_disabled"},
		{fixture: "create-negativation-unknown-field", status: 400, code: "unknown_field"},
		{fixture: "create-negativation-viewer-forbidden", status: 403, code: "forbidden"},
		{fixture: "get-negativation-missing", status: 404, code: "not_found"},
		{fixture: "list-negativations", status: 200, body: `{"items":[],"nextCursor":null}`},
		{fixture: "list-negativations-invalid-filter", status: 400, code: "validation_failed"},
		{fixture: "list-pending-removals", status: 200, body: `{"items":[],"nextCursor":null}`},
		{fixture: "sync-negativations", status: 404, code: "not_found"},
		{fixture: "sync-negativations-collector-forbidden", status: 403, code: "forbidden"},
		{fixture: "remove-negativation", status: 404, code: "not_found"},
	}
}

// inclusionCounter counts the inclusions that reach the bureau, in all and
// per reference.
type inclusionCounter struct {
	all atomic.Int64
	mu  sync.Mutex
	ref map[string]int
}

func (c *inclusionCounter) Load() int64 { return c.all.Load() }

func (c *inclusionCounter) of(reference string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ref[reference]
}

// countingProxy forwards to the sandbox and counts the inclusions that
// reach it, so a test can tell one registration from several.
func countingProxy(t *testing.T, target string) (string, *inclusionCounter) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	c := &inclusionCounter{ref: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == sandbox.PathInclude {
			raw, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(raw))
			form, _ := url.ParseQuery(string(raw))
			c.all.Add(1)
			c.mu.Lock()
			c.ref[form.Get("referencia")]++
			c.mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, c
}

// TestNegativationEndToEnd negativates through the negativations function's
// bootstrap under the Lambda Runtime Interface Emulator, on the local stack
// (DynamoDB Local, Secrets Manager stand-in, Connect SA sandbox): several
// instances race for one invoice, then the events/negativations fixtures
// run in the order a collector would send them, every answer checked against
// openapi.yaml and for full documents.
func TestNegativationEndToEnd(t *testing.T) {
	root := moduleRoot(t)
	rie := rieBinary(t, root)
	spec := apispec.Load(t)

	st := startStack(t)
	bureauURL, inclusions := countingProxy(t, st.ConnectSAEndpoint)
	env := st.Env()
	env["CONNECTSA_HOMOLOGATION_URL"], env["CONNECTSA_PRODUCTION_URL"] = bureauURL, bureauURL

	// The rest of the product, in process on the same stack: the switch on,
	// branch filial-7 integrated with a sandbox account, the customers and
	// their invoices pushed by the ERP.
	p := stackApp(t, st, stackConfig(t, st, bureauURL), nil)
	setup, admin := serveAreas(t, p, nil, p.ParametersHandler(), p.IntegrationsHandler(), p.PartiesHandler())
	call := func(method, path, body string) map[string]any {
		t.Helper()
		resp, raw := httpDo(t, method, setup+path, admin, body)
		require.Less(t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
		var out map[string]any
		if len(raw) > 0 {
			require.NoError(t, json.Unmarshal(raw, &out))
		}
		return out
	}
	call("PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":0}`)
	integration := call("POST", "/integrations", `{"intermediary":"connect","branchId":"filial-7","environment":"homologation",
		"login":"`+sandboxtest.Account().Credentials.Login+`","consultationPassword":"Sand@123","pefinPassword":"246802",
		"defaultPlan":"report_score","sendSmsOnInclusion":true,"responsibleCpf":"52998224725",
		"automation":{"enabled":true,"restrictionCode":"02","removalCode":"01","daysAfterDue":30}}`)
	integrationID := integration["id"].(string)
	complete := func(doc string) string {
		return `{"branchId":"filial-7","document":"` + doc + `","name":"Maria da Silva","gender":"female","birthDate":"1985-03-14",
			"mobilePhone":"(11) 98765-4321","address":{"cep":"01310-100","street":"Avenida Paulista","number":"1000",
			"complement":"Apto 12","neighborhood":"Bela Vista","city":"São Paulo","uf":"SP"}}`
	}
	due := time.Now().In(credit.SaoPaulo()).AddDate(0, -2, 0).Format(time.DateOnly)
	invoice := func(status string) string {
		return `{"amountCents":12990,"dueDate":"` + due + `","status":"` + status + `","contractNumber":"CT-1001","documentNumber":"BOL-55"}`
	}
	call("PUT", "/parties/customers/cli-1001", complete("529.982.247-25"))
	call("PUT", "/parties/customers/cli-1001/invoices/fat-55", invoice("open"))
	call("PUT", "/parties/customers/cli-1001/invoices/fat-56", invoice("paid"))
	call("PUT", "/parties/customers/cli-1003", `{"branchId":"filial-7","document":"111.444.777-35","name":"João Incompleto","mobilePhone":"11987654321",
		"address":{"cep":"30130010","street":"Rua A","number":"1","complement":"Casa","neighborhood":"Centro","city":"Belo Horizonte","uf":"MG"}}`)
	call("PUT", "/parties/customers/cli-1003/invoices/fat-70", invoice("open"))
	call("PUT", "/parties/customers/cli-1004", complete("100.000.007-95")) // the sandbox's 503 document
	call("PUT", "/parties/customers/cli-1004/invoices/fat-80", invoice("open"))

	bootstrap := buildFunction(t, root, "negativations")
	// Several instances of the function, as Lambda scales out under load.
	const instances = 4
	urls := make([]string, instances)
	for i := range urls {
		urls[i] = startRIE(t, rie, bootstrap, env)
	}

	type body = map[string]any
	send := func(url string, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, body) {
		t.Helper()
		return sendChecked(t, spec, url, e, "52998224725", "529.982.247-25", "11144477735", "10000000795")
	}
	fixture := func(name string) events.APIGatewayV2HTTPRequest { return loadFixture(t, root, "negativations", name) }
	at := func(name, path, query string) events.APIGatewayV2HTTPRequest {
		e := fixture(name)
		e.RawPath, e.RequestContext.HTTP.Path, e.RawQueryString, e.QueryStringParameters = path, path, query, nil
		if id := strings.Split(path, "/"); len(id) > 2 {
			e.PathParameters = map[string]string{"id": id[2]}
		}
		return e
	}
	errorOf := func(b body) (string, body) {
		e := b["error"].(body)
		d, _ := e["details"].(body)
		return e["code"].(string), d
	}

	// The race: every instance asks for the same invoice at once; one record,
	// one inclusion at the bureau, every other answer names it.
	answers := make([]body, instances)
	statuses := make([]int, instances)
	var wg sync.WaitGroup
	for i := range urls {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			resp, b := send(urls[i], fixture("create-negativation"))
			statuses[i], answers[i] = resp.StatusCode, b
		}(i)
	}
	wg.Wait()
	id := ""
	for i, s := range statuses {
		if s == 201 {
			require.Empty(t, id, "two winners")
			id = answers[i]["id"].(string)
		}
	}
	require.NotEmpty(t, id, "no winner: %v %v", statuses, answers)
	for i, s := range statuses {
		if s != 201 {
			require.Equal(t, 409, s, "%v", answers[i])
			code, d := errorOf(answers[i])
			assert.Equal(t, "already_negativated", code)
			assert.Equal(t, id, d["id"])
		}
	}
	assert.Equal(t, int64(1), inclusions.Load(), "exactly one inclusion reached the bureau")
	first := answers[0]
	for i, s := range statuses {
		if s == 201 {
			first = answers[i]
		}
	}
	assert.Equal(t, "pending", first["status"])
	assert.Equal(t, "***.982.247-**", first["document"])
	assert.Equal(t, "02", first["restrictionCode"], "the integration's code")
	assert.Equal(t, integrationID, first["integrationId"])
	assert.NotEmpty(t, first["protocol"], "the sandbox's protocol")
	assert.Equal(t, "Daniela Cobrança", first["requestedBy"].(body)["name"])

	fn := urls[0]
	for name, want := range map[string]string{
		"create-negativation":                  "already_negativated",
		"create-negativation-missing-fields":   "missing_customer_fields",
		"create-negativation-paid-invoice":     "invoice_not_open",
		"create-negativation-unknown-field":    "unknown_field",
		"create-negativation-viewer-forbidden": "forbidden",
	} {
		_, b := send(fn, fixture(name))
		code, d := errorOf(b)
		assert.Equal(t, want, code, name)
		if want == "missing_customer_fields" {
			assert.Equal(t, []any{"gender", "birthDate"}, d["fields"])
		}
	}

	// The sandbox's 503 document: a failed record, in doubt, which guards its
	// integration until the bureau says it never got it.
	resp, failed := send(fn, fixture("create-negativation-bureau-unavailable"))
	require.Equal(t, 502, resp.StatusCode, resp.Body)
	code, d := errorOf(failed)
	assert.Equal(t, "bureau_unavailable", code)
	failedID := d["negativationId"].(string)
	resp, got := send(fn, at("get-negativation", "/negativations/"+failedID, ""))
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "failed", got["status"])
	assert.Equal(t, true, got["outcomeUnknown"])
	assert.Equal(t, "bureau_unavailable", got["lastError"].(body)["code"])

	// Reading back.
	resp, got = send(fn, at("get-negativation", "/negativations/"+id, ""))
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, first["history"], got["history"])
	today := time.Now().In(credit.SaoPaulo()).Format(time.DateOnly)
	resp, list := send(fn, at("list-negativations", "/negativations", "status=pending&from="+today+"&to="+today))
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, list["items"], 1)
	assert.Equal(t, id, list["items"].([]any)[0].(body)["id"])
	resp, list = send(fn, at("list-negativations", "/negativations", "integrationId="+integrationID))
	require.Equal(t, 200, resp.StatusCode)
	assert.Len(t, list["items"], 2, "the pending one and the failed one")
	resp, list = send(fn, fixture("list-customer-negativations"))
	require.Equal(t, 200, resp.StatusCode)
	assert.Len(t, list["items"], 1)
	_, b := send(fn, fixture("list-negativations-invalid-filter"))
	code, _ = errorOf(b)
	assert.Equal(t, "validation_failed", code)

	// The bureau's processing, seen by the admin's sync.
	sync := fixture("sync-negativations")
	sync.Body = `{"integrationId":"` + integrationID + `"}`
	resp, res := send(fn, sync)
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, body{"active": 1.0}, res["byStatus"])
	_, b = send(fn, fixture("sync-negativations-collector-forbidden"))
	code, _ = errorOf(b)
	assert.Equal(t, "forbidden", code)

	// Paying does not remove; the record shows up as a removal to make.
	resp, list = send(fn, fixture("list-pending-removals"))
	require.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, list["items"])
	call("PUT", "/parties/customers/cli-1001/invoices/fat-55", `{"amountCents":12990,"dueDate":"`+due+`","status":"paid","paidAt":"`+today+`","contractNumber":"CT-1001","documentNumber":"BOL-55"}`)
	resp, got = send(fn, at("get-negativation", "/negativations/"+id, ""))
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "active", got["status"])
	resp, list = send(fn, fixture("list-pending-removals"))
	require.Equal(t, 200, resp.StatusCode)
	require.Len(t, list["items"], 1)
	pending := list["items"].([]any)[0].(body)
	assert.Equal(t, id, pending["negativation"].(body)["id"])
	assert.Equal(t, today, pending["settledOn"])
	assert.EqualValues(t, 0, pending["businessDaysElapsed"])

	// The integration cannot go while records may be registered.
	resp2, raw := httpDo(t, "DELETE", setup+"/integrations/"+integrationID, admin, "")
	assert.Equal(t, 409, resp2.StatusCode, string(raw))
	assert.Contains(t, string(raw), "integration_has_active_negativations")

	// The removal, then a second one refused.
	resp, removed := send(fn, at("remove-negativation", "/negativations/"+id+"/removal", ""))
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.Equal(t, "removed", removed["status"])
	assert.Equal(t, "01", removed["removalCode"])
	resp, b = send(fn, at("remove-negativation-with-code", "/negativations/"+id+"/removal", ""))
	require.Equal(t, 409, resp.StatusCode)
	code, _ = errorOf(b)
	assert.Equal(t, "invalid_status", code)
	resp, list = send(fn, fixture("list-pending-removals"))
	require.Equal(t, 200, resp.StatusCode)
	assert.Empty(t, list["items"])
	assert.Equal(t, 1, inclusions.of(id), "one inclusion of the record, ever")
}
