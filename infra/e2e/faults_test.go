package e2e_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/localaws"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// apiGatewayLimit is the longest an HTTP API waits for a function: no request
// may hang past it.
const apiGatewayLimit = 29 * time.Second

// failingWrites fails every DynamoDB write while on, as an outage of the
// table's write path would (the SDK sees 500 InternalServerError and gives up
// after its retries).
// With reads on, it fails the reads of a document's or a party's item
// (DOC#..., PARTY#...) too.
type failingWrites struct {
	on    atomic.Bool
	reads atomic.Bool
	next  http.RoundTripper
}

func (f *failingWrites) RoundTrip(r *http.Request) (*http.Response, error) {
	target := r.Header.Get("X-Amz-Target")
	documentRead := false
	if f.reads.Load() && strings.HasSuffix(target, ".GetItem") && r.Body != nil {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		documentRead = bytes.Contains(body, []byte(`"DOC#`)) || bytes.Contains(body, []byte(`"PARTY#`))
	}
	write := f.on.Load() && slices.ContainsFunc([]string{"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"},
		func(op string) bool { return strings.HasSuffix(target, "."+op) })
	if write || documentRead {
		body := `{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"injected write failure"}`
		return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
	return f.next.RoundTrip(r)
}

// cpf builds a valid CPF from nine digits.
func cpf(base int) string {
	d := fmt.Sprintf("%09d", base)
	digit := func(s string, w int) byte {
		sum := 0
		for i := range s {
			sum += int(s[i]-'0') * (w - i)
		}
		if r := sum % 11; r >= 2 {
			return byte('0' + 11 - r)
		}
		return '0'
	}
	d += string(digit(d, 10))
	return d + string(digit(d, 11))
}

// TestBureauAndStoreFaultsLeaveDefiniteStates injects each bureau fault the
// sandbox knows and a DynamoDB write outage, and checks that every request
// ends well inside API Gateway's limit with a clear error, that every
// consultation and negativation is left in a definite, visible state, and
// that a retry after the fault registers nothing twice.
func TestBureauAndStoreFaultsLeaveDefiniteStates(t *testing.T) {
	st := startStack(t)
	bureauURL, inclusions := countingProxy(t, st.ConnectSAEndpoint)
	writes := &failingWrites{next: http.DefaultTransport}
	var logs syncBuffer
	base := localGatewayWith(t, st, &logs, func(cfg *allareas.Config, c *allareas.Clients) {
		cfg.Bureau.ConnectSA.BaseURLs[credit.EnvironmentHomologation] = bureauURL
		cfg.Bureau.ConnectSA.ConsultTimeout, cfg.Bureau.ConnectSA.CallTimeout = 2*time.Second, 2*time.Second
		c.DynamoDB = dynamodb.NewFromConfig(localaws.Config(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(st.DynamoDBEndpoint)
			o.HTTPClient = &http.Client{Transport: writes}
		})
	})
	admin := token(t, credit.RoleAdmin)
	call := func(method, path string, body any) (int, map[string]any) {
		t.Helper()
		b := ""
		if body != nil {
			raw, _ := json.Marshal(body)
			b = string(raw)
		}
		start := time.Now()
		resp, raw := httpDo(t, method, base+path, admin, b)
		assert.Less(t, time.Since(start), apiGatewayLimit, "%s %s hung", method, path)
		out := map[string]any{}
		_ = json.Unmarshal(raw, &out)
		return resp.StatusCode, out
	}
	code := func(out map[string]any) string {
		e, _ := out["error"].(map[string]any)
		c, _ := e["code"].(string)
		return c
	}

	status, _ := call("PUT", "/parameters", map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": 0})
	require.Equal(t, 200, status)
	status, integ := call("POST", "/integrations", map[string]any{"intermediary": "connect", "branchId": "faults",
		"environment": "homologation", "login": sandboxtest.Account().Credentials.Login, "consultationPassword": "Falt@123",
		"pefinPassword": "135790", "defaultPlan": "report_score", "sendSmsOnInclusion": false, "responsibleCpf": "52998224725"})
	require.Equal(t, 201, status, integ)
	codes := func(path string) string {
		_, out := call("GET", "/integrations/"+integ["id"].(string)+path, nil)
		return out["items"].([]any)[0].(map[string]any)["code"].(string)
	}
	restriction := codes("/restriction-codes")

	faults := []struct {
		name   string
		cfg    sandbox.Config
		status int
	}{
		{"5xx", sandbox.Config{ErrorRate: 1}, 502},
		{"timeout", sandbox.Config{TimeoutRate: 1, TimeoutAfter: 5 * time.Second}, 502},
		{"malformed answer", sandbox.Config{MalformedRate: 1}, 502},
		{"answer lost after the work", sandbox.Config{LostAnswerRate: 1, TimeoutAfter: 5 * time.Second}, 502},
	}
	for i, f := range faults {
		t.Run("consultation, bureau "+f.name, func(t *testing.T) {
			doc := cpf(100000000 + i)
			st.Sandbox.SetConfig(sandbox.Config{FaultOperations: []sandbox.Operation{sandbox.OpConsult}, ErrorRate: f.cfg.ErrorRate,
				TimeoutRate: f.cfg.TimeoutRate, MalformedRate: f.cfg.MalformedRate, LostAnswerRate: f.cfg.LostAnswerRate, TimeoutAfter: f.cfg.TimeoutAfter})
			status, out := call("POST", "/consultations", map[string]any{"document": doc, "branchId": "faults", "uf": "SP"})
			assert.Equal(t, f.status, status, out)
			st.Sandbox.SetConfig(sandbox.Config{})
			_, list := call("GET", "/consultations?document="+doc, nil)
			items := list["items"].([]any)
			require.Len(t, items, 1, "the failed consultation is recorded, once")
			assert.Equal(t, "failed", items[0].(map[string]any)["status"])

			status, out = call("POST", "/consultations", map[string]any{"document": doc, "branchId": "faults", "uf": "SP"})
			assert.Equal(t, 201, status, "a retry after the fault succeeds: %v", out)
		})
	}

	for i, f := range faults {
		t.Run("negativation, bureau "+f.name, func(t *testing.T) {
			customer := fmt.Sprintf("cf-%d", i)
			putDebtor(t, call, customer, cpf(200000000+i))
			before := inclusions.Load()
			st.Sandbox.SetConfig(sandbox.Config{FaultOperations: []sandbox.Operation{sandbox.OpInclude}, ErrorRate: f.cfg.ErrorRate,
				TimeoutRate: f.cfg.TimeoutRate, MalformedRate: f.cfg.MalformedRate, LostAnswerRate: f.cfg.LostAnswerRate, TimeoutAfter: f.cfg.TimeoutAfter})
			status, out := call("POST", "/negativations", map[string]any{"customerId": customer, "invoiceId": "f-1", "restrictionCode": restriction})
			assert.Equal(t, f.status, status, out)
			st.Sandbox.SetConfig(sandbox.Config{})
			_, list := call("GET", "/parties/customers/"+customer+"/negativations", nil)
			items := list["items"].([]any)
			require.Len(t, items, 1, "one record, in a definite state")
			rec := items[0].(map[string]any)
			assert.Equal(t, "failed", rec["status"], rec)

			status, out = call("POST", "/negativations", map[string]any{"customerId": customer, "invoiceId": "f-1", "restrictionCode": restriction})
			require.Equal(t, 201, status, "the retry takes the same record: %v", out)
			assert.Equal(t, rec["id"], out["id"])
			// Every attempt, the adapter's own retries included, carried the
			// record's id as the bureau's reference: the bureau, idempotent
			// per reference, cannot have registered the debt twice.
			assert.Equal(t, inclusions.Load()-before, int64(inclusions.of(rec["id"].(string))), "every attempt used the one reference")
			_, list = call("GET", "/parties/customers/"+customer+"/negativations", nil)
			assert.Len(t, list["items"], 1, "still one record")
		})
	}

	t.Run("negativation, DynamoDB writes down", func(t *testing.T) {
		putDebtor(t, call, "cf-ddb", cpf(300000001))
		before := inclusions.Load()
		writes.on.Store(true)
		status, out := call("POST", "/negativations", map[string]any{"customerId": "cf-ddb", "invoiceId": "f-1", "restrictionCode": restriction})
		writes.on.Store(false)
		assert.Equal(t, 500, status, out)
		assert.Equal(t, "internal_error", code(out))
		assert.Equal(t, before, inclusions.Load(), "nothing reaches the bureau before the record is written")
		_, list := call("GET", "/parties/customers/cf-ddb/negativations", nil)
		assert.Empty(t, list["items"])

		status, out = call("POST", "/negativations", map[string]any{"customerId": "cf-ddb", "invoiceId": "f-1", "restrictionCode": restriction})
		assert.Equal(t, 201, status, out)
		assert.Equal(t, before+1, inclusions.Load())
	})

	t.Run("consultation, DynamoDB writes down", func(t *testing.T) {
		doc := cpf(300000002)
		writes.on.Store(true)
		status, out := call("POST", "/consultations", map[string]any{"document": doc, "branchId": "faults", "uf": "SP"})
		writes.on.Store(false)
		assert.Equal(t, 500, status, out)
		// The document's mark is written before the bureau is called: with
		// the table down nothing is charged (an answer the table cannot keep
		// afterwards is logged with its protocol: TestConsultLargeReport).
		assert.NotContains(t, logs.String(), doc, "no full document in the log")
		status, out = call("POST", "/consultations", map[string]any{"document": doc, "branchId": "faults", "uf": "SP"})
		assert.Equal(t, 201, status, out)
	})

	t.Run("consultation, DynamoDB reads of a party down", func(t *testing.T) {
		// A customer whose ERP id is its CPF: reading it (PARTY#customer#<cpf>)
		// fails, and the failure is logged at error level, naming the key
		// with the document masked.
		doc := cpf(300000003)
		before := len(logs.String())
		writes.reads.Store(true)
		status, out := call("POST", "/consultations", map[string]any{"party": map[string]any{"kind": "customer", "id": doc}})
		writes.reads.Store(false)
		assert.Equal(t, 500, status, out)
		logged := logs.String()[before:]
		assert.Contains(t, logged, `"level":"ERROR"`)
		assert.Contains(t, logged, "PARTY#customer#", "the failing key is named")
		assert.NotContains(t, logs.String(), doc, "no full document in the log")
	})

	t.Run("parties and parameters, DynamoDB writes down", func(t *testing.T) {
		writes.on.Store(true)
		status, out := call("PUT", "/parameters", map[string]any{"creditAnalysisEnabled": false, "repeatConsultationIntervalDays": 9})
		writes.on.Store(false)
		assert.Equal(t, 500, status, out)
		_, params := call("GET", "/parameters", nil)
		assert.Equal(t, true, params["creditAnalysisEnabled"], "nothing half-written")
	})
}

// putDebtor stores a customer with every field a negativation needs and an
// overdue open invoice f-1.
func putDebtor(t *testing.T, call func(string, string, any) (int, map[string]any), id, document string) {
	t.Helper()
	status, out := call("PUT", "/parties/customers/"+id, map[string]any{"branchId": "faults", "document": document,
		"name": "Devedor de Teste", "gender": "male", "birthDate": "1980-01-31", "mobilePhone": "11987654321",
		"address": map[string]any{"cep": "01310100", "street": "Rua A", "number": "1", "complement": "Casa",
			"neighborhood": "Centro", "city": "São Paulo", "uf": "SP"}})
	require.Less(t, status, 300, out)
	due := time.Now().In(credit.SaoPaulo()).AddDate(0, 0, -45).Format(time.DateOnly)
	status, out = call("PUT", "/parties/customers/"+id+"/invoices/f-1", map[string]any{"amountCents": 9990, "dueDate": due, "status": "open"})
	require.Equal(t, 200, status, out)
}
