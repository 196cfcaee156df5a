package httpapi_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var negativationsNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// negativationsServer is the negativations function's handler on fakes:
// switch on, branch filial-7 integrated (codes 01/01); customer cli-1001
// complete with invoice fat-55 open and fat-56 paid; cli-1003 without gender
// and birth date; cli-1004 the sandbox's "503" document.
func negativationsServer(t *testing.T) (*httpapi.Server, *memory.Store, *credittest.FakeBureau) {
	t.Helper()
	ctx := context.Background()
	store := memory.New()
	require.NoError(t, store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	bureau := credittest.NewFakeBureau()
	bureau.IncludeFault = func(r credit.NegativationRequest) (bool, error) {
		if r.Debtor.Document.Number() == "10000000795" {
			return false, credit.BureauUnavailable(errors.New("HTTP 503"))
		}
		return false, nil
	}
	now := func() time.Time { return negativationsNow }
	secrets := memory.NewSecrets()
	access := &credit.BureauAccess{Secrets: secrets, Registry: bureau}
	integrations := &credit.IntegrationService{Store: store, Secrets: secrets, Bureau: access, Now: now,
		NewID: func() string { return "int-filial-7" }, Log: discardLogger()}
	_, err := integrations.Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{
			Intermediary: credit.IntermediaryConnect, BranchID: "filial-7", Environment: credit.EnvironmentHomologation,
			Login: "provedor", DefaultPlan: credit.PlanReportScore, SendSMSOnInclusion: true, ResponsibleCPF: "529.982.247-25",
			Automation: credit.Automation{Enabled: true, RestrictionCode: "01", RemovalCode: "01", DaysAfterDue: 30},
		},
		ConsultationPassword: "Abcd@123", PEFINPassword: "135790",
	})
	require.NoError(t, err)

	put := func(c credit.Party, invoices ...credit.Invoice) {
		_, err := store.PutParty(ctx, c)
		require.NoError(t, err)
		for _, inv := range invoices {
			require.NoError(t, store.PutInvoice(ctx, inv))
		}
	}
	c1 := credittest.NewTestCustomer("cli-1001", "filial-7")
	paid := credittest.NewTestInvoice(c1, "fat-56", credit.NewDate(2026, 8, 10), 12990)
	paid.Status, paid.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 2)
	put(c1, credittest.NewTestInvoice(c1, "fat-55", credit.NewDate(2026, 9, 10), 12990), paid)
	c3 := credittest.NewTestCustomer("cli-1003", "filial-7")
	c3.Gender, c3.BirthDate = "", credit.Date{}
	put(c3, credittest.NewTestInvoice(c3, "fat-70", credit.NewDate(2026, 9, 10), 5000))
	c4 := credittest.NewTestCustomer("cli-1004", "filial-7")
	c4.Document = credit.MustParseDocument("100.000.007-95")
	put(c4, credittest.NewTestInvoice(c4, "fat-80", credit.NewDate(2026, 9, 10), 7000))

	n := 0
	svc := &credit.NegativationService{Store: store, Parties: store, Parameters: store, Integrations: store, Bureau: access,
		Now: now, NewID: func() string { n++; return fmt.Sprintf("neg-%04d", n) }, Log: discardLogger()}
	return httpapi.NewServer(httpapi.Config{Logger: discardLogger()}, &httpapi.NegativationsHandler{Service: svc}), store, bureau
}

type negativationStep struct {
	fixture string
	status  int
	code    string
	check   func(t *testing.T, body map[string]any, headers map[string]string)
}

func runNegativationSteps(t *testing.T, h *httpapi.Server, steps []negativationStep) {
	t.Helper()
	for _, s := range steps {
		resp := invoke(t, h, loadEvent(t, filepath.Join(eventsDir, "negativations", s.fixture+".json")))
		require.Equal(t, s.status, resp.StatusCode, "%s: %s", s.fixture, resp.Body)
		assert.True(t, strings.HasPrefix(resp.Headers["Content-Type"], "application/json"), s.fixture)
		if s.status >= 400 {
			assert.Equal(t, s.code, errorBody(t, resp.Body).Error.Code, s.fixture)
		}
		if s.check != nil {
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &body))
			s.check(t, body, resp.Headers)
		}
	}
}

