package stack_test

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/eventbridgelocal"
	"creditanalysis/infra/localaws"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app/events"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/dynamo"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCommittedChangesBecomeEvents drives DynamoDB Local's stream through
// the publisher's Lambda entry point to the EventBridge stand-in: each
// committed change of a negativation's status is one event, a write that
// changes no published status is none, and an overdue removal recorded
// twice is published once.
func TestCommittedChangesBecomeEvents(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	st, err := stack.Start(ctx, stack.Options{InMemory: true})
	require.NoError(t, err)
	t.Cleanup(st.Stop)

	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	publisher := events.Handler(events.Config{Bus: stack.EventBus, Namespace: "CreditAnalysis/test"},
		eventbridgelocal.Client(st.EventBridgeEndpoint), log)
	require.NoError(t, st.StartStreamPoller(ctx, publisher.Invoke, log))

	store := dynamo.New(localaws.DynamoDB(st.DynamoDBEndpoint), stack.Table)
	integration := credittest.NewTestIntegration("filial-ev")
	require.NoError(t, store.CreateIntegration(ctx, integration))
	customer := credittest.NewTestCustomer("cli-ev", "filial-ev")
	_, err = store.PutParty(ctx, customer)
	require.NoError(t, err)
	invoice := credittest.NewTestInvoice(customer, "fat-ev", credit.NewDate(2026, 9, 10), 12990)
	require.NoError(t, store.PutInvoice(ctx, invoice))

	n := credittest.NewTestNegativation(integration, customer, invoice)
	require.NoError(t, store.CreateNegativation(ctx, n)) // submitting: no event
	step := func(status credit.NegativationStatus) {
		_, err := store.UpdateNegativation(ctx, n.ID, func(x *credit.Negativation) error {
			x.Status = status
			x.History = append(x.History, credit.NegativationEvent{Status: status, At: time.Now().UTC(), By: credit.Actor{Subject: "u-collector", Name: "Cobrança"}})
			return nil
		})
		require.NoError(t, err)
	}
	step(credit.NegativationPending)
	step(credit.NegativationPending) // same status again: no event
	step(credit.NegativationActive)
	overdue := credit.RemovalOverdue{NegativationID: n.ID, IntegrationID: integration.ID, BranchID: "filial-ev", CustomerID: customer.ID,
		InvoiceID: invoice.ID, Document: customer.Document, Status: credit.NegativationActive, InvoiceStatus: credit.InvoicePaid,
		SettledOn: credit.NewDate(2026, 9, 1), Deadline: credit.NewDate(2026, 9, 8), DetectedAt: time.Now().UTC()}
	for range 2 {
		_, err := store.RecordRemovalOverdue(ctx, overdue)
		require.NoError(t, err)
	}
	step(credit.NegativationRemoving)
	step(credit.NegativationRemoved)
	// A run that skipped nothing: its counts hold no reason at all (an
	// empty map, as a run's progress keeps them).
	run := credittest.NewTestBillingRun("run-ev", time.Now().UTC())
	require.NoError(t, store.CreateBillingRun(ctx, run))
	_, err = store.UpdateBillingRun(ctx, run.ID, func(r *credit.BillingRun) error {
		r.Status, r.FinishedAt = credit.BillingRunFinished, time.Now().UTC()
		r.Counts.Skipped = map[string]int{}
		return nil
	})
	require.NoError(t, err)

	want := []string{
		"Negativation Status Changed:pending", "Negativation Status Changed:active",
		"Negativation Removal Overdue:active", "Negativation Status Changed:removed",
		"Billing Rule Run Finished:finished",
	}
	var got []string
	require.Eventually(t, func() bool {
		evs, err := eventbridgelocal.ReadEvents(st.Events.Path())
		require.NoError(t, err)
		got = got[:0]
		for _, e := range evs {
			status := ""
			if _, rest, ok := strings.Cut(string(e.Detail), `"status":"`); ok {
				status, _, _ = strings.Cut(rest, `"`)
			}
			got = append(got, e.DetailType+":"+status)
		}
		return len(got) >= len(want)
	}, 20*time.Second, 100*time.Millisecond, "got %v", got)
	time.Sleep(time.Second) // nothing more arrives
	evs, err := eventbridgelocal.ReadEvents(st.Events.Path())
	require.NoError(t, err)
	assert.Len(t, evs, len(want))
	assert.Equal(t, want, got)
	for _, e := range evs {
		assert.NotContains(t, string(e.Detail), customer.Document.Number())
		assert.NotContains(t, string(e.Detail), customer.Name)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
