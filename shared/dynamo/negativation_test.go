package dynamo_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/shared/connectsa"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNegativationStoreContract(t *testing.T) {
	credittest.NegativationStore(t, func(t *testing.T) credittest.NegativationStores { return newStore(t) })
}

// negativationsOnDynamo is the whole negativation flow on DynamoDB Local:
// the domain service, this store, and the given bureau.
type negativationsOnDynamo struct {
	store        *dynamo.Store
	svc          *credit.NegativationService
	integrations *credit.IntegrationService
	integration  credit.Integration
	ctx          context.Context
}

func newNegativationsOnDynamo(t *testing.T, registry credit.PEFINRegistry, restriction, removal string) *negativationsOnDynamo {
	t.Helper()
	ctx := context.Background()
	s := newStore(t)
	require.NoError(t, s.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	secrets := memory.NewSecrets()
	access := &credit.BureauAccess{Secrets: secrets, Registry: registry}
	integrations := &credit.IntegrationService{Store: s, Secrets: secrets, Bureau: access, NewID: uuid.NewString}
	i, err := integrations.Create(ctx, credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{
			Intermediary: credit.IntermediaryConnect, BranchID: "b1", Environment: credit.EnvironmentHomologation,
			Login: "isp-" + uuid.NewString()[:8], DefaultPlan: credit.PlanReportScore, SendSMSOnInclusion: true,
			ResponsibleCPF: "529.982.247-25",
			Automation:     credit.Automation{Enabled: true, RestrictionCode: restriction, RemovalCode: removal, DaysAfterDue: 30},
		},
		ConsultationPassword: "Init@123", PEFINPassword: "147258",
	})
	require.NoError(t, err)
	e := &negativationsOnDynamo{store: s, integrations: integrations, integration: i,
		ctx: credit.WithActor(ctx, credit.Actor{Subject: "u-collector", Name: "Cobrança"})}
	e.svc = &credit.NegativationService{Store: s, Parties: s, Parameters: s, Integrations: s, Bureau: access, NewID: uuid.NewString}
	return e
}

// customerOwing stores a customer with doc and one open invoice due a month
// ago.
func (e *negativationsOnDynamo) customerOwing(t *testing.T, id, doc string) {
	t.Helper()
	c := credittest.NewTestCustomer(id, "b1")
	c.Document = credit.MustParseDocument(doc)
	_, err := e.store.PutParty(context.Background(), c)
	require.NoError(t, err)
	due := credit.DateOf(time.Now().AddDate(0, -1, 0), credit.SaoPaulo())
	require.NoError(t, e.store.PutInvoice(context.Background(), credittest.NewTestInvoice(c, "inv-1", due, 12345)))
}

func (e *negativationsOnDynamo) include(id string) (credit.Negativation, error) {
	return e.svc.Include(e.ctx, credit.IncludeRequest{CustomerID: id, InvoiceID: "inv-1"})
}

// raceInclude sends n inclusions of one invoice at once and returns the one
// record made; every other answer must be already_negativated naming it.
func raceInclude(t *testing.T, e *negativationsOnDynamo, customerID string, n int) credit.Negativation {
	t.Helper()
	var wg sync.WaitGroup
	results := make([]credit.Negativation, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			<-start
			results[k], errs[k] = e.include(customerID)
		}(k)
	}
	close(start)
	wg.Wait()
	var winner credit.Negativation
	for k, err := range errs {
		if err == nil {
			require.Empty(t, winner.ID, "two winners")
			winner = results[k]
		}
	}
	require.NotEmpty(t, winner.ID, "no winner: %v", errs)
	for _, err := range errs {
		if err != nil {
			require.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err), "%v", err)
			e, _ := credit.AsError(err)
			assert.Equal(t, winner.ID, e.Details["id"])
		}
	}
	all, _, err := e.svc.List(e.ctx, credit.NegativationFilter{CustomerID: customerID}, credit.Page{})
	require.NoError(t, err)
	require.Len(t, all, 1, "exactly one record")
	return winner
}

