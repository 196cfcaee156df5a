package credit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// allNegativations lists every record the store holds.
func (e *billingEnv) allNegativations(t *testing.T) []credit.Negativation {
	t.Helper()
	ns, _, err := e.store.ListNegativations(context.Background(), credit.NegativationFilter{}, credit.Page{Limit: credit.MaxPageLimit})
	require.NoError(t, err)
	return ns
}

// TestBillingRuleDryRun: a dry run records what a run would do now, with
// the counts and the first items of each list, and neither calls the
// bureau nor writes a negativation; the real run that follows does all of
// it, from the start.
func TestBillingRuleDryRun(t *testing.T) {
	admin := credit.Actor{Subject: "u-admin", Name: "Ana Admin", Roles: []credit.Role{credit.RoleAdmin}}
	ctx := credit.WithActor(context.Background(), admin)
	e := newBillingEnv(t)
	none, open := func(*credit.Party) {}, func(*credit.Invoice) {}

	c := e.customer(t, "c1", "b1", none)
	due := e.invoice(t, c, "inv-due", 45, open)
	optedOut := e.customer(t, "c-no", "b1", func(p *credit.Party) { p.AutoNegativation = credit.AutoNegativationNo })
	e.invoice(t, optedOut, "inv-no", 45, open)
	minor := e.customer(t, "c-minor", "b1", func(p *credit.Party) { p.BirthDate = billingToday.AddYears(-17) })
	e.invoice(t, minor, "inv-minor", 50, open)
	paid := e.invoice(t, c, "inv-paid", 60, open)
	negativated := e.negativate(t, paid)
	e.settle(t, paid, credit.InvoicePaid)

	beforeNegs := e.allNegativations(t)
	inc0, reg0, rem0, st0 := e.bureau.Counts()

	run, err := e.rule.Start(ctx, credit.StartRequest{DryRun: true})
	require.NoError(t, err)
	assert.True(t, run.DryRun)
	_, err = e.rule.Start(ctx, credit.StartRequest{DryRun: true})
	assert.Equal(t, credit.CodeBillingRunInProgress, credit.ErrorCode(err), "one dry run at a time")

	done, err := e.rule.Execute(context.Background(), run.ID, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, credit.BillingRunFinished, done.Status)
	assert.True(t, done.DryRun)
	assert.Equal(t, credit.BillingCounts{Examined: 4, Included: 1, Removed: 1,
		Skipped: skipped(credit.SkipCustomerOptedOut, 1, credit.CodeDebtorUnderage, 1)}, done.Counts)

	masked := c.Document.Masked()
	require.NotEqual(t, c.Document.String(), masked)
	assert.Equal(t, []credit.BillingPreviewItem{{IntegrationID: e.integration.ID, CustomerID: "c1", InvoiceID: "inv-due",
		MaskedDocument: masked, AmountCents: due.AmountCents, DueDate: due.DueDate}}, done.Preview.Include)
	assert.Equal(t, []credit.BillingPreviewItem{{IntegrationID: e.integration.ID, CustomerID: "c1", InvoiceID: "inv-paid",
		NegativationID: negativated.ID, MaskedDocument: masked, AmountCents: paid.AmountCents, DueDate: paid.DueDate}}, done.Preview.Remove)
	reasons := map[string]string{}
	for _, s := range done.Preview.Skip {
		reasons[s.InvoiceID] = s.Reason
		assert.NotEmpty(t, s.MaskedDocument, s.InvoiceID)
	}
	assert.Equal(t, map[string]string{"inv-no": credit.SkipCustomerOptedOut, "inv-minor": credit.CodeDebtorUnderage}, reasons)

	stored, err := e.billing.GetBillingRun(context.Background(), run.ID)
	require.NoError(t, err)
	assert.Equal(t, done, stored, "the preview is recorded on the run")

	inc, reg, rem, st := e.bureau.Counts()
	assert.Equal(t, [4]int{inc0, reg0, rem0, st0}, [4]int{inc, reg, rem, st}, "no bureau call")
	assert.Equal(t, beforeNegs, e.allNegativations(t), "no negativation written or changed")

	// The real run does it all: it does not take the dry run for a run to
	// resume.
	real := e.runScheduled(t)
	assert.Empty(t, real.ResumedFrom)
	assert.Equal(t, 1, real.Counts.Included)
	assert.Equal(t, 1, real.Counts.Removed)
	assert.False(t, real.DryRun)
	assert.Equal(t, credit.BillingPreview{}, real.Preview, "a real run keeps no preview")
	n, ok := e.negativationOf(t, due)
	require.True(t, ok)
	assert.Equal(t, credit.NegativationPending, n.Status)
}

// TestBillingRuleDryRunBoundsItsLists: the counts have every item; each
// list keeps the first MaxBillingPreviewItems.
func TestBillingRuleDryRunBoundsItsLists(t *testing.T) {
	e := newBillingEnv(t)
	c := e.customer(t, "c1", "b1", func(*credit.Party) {})
	n := credit.MaxBillingPreviewItems + 5
	for k := range n {
		e.invoice(t, c, fmt.Sprintf("inv-%03d", k), 45, func(*credit.Invoice) {})
	}
	run, err := e.rule.Start(context.Background(), credit.StartRequest{DryRun: true})
	require.NoError(t, err)
	done, err := e.rule.Execute(context.Background(), run.ID, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, n, done.Counts.Included)
	assert.Len(t, done.Preview.Include, credit.MaxBillingPreviewItems)
	assert.Empty(t, e.allNegativations(t))
}

// TestBillingRuleDryRunBesideARealRun: a dry run never holds back a real
// run, nor a real run a dry one.
func TestBillingRuleDryRunBesideARealRun(t *testing.T) {
	ctx := context.Background()
	e := newBillingEnv(t)
	dry, err := e.rule.Start(ctx, credit.StartRequest{DryRun: true})
	require.NoError(t, err)
	real, err := e.rule.Start(ctx, credit.StartRequest{})
	require.NoError(t, err, "a dry run in progress does not block a real one")
	_, err = e.rule.Start(ctx, credit.StartRequest{})
	assert.Equal(t, credit.CodeBillingRunInProgress, credit.ErrorCode(err))
	assert.Equal(t, []string{dry.ID, real.ID}, e.starter.ids())
}
