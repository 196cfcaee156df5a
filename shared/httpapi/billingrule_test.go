package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// recordingStarter keeps the runs handed over, for the test to execute.
type recordingStarter struct {
	mu  sync.Mutex
	ids []string
}

func (s *recordingStarter) StartBillingRun(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ids = append(s.ids, id)
	return nil
}

type billingRuleFixture struct {
	server  *httpapi.Server
	rule    *credit.BillingRule
	store   *memory.Store
	starter *recordingStarter
}

// billingRuleServer is the billing-rule function's handler over memory
// stores and the fake bureau, with one integration (branch 7, automation
// after 30 days) and one customer owing an invoice 45 days overdue.
func billingRuleServer(t *testing.T) billingRuleFixture {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }
	n := 0
	var mu sync.Mutex
	newID := func() string {
		mu.Lock()
		defer mu.Unlock()
		n++
		return fmt.Sprintf("0192f5a0-0000-7000-8000-%012d", n)
	}
	store, bureau := memory.New(), credittest.NewFakeBureau()
	secrets := memory.NewSecrets()
	access := &credit.BureauAccess{Secrets: secrets, Registry: bureau}
	integrations := &credit.IntegrationService{Store: store, Secrets: secrets, Bureau: access, Now: now, NewID: newID}
	ctx := context.Background()
	_, err := integrations.Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{Intermediary: credit.IntermediaryConnect, BranchID: "7",
			Environment: credit.EnvironmentHomologation, Login: "provedor", DefaultPlan: credit.PlanReportScore,
			ResponsibleCPF: "529.982.247-25", Automation: credit.Automation{Enabled: true, RestrictionCode: "02", RemovalCode: "01", DaysAfterDue: 30}},
		ConsultationPassword: "Abcd@123", PEFINPassword: "135790",
	})
	require.NoError(t, err)
	c := credittest.NewTestCustomer("c1", "7")
	_, err = store.PutParty(ctx, c)
	require.NoError(t, err)
	require.NoError(t, store.PutInvoice(ctx, credittest.NewTestInvoice(c, "inv-1", credit.NewDate(2026, 10, 12), 9990)))

	starter := &recordingStarter{}
	rule := &credit.BillingRule{
		Store:         memory.NewBilling(store),
		Negativations: &credit.NegativationService{Store: store, Parties: store, Parameters: store, Integrations: store, Bureau: access, Now: now, NewID: newID},
		Starter:       starter, Now: now, NewID: newID,
	}
	server := httpapi.NewServer(httpapi.Config{Logger: discardLogger()}, &httpapi.BillingRuleHandler{Rule: rule})
	return billingRuleFixture{server: server, rule: rule, store: store, starter: starter}
}

func billingRuleEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	return loadEvent(t, filepath.Join(eventsDir, "billing-rule", name+".json"))
}

// invokeChecked serves e and holds the answer to the API document.
func invokeChecked(t *testing.T, h *httpapi.Server, e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp := invoke(t, h, e)
	header := http.Header{}
	for k, v := range resp.Headers {
		header.Set(k, v)
	}
	path := e.RawPath
	if e.RawQueryString != "" {
		path += "?" + e.RawQueryString
	}
	apispec.Load(t).ValidateResponse(t, e.RequestContext.HTTP.Method, path, resp.StatusCode, header, []byte(resp.Body))
	return resp
}

