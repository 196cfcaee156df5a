package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/dynamo"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Plan of the billing-rule function for TestFunctionsUnderRIE: a fresh
// stack with the master switch off lists no run, starts one (removals and
// sync only), and the schedule's event and a self-invocation end cleanly.
func init() {
	plans["billing-rule"] = []step{
		{fixture: "list-runs", status: 200, body: `{"items":[],"nextCursor":null}`},
		{fixture: "get-run-missing", status: 404, code: "not_found"},
		{fixture: "start-run-forbidden", status: 403, code: "forbidden"},
		{fixture: "start-run-with-body", status: 400, code: "unknown_field"},
		{fixture: "start-run", status: 202},
		{fixture: "start-dry-run", status: 202},
		{fixture: "scheduled"},
		{fixture: "run-requested"},
	}
}

// billingEvent reads one of the function's fixtures as raw JSON.
func billingEvent(t *testing.T, root, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "events", "billing-rule", name+".json"))
	require.NoError(t, err)
	return b
}

// invokeRaw sends a payload to the emulator and returns the function's
// answer; the invocation itself must succeed.
func invokeRaw(t *testing.T, url string, payload []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, strings.NewReader(string(payload)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(raw))
	require.Empty(t, resp.Header.Get("X-Amz-Function-Error"), string(raw))
	return raw
}

// billingRun is a run as the API answers it.
type billingRun struct {
	ID      string `json:"id"`
	Trigger string `json:"trigger"`
	Status  string `json:"status"`
	Counts  struct {
		Examined, Included, Removed, Synced, Failed int
		Skipped                                     map[string]int
	} `json:"counts"`
	Errors  []credit.BillingRunError       `json:"errors"`
	DryRun  bool                           `json:"dryRun"`
	Links   struct{ Negativations string } `json:"links"`
	Preview *struct {
		Include, Remove, Skip []struct {
			InvoiceID, NegativationID, Document, Reason string
			AmountCents                                 int64
		}
	} `json:"preview"`
}

