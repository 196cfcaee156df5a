package credit_test

import (
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestOverdueRemovalsAreRecordedOnce: the check finds the paid or
// cancelled debts still registered past their deadline, and records each
// once, however often it runs.
func TestOverdueRemovalsAreRecordedOnce(t *testing.T) {
	e := newNegEnv(t)
	for _, id := range []string{"inv-late", "inv-in-time"} {
		e.putInvoice(t, id, func(*credit.Invoice) {})
	}
	late, err := e.include("inv-late")
	require.NoError(t, err)
	_, err = e.include("inv-in-time")
	require.NoError(t, err)
	e.putInvoice(t, "inv-late", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoiceCancelled, credit.NewDate(2026, 11, 10) })
	e.putInvoice(t, "inv-in-time", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 25) })

	store := &memory.OverdueRemovals{}
	got, err := e.svc.CheckOverdueRemovals(e.ctx, store)
	require.NoError(t, err)
	assert.Equal(t, credit.OverdueRemovals{Overdue: 1, Recorded: 1}, got)
	require.Contains(t, store.Recorded, late.ID)
	o := store.Recorded[late.ID]
	assert.Equal(t, "2026-11-17", o.Deadline.String())
	assert.Equal(t, credit.InvoiceCancelled, o.InvoiceStatus)
	assert.Equal(t, late.Document, o.Document)

	again, err := e.svc.CheckOverdueRemovals(e.ctx, store)
	require.NoError(t, err)
	assert.Equal(t, credit.OverdueRemovals{Overdue: 1, Recorded: 0}, again, "still overdue, not recorded twice")
	assert.Equal(t, "negativation/"+late.ID+"/removal-overdue", credit.RemovalOverdueEvent(o).ID, "one id per record")
}

func TestStatusChangesThatAreEvents(t *testing.T) {
	n := credit.Negativation{ID: "neg-1", Version: 4, UpdatedAt: time.Unix(100, 0)}
	with := func(st credit.NegativationStatus) *credit.Negativation { c := n; c.Status = st; return &c }
	for _, tc := range []struct {
		before *credit.Negativation
		after  credit.NegativationStatus
		event  bool
	}{
		{nil, credit.NegativationSubmitting, false},
		{nil, credit.NegativationPending, true},
		{with(credit.NegativationSubmitting), credit.NegativationPending, true},
		{with(credit.NegativationPending), credit.NegativationPending, false},
		{with(credit.NegativationPending), credit.NegativationActive, true},
		{with(credit.NegativationSubmitting), credit.NegativationRejected, true},
		{with(credit.NegativationSubmitting), credit.NegativationFailed, true},
		{with(credit.NegativationActive), credit.NegativationRemoving, false},
		{with(credit.NegativationRemoving), credit.NegativationRemoved, true},
	} {
		e, ok := credit.NegativationStatusChanged(tc.before, *with(tc.after))
		assert.Equal(t, tc.event, ok, "%v -> %s", tc.before, tc.after)
		if ok {
			assert.Equal(t, "negativation/neg-1/"+string(tc.after)+"/4", e.ID, "deterministic: the same write, the same id")
		}
	}
}

func TestBillingRunFinishedOnce(t *testing.T) {
	r := credit.BillingRun{ID: "run-1", Status: credit.BillingRunRunning, Version: 7}
	_, ok := credit.BillingRunFinishedEvent(nil, r)
	assert.False(t, ok, "a running run")
	done := r
	done.Status = credit.BillingRunFinished
	e, ok := credit.BillingRunFinishedEvent(&r, done)
	assert.True(t, ok)
	assert.Equal(t, "billing-run/run-1/finished/7", e.ID)
	_, ok = credit.BillingRunFinishedEvent(&done, done)
	assert.False(t, ok, "a later write of a finished run")
	for _, st := range []credit.BillingRunStatus{credit.BillingRunStoppedAtDeadline, credit.BillingRunFailed} {
		x := r
		x.Status = st
		_, ok := credit.BillingRunFinishedEvent(&r, x)
		assert.True(t, ok, st)
	}
}
