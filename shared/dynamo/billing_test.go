package dynamo_test

import (
	"context"
	"fmt"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBillingStoreContract(t *testing.T) {
	credittest.BillingStore(t, func(t *testing.T) credittest.BillingStores { return newStore(t) })
}

// TestLoadInvoices: a bulk load writes every invoice as PutInvoice does,
// open ones walkable by the billing rule, paid ones not.
func TestLoadInvoices(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := credittest.NewTestCustomer("c1", "b1")
	_, err := s.PutParty(ctx, c)
	require.NoError(t, err)
	var invs []credit.Invoice
	for k := range 60 {
		inv := credittest.NewTestInvoice(c, fmt.Sprintf("inv-%02d", k), credit.NewDate(2026, 9, 1).AddDays(k%10), credit.Cents(100+k))
		if k%3 == 0 {
			inv.Status, inv.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 10, 1)
		}
		invs = append(invs, inv)
	}
	require.NoError(t, s.LoadInvoices(ctx, invs))
	for _, want := range invs {
		got, err := s.GetInvoice(ctx, "c1", want.ID)
		require.NoError(t, err)
		assert.Equal(t, want, got)
	}
	open, done, err := s.OpenInvoicesDue(ctx, credit.OpenInvoiceQuery{BranchID: "b1", From: credit.NewDate(2026, 1, 1), To: credit.NewDate(2026, 12, 31), Limit: 100})
	require.NoError(t, err)
	assert.True(t, done)
	assert.Len(t, open, 40)
}