func TestNegativationRaceOnDynamoDB(t *testing.T) {
	bureau := credittest.NewFakeBureau()
	e := newNegativationsOnDynamo(t, bureau, "PEF01", "BX01")
	e.customerOwing(t, "c1", "529.982.247-25")

	n := raceInclude(t, e, "c1", 12)
	includes, registered, _, _ := bureau.Counts()
	assert.Equal(t, 1, includes, "exactly one inclusion reached the bureau")
	assert.Equal(t, 1, registered)
	assert.Equal(t, credit.NegativationPending, n.Status)
}

// TestIntegrationDeleteGuardWithRealNegativations walks the integration's
// delete guard through a negativation's life on DynamoDB Local.
func TestIntegrationDeleteGuardWithRealNegativations(t *testing.T) {
	bureau := credittest.NewFakeBureau()
	e := newNegativationsOnDynamo(t, bureau, "PEF01", "BX01")
	e.customerOwing(t, "c1", "529.982.247-25")
	n, err := e.include("c1")
	require.NoError(t, err)

	err = e.integrations.Delete(e.ctx, e.integration.ID)
	assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err), "pending")
	bureau.SetStatus(n.ID, credit.BureauRecordActive, "")
	_, err = e.svc.Sync(e.ctx, credit.SyncRequest{})
	require.NoError(t, err)
	err = e.integrations.Delete(e.ctx, e.integration.ID)
	assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err), "active")

	removed, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
	require.NoError(t, err)
	assert.Equal(t, credit.NegativationRemoved, removed.Status)
	require.NoError(t, e.integrations.Delete(e.ctx, e.integration.ID), "allowed once removed")
	got, err := e.svc.Get(e.ctx, n.ID)
	require.NoError(t, err)
	assert.Equal(t, removed, got, "the record and its history outlive the integration")
}

// countingSandbox serves the Connect SA sandbox and counts the inclusions
// that reach it.
func countingSandbox(t *testing.T, cfg sandbox.Config) (*connectsa.Client, *atomic.Int64) {
	t.Helper()
	sb := sandbox.New(cfg)
	var inclusions atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == sandbox.PathInclude {
			inclusions.Add(1)
		}
		sb.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(sb.Close)
	client := connectsa.New(connectsa.Config{
		BaseURLs:    map[credit.Environment]string{credit.EnvironmentHomologation: srv.URL},
		CallTimeout: 2 * time.Second,
	}, nil)
	return client, &inclusions
}

func TestNegativationsAgainstTheSandbox(t *testing.T) {
	bureau, inclusions := countingSandbox(t, sandbox.Config{})
	e := newNegativationsOnDynamo(t, bureau, "02", "01")

	t.Run("race: one record, one inclusion at the bureau", func(t *testing.T) {
		e.customerOwing(t, "race", "529.982.247-25")
		before := inclusions.Load()
		n := raceInclude(t, e, "race", 10)
		assert.Equal(t, int64(1), inclusions.Load()-before)
		assert.Equal(t, credit.NegativationPending, n.Status)
		assert.NotEmpty(t, n.Protocol)

		res, err := e.svc.Sync(e.ctx, credit.SyncRequest{IntegrationID: e.integration.ID})
		require.NoError(t, err)
		assert.Equal(t, 1, res.ByStatus[credit.NegativationActive])
		removed, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
		require.NoError(t, err)
		assert.Equal(t, credit.NegativationRemoved, removed.Status)
	})

	t.Run("pending, then rejected by the bureau", func(t *testing.T) {
		e.customerOwing(t, "rejected", "100.000.009-57")
		n, err := e.include("rejected")
		require.NoError(t, err)
		assert.Equal(t, credit.NegativationPending, n.Status)
		_, err = e.svc.Sync(e.ctx, credit.SyncRequest{})
		require.NoError(t, err)
		got, _ := e.svc.Get(e.ctx, n.ID)
		assert.Equal(t, credit.NegativationRejected, got.Status)
		assert.Equal(t, sandbox.MessageStatusRejected, got.BureauMessage)
	})

	t.Run("refused at once: failed for sure, 422", func(t *testing.T) {
		e.customerOwing(t, "refused", "100.000.010-90")
		n, err := e.include("refused")
		assert.Equal(t, credit.CodeBureauRejected, credit.ErrorCode(err))
		assert.Equal(t, credit.NegativationFailed, n.Status)
		assert.False(t, n.OutcomeUnknown)
	})

	t.Run("answer lost after registering: failed in doubt, the retry finds it", func(t *testing.T) {
		e.customerOwing(t, "lost", "100.000.008-76") // registered, truncated answer
		n, err := e.include("lost")
		require.Error(t, err)
		assert.Equal(t, credit.KindBadGateway, credit.ErrorKind(err))
		assert.Equal(t, credit.NegativationFailed, n.Status)
		assert.True(t, n.OutcomeUnknown)
		assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(e.integrations.Delete(e.ctx, e.integration.ID)))

		again, err := e.include("lost")
		require.NoError(t, err, "the bureau answers the record it already has")
		assert.Equal(t, n.ID, again.ID)
		// No activation delay in this sandbox: the record it kept is active.
		assert.Equal(t, credit.NegativationActive, again.Status)
	})

	t.Run("bureau down: failed in doubt, nothing registered", func(t *testing.T) {
		e.customerOwing(t, "down", "100.000.007-95")
		n, err := e.include("down")
		assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err))
		assert.Equal(t, credit.NegativationFailed, n.Status)
		assert.True(t, n.OutcomeUnknown, "a 503 cannot prove nothing happened")
	})
}

