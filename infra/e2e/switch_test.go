package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/dynamo"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSwitchOffKeepsRemovalsGoing: with the master switch off, through the
// local API Gateway on DynamoDB Local and the Connect SA sandbox, new
// consultations and inclusions are refused, while the pending removals,
// the sync, a manual removal and a billing run's removals go on (STJ
// Súmula 548); the run includes nothing and says why.
func TestSwitchOffKeepsRemovalsGoing(t *testing.T) {
	ctx := context.Background()
	// Before the switch went off: branch 7 integrated with automation,
	// two invoices negativated by hand, one of them paid since, and a
	// third overdue invoice not negativated.
	b := startBranchSeven(t, credit.Automation{Enabled: true, RestrictionCode: "02", RemovalCode: "01", DaysAfterDue: 30}, true)
	a, store := b.app, b.store
	admin, collector := token(t, credit.RoleAdmin), token(t, credit.RoleCollector)
	today := credit.DateOf(time.Now(), credit.SaoPaulo())
	invoice := func(customerID, id string) credit.Invoice {
		c := credittest.NewTestCustomer(customerID, "7")
		_, err := store.PutParty(ctx, c)
		require.NoError(t, err)
		inv := credittest.NewTestInvoice(c, id, today.AddDays(-60), 12990)
		require.NoError(t, store.PutInvoice(ctx, inv))
		return inv
	}
	paid, open, fresh := invoice("c-paid", "inv-paid"), invoice("c-open", "inv-open"), invoice("c-fresh", "inv-fresh")
	byHand := credit.WithActor(ctx, credit.Actor{Subject: "u-collector", Name: "Carla Cobrança"})
	paidNeg, err := a.Negativations().Include(byHand, credit.IncludeRequest{CustomerID: paid.CustomerID, InvoiceID: paid.ID})
	require.NoError(t, err)
	openNeg, err := a.Negativations().Include(byHand, credit.IncludeRequest{CustomerID: open.CustomerID, InvoiceID: open.ID})
	require.NoError(t, err)
	paid.Status, paid.PaidAt, paid.SettledOn = credit.InvoicePaid, today.AddDays(-1), today.AddDays(-1)
	require.NoError(t, store.PutInvoice(ctx, paid))

	call, code := b.caller(t), answerCode

	call(admin, "PUT", "/parameters", `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`, 200)

	refused := call(admin, "POST", "/consultations", `{"party":{"kind":"customer","id":"c-fresh"}}`, 403)
	assert.Equal(t, credit.CodeCreditAnalysisDisabled, code(refused), "no new consultation")
	refused = call(collector, "POST", "/negativations", `{"customerId":"c-fresh","invoiceId":"inv-fresh"}`, 403)
	assert.Equal(t, credit.CodeCreditAnalysisDisabled, code(refused), "no new inclusion")

	pending := call(collector, "GET", "/negativations/pending-removals", "", 200)["items"].([]any)
	require.Len(t, pending, 1)
	assert.Contains(t, fmt.Sprint(pending[0]), paidNeg.ID)

	call(admin, "POST", "/negativations/sync", "", 200)

	removed := call(collector, "POST", "/negativations/"+openNeg.ID+"/removal", `{"removalCode":"01"}`, 200)
	assert.Equal(t, "removed", removed["status"], "a removal by hand")

	run := call(admin, "POST", "/billing-rule/runs", "", 202)
	var got map[string]any
	require.Eventually(t, func() bool {
		got = call(admin, "GET", fmt.Sprintf("/billing-rule/runs/%s", run["id"]), "", 200)
		return got["status"] != "running"
	}, 60*time.Second, 100*time.Millisecond, "the run ends")
	assert.Equal(t, "finished", got["status"])
	counts := got["counts"].(map[string]any)
	assert.EqualValues(t, 1, counts["removed"], "the paid debt came off")
	assert.EqualValues(t, 0, counts["included"])
	errs := got["errors"].([]any)
	require.NotEmpty(t, errs)
	assert.Equal(t, credit.CodeCreditAnalysisDisabled, errs[0].(map[string]any)["code"], "the run says why it included nothing")

	n, err := store.GetNegativation(ctx, paidNeg.ID)
	require.NoError(t, err)
	assert.Equal(t, credit.NegativationRemoved, n.Status)
	_, err = store.GetNegativationByInvoice(ctx, fresh.CustomerID, fresh.ID)
	assert.Equal(t, credit.CodeNotFound, credit.ErrorCode(err), "the overdue invoice was not included")
}

// TestAccountCannotMoveUnderLiveNegativations: through the local API
// Gateway on DynamoDB Local, changing the login of an integration with a
// live negativation is 409 integration_has_active_negativations with the
// count; another field still changes.
func TestAccountCannotMoveUnderLiveNegativations(t *testing.T) {
	ctx := context.Background()
	st := startStack(t)
	base := localGateway(t, st, nil)
	admin := token(t, credit.RoleAdmin)

	a := stackApp(t, st, stackConfig(t, st, ""), nil)
	store := dynamo.New(st.Clients().DynamoDB, st.Env()["TABLE_NAME"])
	require.NoError(t, store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	login := sandboxtest.Account().Credentials.Login
	integ, err := a.Integrations().Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{Intermediary: credit.IntermediaryConnect, BranchID: "7",
			Environment: credit.EnvironmentHomologation, Login: login,
			DefaultPlan: credit.PlanReportScore, SendSMSOnInclusion: true, ResponsibleCPF: "529.982.247-25",
			Automation: credit.Automation{Enabled: false}},
		ConsultationPassword: "Sand@123", PEFINPassword: "246802",
	})
	require.NoError(t, err)
	c := credittest.NewTestCustomer("c-1", "7")
	_, err = store.PutParty(ctx, c)
	require.NoError(t, err)
	inv := credittest.NewTestInvoice(c, "inv-1", credit.DateOf(time.Now(), credit.SaoPaulo()).AddDays(-60), 12990)
	require.NoError(t, store.PutInvoice(ctx, inv))
	_, err = a.Negativations().Include(credit.WithActor(ctx, credit.Actor{Subject: "u-collector"}),
		credit.IncludeRequest{CustomerID: c.ID, InvoiceID: inv.ID, RestrictionCode: "02"})
	require.NoError(t, err)

	put := func(login string, sms bool) (int, map[string]any) {
		body := fmt.Sprintf(`{"intermediary":"connect","branchId":"7","environment":"homologation","login":%q,
			"defaultPlan":"report_score","sendSmsOnInclusion":%t,"responsibleCpf":"529.982.247-25","automation":{"enabled":false}}`, login, sms)
		resp, raw := httpDo(t, "PUT", base+"/integrations/"+integ.ID, admin, body)
		out := map[string]any{}
		require.NoError(t, json.Unmarshal(raw, &out), "%s", raw)
		return resp.StatusCode, out
	}
	status, answer := put("another-login", true)
	require.Equal(t, 409, status, "%v", answer)
	e := answer["error"].(map[string]any)
	assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, e["code"])
	assert.EqualValues(t, 1, e["details"].(map[string]any)["liveNegativations"])

	status, answer = put(login, false)
	require.Equal(t, 200, status, "%v", answer)
	assert.Equal(t, false, answer["sendSmsOnInclusion"])
	got, err := store.GetIntegration(ctx, integ.ID)
	require.NoError(t, err)
	assert.Equal(t, login, got.Login, "the account did not move")
}