func errDetails(b map[string]any) map[string]any {
	return b["error"].(map[string]any)["details"].(map[string]any)
}

// negativationFixtures names every fixture of events/negativations and the
// answer the step sequence below expects of it the first time.
var negativationFixtures = map[string]int{
	"create-negativation-viewer-forbidden":   403,
	"create-negativation-unknown-field":      400,
	"create-negativation":                    201,
	"create-negativation-missing-fields":     422,
	"create-negativation-paid-invoice":       422,
	"create-negativation-bureau-unavailable": 502,
	"get-negativation":                       200,
	"get-negativation-missing":               404,
	"list-negativations":                     200,
	"list-negativations-invalid-filter":      400,
	"list-customer-negativations":            200,
	"sync-negativations-collector-forbidden": 403,
	"sync-negativations":                     200,
	"list-pending-removals":                  200,
	"remove-negativation":                    200,
	"remove-negativation-with-code":          409,
}

func TestNegativationsFixtures(t *testing.T) {
	h, store, bureau := negativationsServer(t)
	steps := []negativationStep{
		{"create-negativation-viewer-forbidden", 403, httpapi.CodeForbidden, nil},
		{"create-negativation-unknown-field", 400, httpapi.CodeUnknownField, nil},
		{"create-negativation", 201, "", func(t *testing.T, b map[string]any, headers map[string]string) {
			assert.Equal(t, "/negativations/neg-0001", headers["Location"])
			assert.Equal(t, "neg-0001", b["id"])
			assert.Equal(t, "pending", b["status"])
			assert.Equal(t, "cli-1001", b["customerId"])
			assert.Equal(t, "fat-55", b["invoiceId"])
			assert.Equal(t, "int-filial-7", b["integrationId"])
			assert.Equal(t, "***.982.247-**", b["document"], "the debtor's document is masked")
			assert.EqualValues(t, 12990, b["amountCents"])
			assert.Equal(t, "2026-09-10", b["dueDate"])
			assert.Equal(t, "01", b["restrictionCode"])
			assert.Equal(t, "manual", b["origin"])
			assert.Equal(t, map[string]any{"sub": "5a7b9c1d-2e3f-4a5b-8c6d-7e8f9a0b1c2d", "name": "Daniela Cobrança"}, b["requestedBy"])
			assert.Equal(t, "2026-11-26T12:00:00Z", b["createdAt"])
			history := b["history"].([]any)
			require.Len(t, history, 2)
			assert.Equal(t, "pending", history[1].(map[string]any)["status"])
			assert.Equal(t, "Daniela Cobrança", history[1].(map[string]any)["by"].(map[string]any)["name"])
		}},
		{"create-negativation", 409, credit.CodeAlreadyNegativated, func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, "neg-0001", errDetails(b)["id"])
		}},
		{"create-negativation-missing-fields", 422, credit.CodeMissingCustomerFields, func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, []any{"gender", "birthDate"}, errDetails(b)["fields"])
			assert.Contains(t, b["error"].(map[string]any)["message"], "Gênero, Data de nascimento")
		}},
		{"create-negativation-paid-invoice", 422, credit.CodeInvoiceNotOpen, nil},
		{"create-negativation-bureau-unavailable", 502, credit.CodeBureauUnavailable, func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, "neg-0002", errDetails(b)["negativationId"], "the answer names the failed record")
			assert.Equal(t, "failed", errDetails(b)["negativationStatus"])
		}},
		{"get-negativation", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, "neg-0001", b["id"])
			assert.Equal(t, "***.982.247-**", b["document"])
		}},
		{"get-negativation-missing", 404, credit.CodeNotFound, nil},
		{"list-negativations", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			items := b["items"].([]any)
			require.Len(t, items, 1, "the failed one is not pending")
			assert.Equal(t, "neg-0001", items[0].(map[string]any)["id"])
			assert.Nil(t, b["nextCursor"])
		}},
		{"list-negativations-invalid-filter", 400, credit.CodeValidation, func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, []any{"status", "to"}, errDetails(b)["fields"])
		}},
		{"list-customer-negativations", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Len(t, b["items"], 1)
		}},
		{"sync-negativations-collector-forbidden", 403, httpapi.CodeForbidden, nil},
	}
	runNegativationSteps(t, h, steps)

	bureau.SetStatus("neg-0001", credit.BureauRecordActive, "Registro ativo.")
	runNegativationSteps(t, h, []negativationStep{
		{"sync-negativations", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.EqualValues(t, 1, b["examined"])
			assert.EqualValues(t, 1, b["changed"])
			assert.Equal(t, map[string]any{"active": 1.0}, b["byStatus"])
			assert.Equal(t, []any{}, b["errors"])
		}},
		{"list-pending-removals", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Empty(t, b["items"], "fat-55 is still open")
		}},
	})

	// The ERP reports the payment: the record stays, and shows up as a
	// removal to make.
	inv, err := store.GetInvoice(context.Background(), "cli-1001", "fat-55")
	require.NoError(t, err)
	inv.Status, inv.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 24)
	require.NoError(t, store.PutInvoice(context.Background(), inv))
	runNegativationSteps(t, h, []negativationStep{
		{"get-negativation", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, "active", b["status"], "paying does not remove")
		}},
		{"list-pending-removals", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			items := b["items"].([]any)
			require.Len(t, items, 1)
			p := items[0].(map[string]any)
			assert.Equal(t, "neg-0001", p["negativation"].(map[string]any)["id"])
			assert.Equal(t, "paid", p["invoiceStatus"])
			assert.Equal(t, "2026-11-24", p["settledOn"])
			assert.EqualValues(t, 2, p["businessDaysElapsed"])
			assert.Equal(t, "2026-12-01", p["deadline"])
			assert.Equal(t, false, p["late"])
		}},
		{"remove-negativation", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, "removed", b["status"])
			assert.Equal(t, "01", b["removalCode"], "the integration's code when none is given")
			assert.Equal(t, "Daniela Cobrança", b["removedBy"].(map[string]any)["name"])
			assert.Len(t, b["history"], 5)
		}},
		{"remove-negativation-with-code", 409, credit.CodeInvalidStatus, func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, "removed", errDetails(b)["status"])
		}},
		{"list-pending-removals", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Empty(t, b["items"])
		}},
	})
	assert.Equal(t, "2026-11-24", bureau.LastRemoval.Date.Format(time.DateOnly), "the removal dates the payment")
}