// TestBillingRuleEndToEnd runs the billing-rule function's bootstrap under
// the Lambda Runtime Interface Emulator on the local stack with the Connect
// SA sandbox: the schedule's event delivered to two instances at once
// includes each eligible invoice exactly once at the bureau and removes the
// paid invoice's negativation once; the runs' routes show what each did,
// as the API document says; an admin's run, executed apart from its
// request, finds nothing left to do.
func TestBillingRuleEndToEnd(t *testing.T) {
	root := moduleRoot(t)
	rie := rieBinary(t, root)
	spec := apispec.Load(t)
	ctx := context.Background()

	st := startStack(t)
	bureauURL, inclusions := countingProxy(t, st.ConnectSAEndpoint)
	env := st.Env()
	env["CONNECTSA_HOMOLOGATION_URL"], env["CONNECTSA_PRODUCTION_URL"] = bureauURL, bureauURL

	// What the ERP and an admin did before 06:00, in process on the same
	// stack: the switch on, branch 7 integrated with automation after 30
	// days, customers and their invoices, one negativation whose invoice
	// was paid since.
	a := stackApp(t, st, stackConfig(t, st, bureauURL), nil)
	store := dynamo.New(st.Clients().DynamoDB, env["TABLE_NAME"])
	require.NoError(t, store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	integration, err := a.Integrations().Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{Intermediary: credit.IntermediaryConnect, BranchID: "7",
			Environment: credit.EnvironmentHomologation, Login: sandboxtest.Account().Credentials.Login,
			DefaultPlan: credit.PlanReportScore, SendSMSOnInclusion: true, ResponsibleCPF: "529.982.247-25",
			Automation: credit.Automation{Enabled: true, RestrictionCode: "02", RemovalCode: "01", DaysAfterDue: 30}},
		ConsultationPassword: "Sand@123", PEFINPassword: "246802",
	})
	require.NoError(t, err)

	today := credit.DateOf(time.Now(), credit.SaoPaulo())
	customer := func(id string, modify func(*credit.Party)) credit.Party {
		c := credittest.NewTestCustomer(id, "7")
		modify(&c)
		_, err := store.PutParty(ctx, c)
		require.NoError(t, err)
		return c
	}
	invoice := func(c credit.Party, id string, daysAgo int) credit.Invoice {
		inv := credittest.NewTestInvoice(c, id, today.AddDays(-daysAgo), 12990)
		require.NoError(t, store.PutInvoice(ctx, inv))
		return inv
	}
	const eligible = 12
	for k := range eligible {
		invoice(customer(fmt.Sprintf("c%02d", k), func(*credit.Party) {}), fmt.Sprintf("inv-%02d", k), 31+k)
	}
	invoice(customer("c-no", func(c *credit.Party) { c.AutoNegativation = credit.AutoNegativationNo }), "inv-no", 60)
	invoice(customer("c-incomplete", func(c *credit.Party) { c.MobilePhone = "" }), "inv-incomplete", 60)
	invoice(customer("c-recent", func(*credit.Party) {}), "inv-recent", 10)
	payer := customer("c-payer", func(*credit.Party) {})
	paid := invoice(payer, "inv-paid", 90)
	collector := credit.WithActor(ctx, credit.Actor{Subject: "u-collector", Name: "Carla Cobrança"})
	manual, err := a.Negativations().Include(collector, credit.IncludeRequest{CustomerID: payer.ID, InvoiceID: paid.ID})
	require.NoError(t, err)
	paid.Status, paid.PaidAt, paid.SettledOn = credit.InvoicePaid, today.AddDays(-1), today.AddDays(-1)
	require.NoError(t, store.PutInvoice(ctx, paid))
	require.EqualValues(t, 1, inclusions.Load())

	bootstrap := buildFunction(t, root, "billing-rule")
	url1, logs1 := startPasswordsRIE(t, rie, bootstrap, env)
	url2, logs2 := startPasswordsRIE(t, rie, bootstrap, env)
	call := func(url string, e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
		t.Helper()
		answer := invokeHTTP(t, url, e)
		validateAnswer(t, spec, e, answer)
		return answer
	}
	fixture := func(name string) events.APIGatewayV2HTTPRequest { return loadFixture(t, root, "billing-rule", name) }
	// follow reads a run until it is no longer running.
	follow := func(id string) billingRun {
		t.Helper()
		get := fixture("get-run-missing")
		get.RawPath = "/billing-rule/runs/" + id
		get.RequestContext.HTTP.Path = get.RawPath
		var run billingRun
		for deadline := time.Now().Add(60 * time.Second); ; { // a guard against a hang, not a timing
			resp := call(url1, get)
			require.Equal(t, 200, resp.StatusCode, resp.Body)
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &run))
			if run.Status != "running" {
				return run
			}
			require.True(t, time.Now().Before(deadline), "the run never ended")
			time.Sleep(100 * time.Millisecond)
		}
	}

	// Before: an admin asks what a run would do now. Nothing reaches the
	// bureau and nothing is written; the run's record says it all.
	dryStart := call(url1, fixture("start-dry-run"))
	require.Equal(t, 202, dryStart.StatusCode, dryStart.Body)
	var dryStarted billingRun
	require.NoError(t, json.Unmarshal([]byte(dryStart.Body), &dryStarted))
	assert.True(t, dryStarted.DryRun)
	dry := follow(dryStarted.ID)
	assert.Equal(t, "finished", dry.Status, "%+v", dry.Errors)
	assert.True(t, dry.DryRun)
	assert.Equal(t, eligible, dry.Counts.Included)
	assert.Equal(t, 1, dry.Counts.Removed)
	assert.Zero(t, dry.Counts.Synced, "a dry run does not ask the bureau")
	assert.Equal(t, map[string]int{credit.SkipCustomerOptedOut: 1, credit.CodeMissingCustomerFields: 1}, dry.Counts.Skipped)
	require.NotNil(t, dry.Preview)
	assert.Len(t, dry.Preview.Include, eligible)
	require.Len(t, dry.Preview.Remove, 1)
	assert.Equal(t, manual.ID, dry.Preview.Remove[0].NegativationID)
	for _, it := range dry.Preview.Include {
		assert.Equal(t, int64(12990), it.AmountCents)
		assert.Contains(t, it.Document, "*", "the preview shows the document masked")
	}
	assert.EqualValues(t, 1, inclusions.Load(), "the dry run reached no bureau")
	negs, _, err := a.Negativations().List(ctx, credit.NegativationFilter{IntegrationID: integration.ID}, credit.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, negs, 1, "the dry run wrote no negativation")
	assert.Equal(t, credit.NegativationPending, negs[0].Status, "nor removed one")

	// The schedule's event, delivered twice at the same time.
	var wg sync.WaitGroup
	for _, url := range []string{url1, url2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			invokeRaw(t, url, billingEvent(t, root, "scheduled"))
		}()
	}
	wg.Wait()

	negs, _, err = a.Negativations().List(ctx, credit.NegativationFilter{IntegrationID: integration.ID}, credit.Page{Limit: 100})
	require.NoError(t, err)
	require.Len(t, negs, eligible+1)
	assert.EqualValues(t, eligible+1, inclusions.Load(), "one inclusion per invoice reached the bureau")
	runIDs := map[string]bool{}
	for _, n := range negs {
		assert.Equal(t, 1, inclusions.of(n.ID), "reference %s", n.ID)
		if n.ID == manual.ID {
			assert.Equal(t, credit.NegativationRemoved, n.Status)
			assert.Equal(t, "01", n.RemovalCode)
			continue
		}
		assert.Equal(t, credit.OriginAutomatic, n.Origin)
		assert.Equal(t, "02", n.RestrictionCode)
		// Pending, or already active if one run's sync read it after the
		// other run included it.
		assert.Contains(t, []credit.NegativationStatus{credit.NegativationPending, credit.NegativationActive}, n.Status)
		runIDs[n.RunID] = true
	}

	list := call(url1, fixture("list-runs"))
	require.Equal(t, 200, list.StatusCode, list.Body)
	var page struct{ Items []billingRun }
	require.NoError(t, json.Unmarshal([]byte(list.Body), &page))
	require.Len(t, page.Items, 3)
	require.Equal(t, dry.ID, page.Items[2].ID, "the dry run is listed with the others")
	page.Items = page.Items[:2]
	var included, removed, skippedAlready int
	for _, run := range page.Items {
		assert.Equal(t, "schedule", run.Trigger)
		assert.Equal(t, "finished", run.Status, "%+v", run.Errors)
		assert.Zero(t, run.Counts.Failed)
		assert.Equal(t, 1, run.Counts.Skipped[credit.SkipCustomerOptedOut])
		assert.Equal(t, 1, run.Counts.Skipped[credit.CodeMissingCustomerFields])
		included += run.Counts.Included
		removed += run.Counts.Removed
		skippedAlready += run.Counts.Skipped[credit.CodeAlreadyNegativated]
	}
	assert.Equal(t, eligible, included, "the two runs together included each invoice once")

	// "What did last night's run negativate?": one call, the run's link,
	// through the negativations area behind the local gateway.
	api := localGateway(t, st, nil)
	viewer := token(t, credit.RoleViewer)
	for _, run := range page.Items {
		require.Equal(t, "/negativations?runId="+run.ID, run.Links.Negativations)
		resp, body := httpDo(t, "GET", api+run.Links.Negativations+"&limit=200", viewer, "")
		require.Equal(t, 200, resp.StatusCode, string(body))
		var listed struct {
			Items []struct{ ID, RunID, Origin string }
		}
		require.NoError(t, json.Unmarshal(body, &listed))
		assert.Len(t, listed.Items, run.Counts.Included, "exactly what run %s included", run.ID)
		for _, n := range listed.Items {
			assert.Equal(t, run.ID, n.RunID)
			assert.Equal(t, "automatic", n.Origin)
		}
	}
	resp, body := httpDo(t, "GET", api+"/negativations?origin=manual", viewer, "")
	require.Equal(t, 200, resp.StatusCode, string(body))
	var manualOnly struct{ Items []struct{ ID string } }
	require.NoError(t, json.Unmarshal(body, &manualOnly))
	require.Len(t, manualOnly.Items, 1)
	assert.Equal(t, manual.ID, manualOnly.Items[0].ID)
	assert.Equal(t, 1, removed)
	assert.Equal(t, eligible, skippedAlready, "what one run included, the other met negativated")
	for id := range runIDs {
		assert.True(t, id == page.Items[0].ID || id == page.Items[1].ID, "negativation names run %s", id)
	}

	// An admin's run: 202 at once, executed apart from its request.
	start := call(url1, fixture("start-run"))
	require.Equal(t, 202, start.StatusCode, start.Body)
	var started billingRun
	require.NoError(t, json.Unmarshal([]byte(start.Body), &started))
	run := follow(started.ID)
	assert.Equal(t, "manual", run.Trigger)
	assert.Equal(t, "finished", run.Status, "%+v", run.Errors)
	assert.Zero(t, run.Counts.Included)
	assert.Equal(t, eligible, run.Counts.Skipped[credit.CodeAlreadyNegativated])
	assert.EqualValues(t, eligible+1, inclusions.Load(), "nothing included twice")

	for _, logs := range []*syncBuffer{logs1, logs2} {
		out := logs.String()
		assert.Contains(t, out, `"msg":"billing run ended"`)
		assert.NotContains(t, out, "52998224725", "no full CPF in the function's log")
		for _, line := range strings.Split(out, "\n") {
			if strings.Contains(line, `"msg":"billing run`) {
				assert.Contains(t, line, `"runId":"`, "every line of a run names it: %s", line)
			}
		}
	}
}
