package credittest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// BillingStores is what the billing contract needs of an adapter: the runs
// and the parties and invoices the rule reads.
type BillingStores interface {
	credit.BillingStore
	credit.PartyStore
}

// NewTestBillingRun returns a running scheduled run started at.
func NewTestBillingRun(id string, at time.Time) credit.BillingRun {
	at = at.UTC().Truncate(time.Millisecond)
	return credit.BillingRun{
		ID: id, Trigger: credit.TriggerSchedule, RequestedBy: credit.BillingRuleActor, Status: credit.BillingRunRunning,
		Day: credit.DateOf(at, credit.SaoPaulo()), StartedAt: at, LeaseUntil: at.Add(15 * time.Minute), Version: 1,
	}
}

// BillingStore is the contract of credit.BillingStore.
func BillingStore(t *testing.T, newStore func(t *testing.T) BillingStores) {
	ctx := context.Background()
	base := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

	t.Run("a run round-trips with everything it records", func(t *testing.T) {
		s := newStore(t)
		run := NewTestBillingRun("run-1", base)
		run.Trigger, run.RequestedBy = credit.TriggerManual, credit.Actor{Subject: "u-admin", Name: "Ana Admin"}
		run.FinishedAt = base.Add(time.Minute)
		run.Status = credit.BillingRunStoppedAtDeadline
		run.Counts = credit.BillingCounts{Examined: 12, Included: 7, Removed: 2, Synced: 3, Failed: 1,
			Skipped: map[string]int{credit.CodeAlreadyNegativated: 1, credit.SkipCustomerOptedOut: 1}}
		run.Errors = []credit.BillingRunError{{At: base.Add(time.Second), IntegrationID: "i1", CustomerID: "c1", InvoiceID: "inv-1",
			NegativationID: "n1", Code: credit.CodeBureauUnavailable, Message: "O bureau não respondeu."}}
		run.Position = credit.BillingPosition{Done: []string{"i0"}, Partial: []credit.IntegrationPosition{
			{IntegrationID: "i1", After: &credit.InvoiceKey{DueDate: credit.NewDate(2026, 9, 1), CustomerID: "c1", InvoiceID: "inv-1"}},
			{IntegrationID: "i2"},
		}}
		run.ResumedFrom = "run-0"
		require.NoError(t, s.CreateBillingRun(ctx, run))
		got, err := s.GetBillingRun(ctx, "run-1")
		require.NoError(t, err)
		assert.Equal(t, run, got)

		dry := NewTestBillingRun("run-dry", base)
		dry.DryRun = true
		dry.Counts = credit.BillingCounts{Examined: 3, Included: 1, Removed: 1, Skipped: map[string]int{credit.SkipCustomerOptedOut: 1}}
		dry.Preview = credit.BillingPreview{
			Include: []credit.BillingPreviewItem{{IntegrationID: "i1", CustomerID: "c1", InvoiceID: "inv-1", MaskedDocument: "***.982.247-**",
				AmountCents: 9990, DueDate: credit.NewDate(2026, 9, 1)}},
			Remove: []credit.BillingPreviewItem{{IntegrationID: "i1", CustomerID: "c2", InvoiceID: "inv-2", NegativationID: "n2",
				MaskedDocument: "***.456.789-**", AmountCents: 100, DueDate: credit.NewDate(2026, 8, 1)}},
			Skip: []credit.BillingPreviewItem{{IntegrationID: "i1", CustomerID: "c3", InvoiceID: "inv-3", AmountCents: 5,
				DueDate: credit.NewDate(2026, 8, 2), Reason: credit.SkipCustomerOptedOut}},
		}
		require.NoError(t, s.CreateBillingRun(ctx, dry))
		got, err = s.GetBillingRun(ctx, "run-dry")
		require.NoError(t, err)
		assert.Equal(t, dry, got, "a dry run round-trips with its preview")

		_, err = s.GetBillingRun(ctx, "missing")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.UpdateBillingRun(ctx, "missing", func(*credit.BillingRun) error { return nil })
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		assert.Error(t, s.CreateBillingRun(ctx, run), "an id is never reused")
	})

	t.Run("update applies fn, bumps the version, keeps the id; ErrNoChange and errors write nothing", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.CreateBillingRun(ctx, NewTestBillingRun("run-u", base)))
		got, err := s.UpdateBillingRun(ctx, "run-u", func(r *credit.BillingRun) error {
			r.ID = "other"
			r.Status, r.FinishedAt = credit.BillingRunFinished, base.Add(time.Hour)
			r.Counts.Included = 3
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, "run-u", got.ID)
		assert.Equal(t, int64(2), got.Version)
		stored, err := s.GetBillingRun(ctx, "run-u")
		require.NoError(t, err)
		assert.Equal(t, got, stored)

		unchanged, err := s.UpdateBillingRun(ctx, "run-u", func(r *credit.BillingRun) error {
			r.Counts.Included = 99
			return credit.ErrNoChange
		})
		require.NoError(t, err)
		assert.Equal(t, 3, unchanged.Counts.Included)
		boom := errors.New("boom")
		_, err = s.UpdateBillingRun(ctx, "run-u", func(r *credit.BillingRun) error { r.Counts.Included = 99; return boom })
		assert.ErrorIs(t, err, boom)
		stored, _ = s.GetBillingRun(ctx, "run-u")
		assert.Equal(t, 3, stored.Counts.Included)
		assert.Equal(t, int64(2), stored.Version)
	})

	t.Run("concurrent updates all land", func(t *testing.T) {
		s := newStore(t)
		require.NoError(t, s.CreateBillingRun(ctx, NewTestBillingRun("run-c", base)))
		const n = 8
		var wg sync.WaitGroup
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := s.UpdateBillingRun(ctx, "run-c", func(r *credit.BillingRun) error { r.Counts.Included++; return nil })
				assert.NoError(t, err)
			}()
		}
		wg.Wait()
		got, err := s.GetBillingRun(ctx, "run-c")
		require.NoError(t, err)
		assert.Equal(t, n, got.Counts.Included)
		assert.Equal(t, int64(1+n), got.Version)
	})

	t.Run("runs list newest first, in pages", func(t *testing.T) {
		s := newStore(t)
		var want []string
		for k := range 5 {
			id := fmt.Sprintf("run-%d", k)
			require.NoError(t, s.CreateBillingRun(ctx, NewTestBillingRun(id, base.Add(time.Duration(k)*time.Hour))))
			want = append([]string{id}, want...)
		}
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			runs, next, err := s.ListBillingRuns(ctx, credit.Page{Limit: 2, Cursor: cursor})
			require.NoError(t, err)
			for _, r := range runs {
				got = append(got, r.ID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		assert.Equal(t, want, got)
		_, _, err := s.ListBillingRuns(ctx, credit.Page{Limit: 2, Cursor: "not-a-cursor"})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err))
	})

	t.Run("open invoices of a branch in a due window, in key order, page by page", func(t *testing.T) {
		s := newStore(t)
		var want []string
		put := func(c credit.Party, id string, due credit.Date, status credit.InvoiceStatus) {
			t.Helper()
			inv := NewTestInvoice(c, id, due, 1000)
			inv.Status = status
			if status != credit.InvoiceOpen {
				inv.SettledOn = due.AddDays(3)
			}
			require.NoError(t, s.PutInvoice(ctx, inv))
		}
		for k := range 4 {
			c := NewTestCustomer(fmt.Sprintf("c%d", k), "b1")
			_, err := s.PutParty(ctx, c)
			require.NoError(t, err)
			for d := range 3 {
				id := fmt.Sprintf("inv-%d-%d", k, d)
				put(c, id, credit.NewDate(2026, 9, 1+d), credit.InvoiceOpen)
			}
			put(c, fmt.Sprintf("paid-%d", k), credit.NewDate(2026, 9, 2), credit.InvoicePaid)
			put(c, fmt.Sprintf("cancelled-%d", k), credit.NewDate(2026, 9, 2), credit.InvoiceCancelled)
			put(c, fmt.Sprintf("early-%d", k), credit.NewDate(2026, 8, 31), credit.InvoiceOpen)
			put(c, fmt.Sprintf("late-%d", k), credit.NewDate(2026, 9, 4), credit.InvoiceOpen)
		}
		for d := range 3 {
			for k := range 4 {
				want = append(want, fmt.Sprintf("inv-%d-%d", k, d))
			}
		}
		other := NewTestCustomer("c-other", "b2")
		_, err := s.PutParty(ctx, other)
		require.NoError(t, err)
		put(other, "other-branch", credit.NewDate(2026, 9, 2), credit.InvoiceOpen)
		// Paid after being open: it leaves the walk.
		put(NewTestCustomer("c0", "b1"), "inv-0-1", credit.NewDate(2026, 9, 2), credit.InvoicePaid)
		want = append(want[:4], want[5:]...)

		q := credit.OpenInvoiceQuery{BranchID: "b1", From: credit.NewDate(2026, 9, 1), To: credit.NewDate(2026, 9, 3), Limit: 5}
		var got []string
		for pages := 0; ; pages++ {
			require.Less(t, pages, 10)
			invs, done, err := s.OpenInvoicesDue(ctx, q)
			require.NoError(t, err)
			assert.LessOrEqual(t, len(invs), 5)
			for _, inv := range invs {
				assert.Equal(t, credit.InvoiceOpen, inv.Status)
				assert.Equal(t, int64(1000), int64(inv.AmountCents), "the whole invoice comes back")
				got = append(got, inv.ID)
			}
			if done || len(invs) == 0 {
				break
			}
			last := credit.KeyOf(invs[len(invs)-1])
			q.After = &last
		}
		assert.Equal(t, want, got)

		// A walk resumes after a key whose invoice is gone from the index.
		q.After = &credit.InvoiceKey{DueDate: credit.NewDate(2026, 9, 2), CustomerID: "c0", InvoiceID: "inv-0-1"}
		q.Limit = 100
		invs, done, err := s.OpenInvoicesDue(ctx, q)
		require.NoError(t, err)
		assert.True(t, done)
		var rest []string
		for _, inv := range invs {
			rest = append(rest, inv.ID)
		}
		assert.Equal(t, []string{"inv-1-1", "inv-2-1", "inv-3-1", "inv-0-2", "inv-1-2", "inv-2-2", "inv-3-2"}, rest)
	})

	t.Run("customers by id, many at once, the missing ones left out", func(t *testing.T) {
		s := newStore(t)
		var ids []string
		for k := range 130 {
			c := NewTestCustomer(fmt.Sprintf("cust-%03d", k), "b1")
			c.Name = fmt.Sprintf("Cliente %d", k)
			_, err := s.PutParty(ctx, c)
			require.NoError(t, err)
			ids = append(ids, c.ID)
		}
		lead := NewTestCustomer("lead-1", "b1")
		lead.Kind = credit.PartyLead
		_, err := s.PutParty(ctx, lead)
		require.NoError(t, err)
		got, err := s.GetCustomers(ctx, append(ids, "missing", "lead-1"))
		require.NoError(t, err)
		assert.Len(t, got, 130)
		assert.Equal(t, "Cliente 129", got["cust-129"].Name)
		want, err := s.GetParty(ctx, credit.PartyCustomer, "cust-007")
		require.NoError(t, err)
		assert.Equal(t, want, got["cust-007"])
		none, err := s.GetCustomers(ctx, nil)
		require.NoError(t, err)
		assert.Empty(t, none)
	})
}