func TestNegativationRemovalWithCode(t *testing.T) {
	h, _, bureau := negativationsServer(t)
	runNegativationSteps(t, h, []negativationStep{
		{"create-negativation", 201, "", nil},
		{"remove-negativation-with-code", 200, "", func(t *testing.T, b map[string]any, _ map[string]string) {
			assert.Equal(t, "03", b["removalCode"])
		}},
	})
	assert.Equal(t, "03", bureau.LastRemoval.RemovalCode)
}

func TestNegativationsFixturesAreComplete(t *testing.T) {
	names := fixtures(t, "negativations")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			_, ok := negativationFixtures[name]
			require.True(t, ok, "events/negativations/%s.json has no expectation", name)
			e := loadEvent(t, filepath.Join(eventsDir, "negativations", name+".json"))
			assert.Equal(t, "2.0", e.Version)
			assert.Equal(t, e.RouteKey, e.RequestContext.RouteKey)
			assert.True(t, strings.HasPrefix(e.RouteKey, e.RequestContext.HTTP.Method+" "))
			assert.Equal(t, e.RawPath, e.RequestContext.HTTP.Path)
			_, routed := httpapi.Access[e.RouteKey]
			assert.True(t, routed, "route %q is in the role matrix", e.RouteKey)
			assert.NotEmpty(t, e.RequestContext.RequestID)
			for k := range e.Headers {
				assert.Equal(t, strings.ToLower(k), k, "API Gateway lowercases header names")
			}
			require.NotNil(t, e.RequestContext.Authorizer)
			claims := e.RequestContext.Authorizer.JWT.Claims
			for _, c := range []string{"sub", "name", "cognito:groups", "iss", "aud", "exp", "iat"} {
				assert.NotEmpty(t, claims[c], c)
			}
			if e.Body != "" {
				assert.Equal(t, fmt.Sprint(len(e.Body)), e.Headers["content-length"])
			}
		})
	}
	for name := range negativationFixtures {
		assert.Contains(t, names, name, "expectation without a fixture file")
	}
}

