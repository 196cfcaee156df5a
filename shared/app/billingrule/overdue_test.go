package billingrule_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"creditanalysis/infra/dynamodblocal"
	"creditanalysis/infra/localaws"
	"creditanalysis/shared/app"
	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/dynamo"
	"creditanalysis/shared/emf/emftest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestScheduleChecksOverdueRemovals: after the schedule's run, a paid debt
// still registered past its deadline is recorded once, and the
// RemovalsOverdue gauge the alarm reads is written as a valid EMF block.
func TestScheduleChecksOverdueRemovals(t *testing.T) {
	ctx := context.Background()
	client := localaws.DynamoDB(dynamodblocal.TestEndpoint(t))
	table := fmt.Sprintf("overdue-%d", time.Now().UnixNano())
	require.NoError(t, dynamo.EnsureTable(ctx, client, table))
	var logs bytes.Buffer
	log := slog.New(credit.NewLogHandler(slog.NewJSONHandler(&logs, nil)))
	b := bureau.New(app.New(app.Config{Table: table}, client, log), bureau.Config{}, nil, nil)

	integration := credittest.NewTestIntegration("filial-od")
	require.NoError(t, b.Store.CreateIntegration(ctx, integration))
	customer := credittest.NewTestCustomer("cli-od", "filial-od")
	_, err := b.Store.PutParty(ctx, customer)
	require.NoError(t, err)
	invoice := credittest.NewTestInvoice(customer, "fat-od", credit.NewDate(2026, 1, 10), 12990)
	require.NoError(t, b.Store.PutInvoice(ctx, invoice))
	n := credittest.NewTestNegativation(integration, customer, invoice)
	n.Status = credit.NegativationActive
	require.NoError(t, b.Store.CreateNegativation(ctx, n))
	invoice.Status, invoice.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 2, 2)
	require.NoError(t, b.Store.PutInvoice(ctx, invoice))

	for range 2 {
		require.NoError(t, billingrule.CheckOverdueRemovals(ctx, b))
	}
	blocks, raws := emftest.Blocks(&logs)
	require.Len(t, blocks, 2, logs.String())
	for i, blk := range blocks {
		assert.Empty(t, emftest.Validate(raws[i]), "%s", raws[i])
		assert.EqualValues(t, 1, blk["RemovalsOverdue"], "still overdue on the second check")
	}
	recorded, err := b.Store.RecordRemovalOverdue(ctx, credit.RemovalOverdue{NegativationID: n.ID})
	require.NoError(t, err)
	assert.False(t, recorded, "the check recorded it, once")
}