// TestBillingRuleFixtures walks the fixtures in the order a day goes: the
// list is empty, a collector cannot start a run, an admin can; a second
// start waits for the first; the run, once executed, shows what it did.
func TestBillingRuleFixtures(t *testing.T) {
	f := billingRuleServer(t)
	steps := []struct {
		fixture string
		status  int
		code    string
		before  func()
	}{
		{fixture: "list-runs", status: 200},
		{fixture: "get-run-missing", status: 404, code: credit.CodeNotFound},
		{fixture: "start-run-forbidden", status: 403, code: httpapi.CodeForbidden},
		{fixture: "start-run-with-body", status: 400, code: httpapi.CodeUnknownField},
		{fixture: "start-run", status: 202, before: func() {
			require.NoError(t, f.store.PutParameters(context.Background(), credit.Parameters{CreditAnalysisEnabled: true}))
		}},
		{fixture: "start-run", status: 409, code: credit.CodeBillingRunInProgress},
	}
	var started events.APIGatewayV2HTTPResponse
	for _, s := range steps {
		if s.before != nil {
			s.before()
		}
		e := billingRuleEvent(t, s.fixture)
		resp := invokeChecked(t, f.server, e)
		require.Equal(t, s.status, resp.StatusCode, "%s: %s", s.fixture, resp.Body)
		if s.code != "" {
			body := errorBody(t, resp.Body)
			assert.Equal(t, s.code, body.Error.Code, s.fixture)
			assert.Equal(t, e.RequestContext.RequestID, body.RequestID)
		}
		if s.status == 202 {
			started = resp
		}
	}
	if list := invokeChecked(t, f.server, billingRuleEvent(t, "list-runs")); assert.Equal(t, 200, list.StatusCode) {
		var page struct {
			Items []map[string]any `json:"items"`
		}
		require.NoError(t, json.Unmarshal([]byte(list.Body), &page))
		assert.Len(t, page.Items, 1, "the refused starts left no run")
	}

	var answer struct{ ID, Status string }
	require.NoError(t, json.Unmarshal([]byte(started.Body), &answer))
	assert.Equal(t, "running", answer.Status)
	assert.Equal(t, "/billing-rule/runs/"+answer.ID, started.Headers["Location"])
	assert.Equal(t, []string{answer.ID}, f.starter.ids, "handed over to its own invocation")

	_, err := f.rule.Execute(context.Background(), answer.ID, time.Time{})
	require.NoError(t, err)
	get := billingRuleEvent(t, "get-run-missing")
	get.RawPath = "/billing-rule/runs/" + answer.ID
	get.RequestContext.HTTP.Path = get.RawPath
	resp := invokeChecked(t, f.server, get)
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.JSONEq(t, `{
		"id": "`+answer.ID+`", "trigger": "manual", "status": "finished", "day": "2026-11-26",
		"requestedBy": {"sub": "3c8e5f21-7a4b-4d6e-9f10-2b3c4d5e6f70", "name": "Carla Admin"},
		"startedAt": "2026-11-26T12:00:00Z", "finishedAt": "2026-11-26T12:00:00Z",
		"counts": {"examined": 1, "included": 1, "removed": 0, "synced": 0, "skipped": {}, "failed": 0},
		"errors": [],
		"position": {"integrationsDone": ["0192f5a0-0000-7000-8000-000000000001"], "inProgress": []},
		"dryRun": false,
		"links": {"negativations": "/negativations?runId=`+answer.ID+`"}
	}`, resp.Body)
}