// TestListsReadThroughAStaleStatusIndex: the status index is eventually
// consistent, so a record that just changed status can be listed under its
// old status and its new one at once, or under a status it has left. The
// lists read the records themselves and go by what they say. A ghost item
// under the record's key stands in for the index entry DynamoDB has not yet
// moved.
func TestListsReadThroughAStaleStatusIndex(t *testing.T) {
	bureau := credittest.NewFakeBureau()
	e := newNegativationsOnDynamo(t, bureau, "PEF01", "BX01")
	e.customerOwing(t, "c1", "529.982.247-25")
	n, err := e.include("c1")
	require.NoError(t, err)
	require.Equal(t, credit.NegativationPending, n.Status)
	inv := credittest.NewTestInvoice(credittest.NewTestCustomer("c1", "b1"), "inv-1", n.DueDate, n.AmountCents)
	inv.Status, inv.SettledOn = credit.InvoicePaid, credit.DateOf(time.Now(), credit.SaoPaulo())
	require.NoError(t, e.store.PutInvoice(e.ctx, inv))

	recordKey := map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "NEGATIVATION#" + n.ID},
		"SK": &types.AttributeValueMemberS{Value: "NEGATIVATION"},
	}
	got, err := e.store.Client.GetItem(e.ctx, &dynamodb.GetItemInput{TableName: aws.String(e.store.Table), Key: recordKey, ConsistentRead: aws.Bool(true)})
	require.NoError(t, err)
	partition := got.Item["GSI4PK"].(*types.AttributeValueMemberS).Value
	require.True(t, strings.HasSuffix(partition, "#pending"), partition)
	ghost := func(status string) {
		t.Helper()
		_, err := e.store.Client.PutItem(e.ctx, &dynamodb.PutItemInput{TableName: aws.String(e.store.Table), Item: map[string]types.AttributeValue{
			"PK":            recordKey["PK"],
			"SK":            &types.AttributeValueMemberS{Value: "STALE-INDEX-ENTRY"},
			"GSI4PK":        &types.AttributeValueMemberS{Value: strings.TrimSuffix(partition, "#pending") + "#" + status},
			"GSI4SK":        got.Item["GSI4SK"],
			"integrationId": got.Item["integrationId"],
		}})
		require.NoError(t, err)
	}

	ghost("active")
	settled, err := e.store.ListSettledNegativations(e.ctx, "", nil)
	require.NoError(t, err, "the record is listed under pending and active")
	require.Len(t, settled, 1)
	assert.Equal(t, n.ID, settled[0].Negativation.ID)
	active, _, err := e.store.ListNegativations(e.ctx, credit.NegativationFilter{Status: credit.NegativationActive}, credit.Page{})
	require.NoError(t, err)
	assert.Empty(t, active, "a pending record is not listed as active")

	_, err = e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
	require.NoError(t, err)
	ghost("pending")
	settled, err = e.store.ListSettledNegativations(e.ctx, "", nil)
	require.NoError(t, err)
	assert.Empty(t, settled, "a removed record is not live, whatever the index still says")
}