// TestNegativationRoutesServeEveryMatrixEntry keeps the handler and the role
// matrix in step: every negativation route of the matrix is served.
func TestNegativationRoutesServeEveryMatrixEntry(t *testing.T) {
	served := map[string]bool{}
	for _, r := range (&httpapi.NegativationsHandler{}).Routes() {
		served[r.Pattern()] = true
	}
	for route := range httpapi.Access {
		if strings.Contains(route, "negativations") {
			assert.True(t, served[route], route)
		}
	}
	assert.Len(t, served, 7)
}

func TestPendingRemovalsPages(t *testing.T) {
	h, store, _ := negativationsServer(t)
	ctx := context.Background()
	collector := []credit.Role{credit.RoleCollector}
	c1, err := store.GetParty(ctx, credit.PartyCustomer, "cli-1001")
	require.NoError(t, err)
	for k := 1; k <= 3; k++ {
		id := fmt.Sprintf("fat-9%d", k)
		require.NoError(t, store.PutInvoice(ctx, credittest.NewTestInvoice(c1, id, credit.NewDate(2026, 9, k), 1000)))
		resp := invoke(t, h, request("POST", "/negativations", "", collector, "application/json", `{"customerId":"cli-1001","invoiceId":"`+id+`"}`))
		require.Equal(t, 201, resp.StatusCode, resp.Body)
		inv, _ := store.GetInvoice(ctx, "cli-1001", id)
		inv.Status, inv.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 10+k)
		require.NoError(t, store.PutInvoice(ctx, inv))
	}
	var seen []string
	cursor := ""
	for pages := 0; pages < 5; pages++ {
		query := "limit=2"
		if cursor != "" {
			query += "&cursor=" + cursor
		}
		resp := invoke(t, h, request("GET", "/negativations/pending-removals", query, collector, "", ""))
		require.Equal(t, 200, resp.StatusCode, resp.Body)
		var page struct {
			Items []struct {
				SettledOn string `json:"settledOn"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &page))
		for _, it := range page.Items {
			seen = append(seen, it.SettledOn)
		}
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	assert.Equal(t, []string{"2026-11-11", "2026-11-12", "2026-11-13"}, seen, "oldest payment first, each once")
	for _, bad := range []string{"cursor=-1", "cursor=x", "cursor=99"} {
		resp := invoke(t, h, request("GET", "/negativations/pending-removals", bad, collector, "", ""))
		assert.Equal(t, 400, resp.StatusCode, bad)
		assert.Equal(t, credit.CodeInvalidCursor, errorBody(t, resp.Body).Error.Code)
	}
}

func TestNegativationBodiesAreOptionalWhereDocumented(t *testing.T) {
	h, _, _ := negativationsServer(t)
	admin := []credit.Role{credit.RoleAdmin}
	resp := invoke(t, h, request("POST", "/negativations/sync", "", admin, "", ""))
	assert.Equal(t, 200, resp.StatusCode, resp.Body)
	resp = invoke(t, h, request("POST", "/negativations/sync", "", admin, "application/json", `{"integrationId":"nope"}`))
	assert.Equal(t, 404, resp.StatusCode, resp.Body)
	resp = invoke(t, h, request("POST", "/negativations/sync", "", admin, "application/json", `{"integrationId":"x","extra":1}`))
	assert.Equal(t, httpapi.CodeUnknownField, errorBody(t, resp.Body).Error.Code)
	resp = invoke(t, h, request("POST", "/negativations", "", admin, "application/json", ""))
	assert.Equal(t, httpapi.CodeInvalidJSON, errorBody(t, resp.Body).Error.Code, "an inclusion needs its body")
	resp = invoke(t, h, request("POST", "/negativations/neg-1/removal", "", admin, "text/plain", "x"))
	assert.Equal(t, httpapi.CodeUnsupportedMT, errorBody(t, resp.Body).Error.Code)
}