// TestBillingRuleViewOfAStoppedRun: a run that stopped shows where, its
// errors, and a scheduled run names no requester.
func TestBillingRuleViewOfAStoppedRun(t *testing.T) {
	f := billingRuleServer(t)
	at := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	run := credittest.NewTestBillingRun("run-1", at)
	run.Status, run.FinishedAt = credit.BillingRunStoppedAtDeadline, at.Add(14*time.Minute)
	run.Counts = credit.BillingCounts{Examined: 3, Included: 1, Skipped: map[string]int{credit.SkipCustomerOptedOut: 1}, Failed: 1}
	run.Errors = []credit.BillingRunError{{At: at.Add(time.Minute), IntegrationID: "i1", CustomerID: "c1", InvoiceID: "inv-1",
		Code: credit.CodeBureauUnavailable, Message: "O bureau não respondeu."}}
	run.Position = credit.BillingPosition{Done: []string{"i0"}, Partial: []credit.IntegrationPosition{
		{IntegrationID: "i1", After: &credit.InvoiceKey{DueDate: credit.NewDate(2026, 9, 1), CustomerID: "c1", InvoiceID: "inv-1"}},
		{IntegrationID: "i2"},
	}}
	require.NoError(t, f.rule.Store.CreateBillingRun(context.Background(), run))

	e := billingRuleEvent(t, "get-run-missing")
	e.RawPath = "/billing-rule/runs/run-1"
	e.RequestContext.HTTP.Path = e.RawPath
	resp := invokeChecked(t, f.server, e)
	require.Equal(t, 200, resp.StatusCode, resp.Body)
	assert.JSONEq(t, `{
		"id": "run-1", "trigger": "schedule", "status": "stopped_at_deadline", "day": "2026-11-26",
		"startedAt": "2026-11-26T09:00:00Z", "finishedAt": "2026-11-26T09:14:00Z",
		"counts": {"examined": 3, "included": 1, "removed": 0, "synced": 0, "skipped": {"customer_opted_out": 1}, "failed": 1},
		"errors": [{"at": "2026-11-26T09:01:00Z", "integrationId": "i1", "customerId": "c1", "invoiceId": "inv-1",
			"code": "bureau_unavailable", "message": "O bureau não respondeu."}],
		"dryRun": false,
		"links": {"negativations": "/negativations?runId=run-1"},
		"position": {"integrationsDone": ["i0"], "inProgress": [
			{"integrationId": "i1", "afterInvoice": {"dueDate": "2026-09-01", "customerId": "c1", "invoiceId": "inv-1"}},
			{"integrationId": "i2"}]}
	}`, resp.Body)
}

// TestBillingRuleStartTakesNoBody: no body or {} start a run; anything
// else is refused before anything is recorded.
func TestBillingRuleStartBody(t *testing.T) {
	tests := []struct {
		body   string
		status int
		code   string
		dryRun bool
	}{
		{body: "", status: 202},
		{body: " {} ", status: 202},
		{body: `{"dryRun":false}`, status: 202},
		{body: `{"dryRun":true}`, status: 202, dryRun: true},
		{body: "null", status: 400, code: httpapi.CodeInvalidType},
		{body: "[]", status: 400, code: httpapi.CodeInvalidType},
		{body: `{"dryRun":"yes"}`, status: 400, code: httpapi.CodeInvalidType},
		{body: `{"DryRun":true}`, status: 400, code: httpapi.CodeUnknownField},
		{body: `{"integrationId":"x"}`, status: 400, code: httpapi.CodeUnknownField},
		{body: "{} {}", status: 400, code: httpapi.CodeInvalidJSON},
	}
	for _, tt := range tests {
		t.Run(tt.body, func(t *testing.T) {
			f := billingRuleServer(t)
			require.NoError(t, f.store.PutParameters(context.Background(), credit.Parameters{CreditAnalysisEnabled: true}))
			e := billingRuleEvent(t, "start-run-with-body")
			e.Body = tt.body
			resp := invokeChecked(t, f.server, e)
			require.Equal(t, tt.status, resp.StatusCode, resp.Body)
			if tt.status == 202 {
				var answer struct {
					ID     string `json:"id"`
					DryRun bool   `json:"dryRun"`
				}
				require.NoError(t, json.Unmarshal([]byte(resp.Body), &answer))
				assert.Equal(t, tt.dryRun, answer.DryRun)
				run, err := f.rule.Get(context.Background(), answer.ID)
				require.NoError(t, err)
				assert.Equal(t, tt.dryRun, run.DryRun, "recorded as asked")
			}
			if tt.code != "" {
				assert.Equal(t, tt.code, errorBody(t, resp.Body).Error.Code)
				assert.Empty(t, f.starter.ids, "nothing started")
			}
		})
	}
}
