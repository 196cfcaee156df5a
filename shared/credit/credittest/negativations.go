package credittest

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// NegativationStores is what the negativation contract needs of an adapter:
// negativations live next to the integrations they count against and the
// invoices they register.
type NegativationStores interface {
	credit.NegativationStore
	credit.IntegrationStore
	credit.PartyStore
}

// NewTestNegativation returns a submitting record of inv, as the service
// writes it before calling the bureau.
func NewTestNegativation(i credit.Integration, c credit.Party, inv credit.Invoice) credit.Negativation {
	now := time.Now().UTC().Truncate(time.Millisecond)
	by := credit.Actor{Subject: "u-collector", Name: "Cobrança"}
	return credit.Negativation{
		ID: uuid.NewString(), Status: credit.NegativationSubmitting,
		CustomerID: c.ID, InvoiceID: inv.ID, IntegrationID: i.ID, BranchID: c.BranchID,
		Document: c.Document, DebtorName: c.Name, AmountCents: inv.AmountCents, DueDate: inv.DueDate,
		ContractNumber: inv.ContractNumber, DocumentNumber: inv.DocumentNumber,
		RestrictionCode: i.Automation.RestrictionCode, Origin: credit.OriginManual, RequestedBy: by,
		Attempts: 1, CreatedAt: now, UpdatedAt: now, Version: 1,
		History: []credit.NegativationEvent{{Status: credit.NegativationSubmitting, At: now, By: by, Message: "Inclusão enviada ao bureau."}},
	}
}

// negativationFixture is an integration with a customer and n open invoices.
type negativationFixture struct {
	integration credit.Integration
	customer    credit.Party
	invoices    []credit.Invoice
}

func seedNegativable(t *testing.T, s NegativationStores, branch, customerID string, invoices int) negativationFixture {
	t.Helper()
	ctx := context.Background()
	f := negativationFixture{customer: NewTestCustomer(customerID, branch)}
	if i, err := s.GetIntegrationByBranch(ctx, branch); err == nil {
		f.integration = i
	} else {
		f.integration = NewTestIntegration(branch)
		require.NoError(t, s.CreateIntegration(ctx, f.integration))
	}
	_, err := s.PutParty(ctx, f.customer)
	require.NoError(t, err)
	for k := 0; k < invoices; k++ {
		inv := NewTestInvoice(f.customer, fmt.Sprintf("%s-inv-%d", customerID, k), credit.NewDate(2026, 1, 10+k), credit.Cents(9990+k))
		require.NoError(t, s.PutInvoice(ctx, inv))
		f.invoices = append(f.invoices, inv)
	}
	return f
}

func setStatus(st credit.NegativationStatus, unknown bool) func(*credit.Negativation) error {
	return func(n *credit.Negativation) error {
		n.Status, n.OutcomeUnknown = st, unknown
		return nil
	}
}

// NegativationStore is the contract of credit.NegativationStore: one record
// per invoice under races, the live count kept exact for the integration's
// delete guard, and lists without surprises.
func NegativationStore(t *testing.T, newStore func(t *testing.T) NegativationStores) {
	ctx := context.Background()

	t.Run("create, get, get by invoice", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "b1", "c1", 1)
		n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		n.RunID = "run-1"
		n.Origin = credit.OriginAutomatic
		require.NoError(t, s.CreateNegativation(ctx, n))

		got, err := s.GetNegativation(ctx, n.ID)
		require.NoError(t, err)
		assert.Equal(t, n, got)
		got, err = s.GetNegativationByInvoice(ctx, "c1", f.invoices[0].ID)
		require.NoError(t, err)
		assert.Equal(t, n, got)
	})

	t.Run("a party's erasure keeps its negativation records", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "b1", "c1", 1)
		n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		require.NoError(t, s.CreateNegativation(ctx, n))
		n, err := s.UpdateNegativation(ctx, n.ID, setStatus(credit.NegativationRemoved, false))
		require.NoError(t, err)
		require.NoError(t, s.ErasePartyData(ctx, credit.PartyErasure{Kind: credit.PartyCustomer, ID: "c1", ErasedAt: time.Now().UTC().Truncate(time.Millisecond)}))

		got, err := s.GetNegativationByInvoice(ctx, "c1", f.invoices[0].ID)
		require.NoError(t, err, "the debt record has its own legal basis")
		assert.Equal(t, n, got)
		for _, filter := range []credit.NegativationFilter{{CustomerID: "c1"}, {IntegrationID: f.integration.ID}, {}} {
			items, _, err := s.ListNegativations(ctx, filter, credit.Page{})
			require.NoError(t, err)
			assert.Equal(t, []string{n.ID}, negativationIDs(items), "%+v", filter)
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := newStore(t)
		_, err := s.GetNegativation(ctx, "missing")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.GetNegativationByInvoice(ctx, "c", "missing")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.UpdateNegativation(ctx, "missing", func(*credit.Negativation) error { return nil })
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})

	t.Run("a second record for the invoice is already_negativated, naming the first", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "b1", "c1", 1)
		first := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		require.NoError(t, s.CreateNegativation(ctx, first))
		second := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		err := s.CreateNegativation(ctx, second)
		require.Error(t, err)
		assert.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err))
		e, _ := credit.AsError(err)
		assert.Equal(t, first.ID, e.Details["id"])
		_, err = s.GetNegativation(ctx, second.ID)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "the loser left nothing")
	})

	t.Run("a record for a deleted integration is refused and leaves nothing", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "b1", "c1", 1)
		_, err := s.DeleteIntegration(ctx, f.integration.ID)
		require.NoError(t, err)
		n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		err = s.CreateNegativation(ctx, n)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.GetNegativationByInvoice(ctx, "c1", f.invoices[0].ID)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		_, err = s.GetIntegration(ctx, f.integration.ID)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "no integration item was conjured up")
	})

	t.Run("concurrent creates for one invoice: exactly one record", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "race", "c1", 1)
		const n = 16
		var wg sync.WaitGroup
		errs := make([]error, n)
		ids := make([]string, n)
		for k := 0; k < n; k++ {
			wg.Add(1)
			go func(k int) {
				defer wg.Done()
				rec := NewTestNegativation(f.integration, f.customer, f.invoices[0])
				ids[k] = rec.ID
				errs[k] = s.CreateNegativation(ctx, rec)
			}(k)
		}
		wg.Wait()
		winner := ""
		for k, err := range errs {
			if err == nil {
				require.Empty(t, winner, "two winners")
				winner = ids[k]
				continue
			}
			assert.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err), "loser %d: %v", k, err)
		}
		require.NotEmpty(t, winner)
		got, err := s.GetNegativationByInvoice(ctx, "c1", f.invoices[0].ID)
		require.NoError(t, err)
		assert.Equal(t, winner, got.ID)
		for _, id := range ids {
			if id != winner {
				_, err := s.GetNegativation(ctx, id)
				assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
			}
		}
		// The count is exactly one: refused now, allowed once that one record
		// stops being live.
		_, err = s.DeleteIntegration(ctx, f.integration.ID)
		assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err))
		_, err = s.UpdateNegativation(ctx, winner, setStatus(credit.NegativationRejected, false))
		require.NoError(t, err)
		_, err = s.DeleteIntegration(ctx, f.integration.ID)
		assert.NoError(t, err)
	})

	t.Run("update applies fn to the stored record and keeps identity", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "b1", "c1", 1)
		n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		require.NoError(t, s.CreateNegativation(ctx, n))
		at := n.CreatedAt.Add(time.Minute)
		updated, err := s.UpdateNegativation(ctx, n.ID, func(x *credit.Negativation) error {
			assert.Equal(t, n, *x)
			x.Status, x.Protocol, x.UpdatedAt = credit.NegativationPending, "PROT-1", at
			x.BureauMessage = "Recebida"
			x.History = append(x.History, credit.NegativationEvent{Status: credit.NegativationPending, At: at, By: credit.Actor{Subject: "sync"}, RunID: "run-9", Message: "ok"})
			x.LastError = &credit.NegativationError{Code: "c", Message: "m"}
			x.ID, x.CustomerID, x.InvoiceID, x.IntegrationID, x.CreatedAt = "other", "other", "other", "other", at
			x.Version = 99
			return nil
		})
		require.NoError(t, err)
		assert.Equal(t, n.ID, updated.ID)
		assert.Equal(t, n.Version+1, updated.Version)
		got, err := s.GetNegativation(ctx, n.ID)
		require.NoError(t, err)
		assert.Equal(t, updated, got)
		assert.Equal(t, credit.NegativationPending, got.Status)
		assert.Equal(t, "c1", got.CustomerID)
		assert.Equal(t, f.integration.ID, got.IntegrationID)
		assert.Equal(t, n.CreatedAt, got.CreatedAt)
		assert.Len(t, got.History, 2)
		assert.Equal(t, "run-9", got.History[1].RunID)

		same, err := s.UpdateNegativation(ctx, n.ID, func(x *credit.Negativation) error {
			x.Status = credit.NegativationRemoved
			return credit.ErrNoChange
		})
		require.NoError(t, err)
		assert.Equal(t, got, same, "ErrNoChange answers the stored record")
		abort := credit.NewError(credit.KindConflict, "x", "x")
		_, err = s.UpdateNegativation(ctx, n.ID, func(x *credit.Negativation) error {
			x.Status = credit.NegativationRemoved
			return abort
		})
		assert.ErrorIs(t, err, abort)
		got, _ = s.GetNegativation(ctx, n.ID)
		assert.Equal(t, credit.NegativationPending, got.Status)
		assert.Equal(t, updated.Version, got.Version, "nothing written")
	})

	t.Run("the delete guard counts exactly the live records", func(t *testing.T) {
		type step struct {
			status  credit.NegativationStatus
			unknown bool
		}
		tests := []struct {
			name    string
			steps   []step
			refused bool
		}{
			{"submitting", nil, true},
			{"pending", []step{{credit.NegativationPending, false}}, true},
			{"active", []step{{credit.NegativationPending, false}, {credit.NegativationActive, false}}, true},
			{"removing", []step{{credit.NegativationActive, false}, {credit.NegativationRemoving, false}}, true},
			{"removal failed, back to active", []step{{credit.NegativationActive, false}, {credit.NegativationRemoving, false}, {credit.NegativationActive, false}}, true},
			{"removed", []step{{credit.NegativationActive, false}, {credit.NegativationRemoving, false}, {credit.NegativationRemoved, false}}, false},
			{"rejected", []step{{credit.NegativationPending, false}, {credit.NegativationRejected, false}}, false},
			{"failed, outcome unknown", []step{{credit.NegativationFailed, true}}, true},
			{"failed for sure", []step{{credit.NegativationFailed, false}}, false},
			{"unknown, then known not to be there", []step{{credit.NegativationFailed, true}, {credit.NegativationFailed, false}}, false},
			{"failed for sure, then retried", []step{{credit.NegativationFailed, false}, {credit.NegativationSubmitting, false}}, true},
			{"retried up to removal", []step{{credit.NegativationFailed, false}, {credit.NegativationSubmitting, false}, {credit.NegativationPending, false},
				{credit.NegativationRemoving, false}, {credit.NegativationRemoved, false}}, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				f := seedNegativable(t, s, "guard", "c1", 2)
				n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
				require.NoError(t, s.CreateNegativation(ctx, n))
				for _, st := range tt.steps {
					_, err := s.UpdateNegativation(ctx, n.ID, setStatus(st.status, st.unknown))
					require.NoError(t, err)
				}
				_, err := s.DeleteIntegration(ctx, f.integration.ID)
				if tt.refused {
					assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err), "%v", err)
					assert.Equal(t, "Não é possível excluir integrações com negativações ativas.", credit.ErrorMessage(err))
					if e, ok := credit.AsError(err); assert.True(t, ok) {
						assert.EqualValues(t, 1, e.Details["liveNegativations"], "the details give the count")
					}
				} else {
					assert.NoError(t, err)
				}
			})
		}
	})

	t.Run("the account cannot move under live records; other fields can", func(t *testing.T) {
		tests := []struct {
			name   string
			change func(*credit.Integration)
			moves  bool
		}{
			{"environment", func(i *credit.Integration) { i.Environment = credit.EnvironmentProduction }, true},
			{"login", func(i *credit.Integration) { i.Login = "other-login" }, true},
			{"branch", func(i *credit.Integration) { i.BranchID = "elsewhere" }, true},
			{"default plan", func(i *credit.Integration) { i.DefaultPlan = credit.PlanAll }, false},
			{"automation", func(i *credit.Integration) { i.Automation.Enabled = false }, false},
			{"responsible CPF", func(i *credit.Integration) { i.ResponsibleCPF = credit.MustParseDocument("11144477735") }, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := newStore(t)
				f := seedNegativable(t, s, "acct", "c1", 1)
				n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
				require.NoError(t, s.CreateNegativation(ctx, n))
				_, err := s.UpdateIntegration(ctx, f.integration.ID, func(i *credit.Integration) error { tt.change(i); return nil })
				if !tt.moves {
					require.NoError(t, err)
					return
				}
				assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err), "%v", err)
				assert.Contains(t, credit.ErrorMessage(err), "negativações ativas")
				if e, ok := credit.AsError(err); assert.True(t, ok) {
					assert.EqualValues(t, 1, e.Details["liveNegativations"])
				}
				got, err := s.GetIntegration(ctx, f.integration.ID)
				require.NoError(t, err)
				assert.Equal(t, f.integration, got, "nothing written")

				_, err = s.UpdateNegativation(ctx, n.ID, setStatus(credit.NegativationRejected, false))
				require.NoError(t, err)
				_, err = s.UpdateIntegration(ctx, f.integration.ID, func(i *credit.Integration) error { tt.change(i); return nil })
				assert.NoError(t, err, "free once no record is live")
			})
		}
	})

	t.Run("the account move and an inclusion racing: never both", func(t *testing.T) {
		// The inclusion commits while the move is between its read and its
		// write: a move decided on that read alone would strand the record.
		for round := range 5 {
			s := newStore(t)
			f := seedNegativable(t, s, fmt.Sprintf("race%d", round), "c1", 1)
			n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
			created := make(chan error, 1)
			var during bool
			_, err := s.UpdateIntegration(ctx, f.integration.ID, func(i *credit.Integration) error {
				if i.Login == "moved" {
					return nil // a retry after the first read
				}
				go func() { created <- s.CreateNegativation(ctx, n) }()
				select {
				case cerr := <-created:
					require.NoError(t, cerr)
					during = true
				case <-time.After(300 * time.Millisecond):
					// The store holds the integration while fn runs: the
					// inclusion comes after the move.
				}
				i.Login = "moved"
				return nil
			})
			if !during {
				require.NoError(t, err)
				require.NoError(t, <-created)
				continue
			}
			assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err), "round %d: moved under a live record", round)
			got, gerr := s.GetIntegration(ctx, f.integration.ID)
			require.NoError(t, gerr)
			assert.Equal(t, f.integration.Login, got.Login)
		}
	})

	t.Run("two live records: the guard holds until both leave", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "two", "c1", 2)
		a := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		b := NewTestNegativation(f.integration, f.customer, f.invoices[1])
		require.NoError(t, s.CreateNegativation(ctx, a))
		require.NoError(t, s.CreateNegativation(ctx, b))
		_, err := s.UpdateNegativation(ctx, a.ID, setStatus(credit.NegativationRemoved, false))
		require.NoError(t, err)
		_, err = s.DeleteIntegration(ctx, f.integration.ID)
		assert.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err))
		_, err = s.UpdateNegativation(ctx, b.ID, setStatus(credit.NegativationRejected, false))
		require.NoError(t, err)
		_, err = s.DeleteIntegration(ctx, f.integration.ID)
		assert.NoError(t, err)
	})

	t.Run("a record cannot come back to life for a deleted integration", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "gone", "c1", 1)
		n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		require.NoError(t, s.CreateNegativation(ctx, n))
		_, err := s.UpdateNegativation(ctx, n.ID, setStatus(credit.NegativationFailed, false))
		require.NoError(t, err)
		_, err = s.DeleteIntegration(ctx, f.integration.ID)
		require.NoError(t, err)
		_, err = s.UpdateNegativation(ctx, n.ID, setStatus(credit.NegativationSubmitting, false))
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		got, err := s.GetNegativation(ctx, n.ID)
		require.NoError(t, err)
		assert.Equal(t, credit.NegativationFailed, got.Status)
		// Updates that keep it dead still work.
		_, err = s.UpdateNegativation(ctx, n.ID, func(x *credit.Negativation) error { x.BureauMessage = "nota"; return nil })
		assert.NoError(t, err)
	})

	t.Run("concurrent updates: a transition happens once", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "upd-race", "c1", 1)
		n := NewTestNegativation(f.integration, f.customer, f.invoices[0])
		require.NoError(t, s.CreateNegativation(ctx, n))
		_, err := s.UpdateNegativation(ctx, n.ID, setStatus(credit.NegativationActive, false))
		require.NoError(t, err)
		const k = 8
		var wg sync.WaitGroup
		errs := make([]error, k)
		for g := 0; g < k; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				_, errs[g] = s.UpdateNegativation(ctx, n.ID, func(x *credit.Negativation) error {
					if x.Status != credit.NegativationActive {
						return credit.ErrInvalidStatus(*x, "baixar")
					}
					x.Status = credit.NegativationRemoved
					x.History = append(x.History, credit.NegativationEvent{Status: credit.NegativationRemoved, Message: fmt.Sprint(g)})
					return nil
				})
			}(g)
		}
		wg.Wait()
		won := 0
		for _, err := range errs {
			if err == nil {
				won++
			} else {
				assert.Contains(t, []string{credit.CodeInvalidStatus, credit.CodeConcurrentUpdate}, credit.ErrorCode(err))
			}
		}
		assert.Equal(t, 1, won)
		got, _ := s.GetNegativation(ctx, n.ID)
		assert.Len(t, got.History, 2, "one removal entry")
		_, err = s.DeleteIntegration(ctx, f.integration.ID)
		assert.NoError(t, err, "the count went down exactly once")
	})

	t.Run("lists filter by status, integration, customer, origin, run, branches and São Paulo days, newest first", func(t *testing.T) {
		s := newStore(t)
		f1 := seedNegativable(t, s, "lb1", "lc1", 3)
		f2 := seedNegativable(t, s, "lb1", "lc2", 1) // same integration, another customer
		f3 := seedNegativable(t, s, "lb2", "lc3", 2) // another integration
		// 2026-03-10 01:30 UTC is still 2026-03-09 in São Paulo (UTC-3).
		at := func(day int, hour int) time.Time { return time.Date(2026, 3, day, hour, 30, 0, 0, time.UTC) }
		type spec struct {
			f      negativationFixture
			inv    int
			status credit.NegativationStatus
			at     time.Time
			run    string // automatic, created by this billing run
		}
		specs := map[string]spec{
			"a": {f1, 0, credit.NegativationPending, at(9, 12), ""},
			"b": {f1, 1, credit.NegativationActive, at(10, 1), "run-1"}, // the 9th in São Paulo
			"c": {f1, 2, credit.NegativationPending, at(10, 12), "run-1"},
			"d": {f2, 0, credit.NegativationPending, at(11, 12), "run-2"},
			"e": {f3, 0, credit.NegativationPending, at(12, 12), "run-1"},
			"f": {f3, 1, credit.NegativationRemoved, at(13, 12), ""},
		}
		ids := map[string]string{}
		for name, sp := range specs {
			n := NewTestNegativation(sp.f.integration, sp.f.customer, sp.f.invoices[sp.inv])
			n.CreatedAt, n.UpdatedAt = sp.at, sp.at
			if sp.run != "" {
				n.Origin, n.RunID = credit.OriginAutomatic, sp.run
			}
			require.NoError(t, s.CreateNegativation(ctx, n))
			if sp.status != n.Status {
				_, err := s.UpdateNegativation(ctx, n.ID, setStatus(sp.status, false))
				require.NoError(t, err)
			}
			ids[n.ID] = name
		}
		names := func(f credit.NegativationFilter, limit int) []string {
			var out []string
			cursor := ""
			for pages := 0; pages < 20; pages++ {
				items, next, err := s.ListNegativations(ctx, f, credit.Page{Limit: limit, Cursor: cursor})
				require.NoError(t, err)
				for _, n := range items {
					require.True(t, f.Matches(n), "%+v does not match", n)
					out = append(out, ids[n.ID])
				}
				if next == "" {
					return out
				}
				cursor = next
			}
			t.Fatal("too many pages")
			return nil
		}
		day := func(d int) credit.Date { return credit.NewDate(2026, 3, d) }
		tests := []struct {
			name string
			f    credit.NegativationFilter
			want []string
		}{
			{"all", credit.NegativationFilter{}, []string{"f", "e", "d", "c", "b", "a"}},
			{"status", credit.NegativationFilter{Status: credit.NegativationPending}, []string{"e", "d", "c", "a"}},
			{"integration", credit.NegativationFilter{IntegrationID: f1.integration.ID}, []string{"d", "c", "b", "a"}},
			{"integration and status", credit.NegativationFilter{IntegrationID: f3.integration.ID, Status: credit.NegativationPending}, []string{"e"}},
			{"customer", credit.NegativationFilter{CustomerID: "lc1"}, []string{"c", "b", "a"}},
			{"customer and status", credit.NegativationFilter{CustomerID: "lc1", Status: credit.NegativationActive}, []string{"b"}},
			{"customer of another integration", credit.NegativationFilter{CustomerID: "lc1", IntegrationID: f3.integration.ID}, nil},
			{"one São Paulo day", credit.NegativationFilter{From: day(9), To: day(9)}, []string{"b", "a"}},
			{"from", credit.NegativationFilter{From: day(12)}, []string{"f", "e"}},
			{"to", credit.NegativationFilter{To: day(10)}, []string{"c", "b", "a"}},
			{"status and days", credit.NegativationFilter{Status: credit.NegativationPending, From: day(10), To: day(11)}, []string{"d", "c"}},
			{"integration and days", credit.NegativationFilter{IntegrationID: f1.integration.ID, From: day(10), To: day(10)}, []string{"c"}},
			{"customer and days", credit.NegativationFilter{CustomerID: "lc1", To: day(9)}, []string{"b", "a"}},
			{"nothing", credit.NegativationFilter{Status: credit.NegativationRejected}, nil},
			{"one branch", credit.NegativationFilter{Branches: credit.Branches{"lb1"}}, []string{"d", "c", "b", "a"}},
			{"both branches", credit.NegativationFilter{Branches: credit.Branches{"lb2", "lb1"}}, []string{"f", "e", "d", "c", "b", "a"}},
			{"no branch", credit.NegativationFilter{Branches: credit.Branches{}}, nil},
			{"branch and status", credit.NegativationFilter{Branches: credit.Branches{"lb1"}, Status: credit.NegativationPending}, []string{"d", "c", "a"}},
			{"branch and another branch's integration", credit.NegativationFilter{Branches: credit.Branches{"lb1"}, IntegrationID: f3.integration.ID}, nil},
			{"branch and another branch's customer", credit.NegativationFilter{Branches: credit.Branches{"lb2"}, CustomerID: "lc1"}, nil},
			{"branch and days", credit.NegativationFilter{Branches: credit.Branches{"lb2"}, From: day(13)}, []string{"f"}},
			{"automatic", credit.NegativationFilter{Origin: credit.OriginAutomatic}, []string{"e", "d", "c", "b"}},
			{"manual", credit.NegativationFilter{Origin: credit.OriginManual}, []string{"f", "a"}},
			{"status and origin", credit.NegativationFilter{Status: credit.NegativationPending, Origin: credit.OriginAutomatic}, []string{"e", "d", "c"}},
			{"customer and origin", credit.NegativationFilter{CustomerID: "lc1", Origin: credit.OriginManual}, []string{"a"}},
			{"a run's", credit.NegativationFilter{RunID: "run-1"}, []string{"e", "c", "b"}},
			{"a run's in one branch", credit.NegativationFilter{RunID: "run-1", Branches: credit.Branches{"lb1"}}, []string{"c", "b"}},
			{"a run's of one integration", credit.NegativationFilter{RunID: "run-1", IntegrationID: f3.integration.ID}, []string{"e"}},
			{"a run's from a day", credit.NegativationFilter{RunID: "run-1", From: day(10)}, []string{"e", "c"}},
			{"a run's of one customer", credit.NegativationFilter{RunID: "run-2", CustomerID: "lc2"}, []string{"d"}},
			{"a run that negativated nothing", credit.NegativationFilter{RunID: "run-3"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				for _, limit := range []int{1, 3} {
					// A page is full while more follow.
					items, next, err := s.ListNegativations(ctx, tt.f, credit.Page{Limit: limit})
					require.NoError(t, err)
					if next != "" {
						assert.Len(t, items, limit, "page of %d", limit)
					}
				}
				assert.Equal(t, tt.want, names(tt.f, 1), "pages of 1")
				assert.Equal(t, tt.want, names(tt.f, 2), "pages of 2")
				assert.Equal(t, tt.want, names(tt.f, 200), "one page")
			})
		}
		_, _, err := s.ListNegativations(ctx, credit.NegativationFilter{}, credit.Page{Limit: 2, Cursor: "not-a-cursor"})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err))
		_, next, err := s.ListNegativations(ctx, credit.NegativationFilter{Branches: credit.Branches{"lb1"}}, credit.Page{Limit: 1})
		require.NoError(t, err)
		require.NotEmpty(t, next)
		_, _, err = s.ListNegativations(ctx, credit.NegativationFilter{Branches: credit.Branches{"lb2"}}, credit.Page{Limit: 1, Cursor: next})
		assert.Equal(t, credit.CodeInvalidCursor, credit.ErrorCode(err), "a cursor of another branch")
	})

	t.Run("settled: live records whose invoice is paid or cancelled", func(t *testing.T) {
		s := newStore(t)
		f := seedNegativable(t, s, "sb1", "sc1", 6)
		g := seedNegativable(t, s, "sb2", "sc2", 1)
		type spec struct {
			f       negativationFixture
			inv     int
			status  credit.NegativationStatus
			invoice credit.InvoiceStatus
		}
		specs := map[string]spec{
			"paid-active":       {f, 0, credit.NegativationActive, credit.InvoicePaid},
			"cancelled-pending": {f, 1, credit.NegativationPending, credit.InvoiceCancelled},
			"paid-removing":     {f, 2, credit.NegativationRemoving, credit.InvoicePaid},
			"open-active":       {f, 3, credit.NegativationActive, credit.InvoiceOpen},
			"paid-removed":      {f, 4, credit.NegativationRemoved, credit.InvoicePaid},
			"paid-failed":       {f, 5, credit.NegativationFailed, credit.InvoicePaid},
			"other-integration": {g, 0, credit.NegativationActive, credit.InvoicePaid},
		}
		ids := map[string]string{}
		for name, sp := range specs {
			inv := sp.f.invoices[sp.inv]
			n := NewTestNegativation(sp.f.integration, sp.f.customer, inv)
			require.NoError(t, s.CreateNegativation(ctx, n))
			_, err := s.UpdateNegativation(ctx, n.ID, setStatus(sp.status, true))
			require.NoError(t, err)
			if sp.invoice != credit.InvoiceOpen {
				inv.Status, inv.SettledOn = sp.invoice, credit.NewDate(2026, 2, 2)
				require.NoError(t, s.PutInvoice(ctx, inv))
			}
			ids[n.ID] = name
		}
		list := func(integrationID string, branches ...string) []string {
			var scope credit.Branches
			if branches != nil {
				scope = credit.Branches(branches)
			}
			got, err := s.ListSettledNegativations(ctx, integrationID, scope)
			require.NoError(t, err)
			var out []string
			for _, sn := range got {
				out = append(out, ids[sn.Negativation.ID])
				assert.Equal(t, sn.Negativation.InvoiceID, sn.Invoice.ID)
				assert.Equal(t, credit.NewDate(2026, 2, 2), sn.Invoice.SettledOn)
			}
			sort.Strings(out)
			return out
		}
		assert.Equal(t, []string{"cancelled-pending", "other-integration", "paid-active", "paid-removing"}, list(""))
		assert.Equal(t, []string{"cancelled-pending", "paid-active", "paid-removing"}, list(f.integration.ID))
		assert.Equal(t, []string{"other-integration"}, list(g.integration.ID))
		assert.Equal(t, []string{"other-integration"}, list("", g.integration.BranchID), "one branch")
		assert.Equal(t, []string{"cancelled-pending", "paid-active", "paid-removing"}, list("", f.integration.BranchID, "nowhere"), "the other branch")
		assert.Empty(t, list(g.integration.ID, f.integration.BranchID), "an integration of another branch")
		assert.Empty(t, list("no-such-integration"))
	})
}

// FakeBureau is a hand-written PEFIN registry for tests of the
// negativation flow: inclusions idempotent by reference, as the port
// requires, counted, with faults and hooks a test can inject.
type FakeBureau struct {
	mu      sync.Mutex
	records map[string]credit.BureauRecord
	// Includes, Removes and StatusCalls count the calls; Registered counts
	// the debts actually registered (distinct references).
	Includes, Removes, StatusCalls, Registered int
	// LastInclusion and LastRemoval are the last requests received.
	LastInclusion credit.NegativationRequest
	LastRemoval   credit.RemovalRequest
	// IncludeFault, when set, may fail an inclusion: applied says whether
	// the bureau registered it before failing (a lost answer).
	IncludeFault func(r credit.NegativationRequest) (applied bool, err error)
	// RemoveFault is IncludeFault for removals.
	RemoveFault func(r credit.RemovalRequest) (applied bool, err error)
	// StatusFault, when set, fails status calls.
	StatusFault func(refs []string) error
	// InitialStatus is what a new inclusion answers (pending when empty).
	InitialStatus credit.BureauRecordStatus
	// Gate, when set, makes every Include wait for it to close, so a test
	// can line up concurrent callers.
	Gate chan struct{}
	// BeforeInclude and BeforeRemove, when set, run first on every call,
	// outside the fake's lock, so that they may block to order a test's
	// steps; an error fails the call before it takes effect.
	BeforeInclude func(r credit.NegativationRequest) error
	BeforeRemove  func(r credit.RemovalRequest) error
	// Scenarios makes the fake behave as the BureauNegativations contract
	// asks of any bureau: the scenario documents' faults, restriction codes
	// of two digits, references checked, and records processed (pending to
	// active, or rejected) at their first status read. Off, records keep the
	// status a test sets.
	Scenarios bool

	rejectOnProcessing map[string]bool
}

var _ credit.PEFINRegistry = (*FakeBureau)(nil)

// NewFakeBureau returns a faultless fake.
func NewFakeBureau() *FakeBureau {
	return &FakeBureau{records: map[string]credit.BureauRecord{}, rejectOnProcessing: map[string]bool{}}
}

// scenarioFault is what a scenario document does to an inclusion: refuse
// it, fail before registering, or register and lose the answer.
func (f *FakeBureau) scenarioFault(r credit.NegativationRequest) (applied bool, err error) {
	switch r.Debtor.Document {
	case BureauInclusionRefused:
		return false, credit.BureauRejected("Inclusão recusada pelo bureau.")
	case BureauServerError:
		return false, credit.BureauUnavailable(nil)
	case BureauTimeout:
		return true, credit.BureauTimeout(nil)
	case BureauMalformed:
		return true, credit.BureauMalformedAnswer(nil)
	}
	if c := r.Debt.RestrictionCode; len(c) != 2 || c[0] < '0' || c[0] > '9' || c[1] < '0' || c[1] > '9' {
		return false, credit.BureauRejected("Código de restrição desconhecido.")
	}
	return false, nil
}

func (f *FakeBureau) Include(ctx context.Context, _ credit.BureauAccount, r credit.NegativationRequest) (credit.BureauRecord, error) {
	if f.Gate != nil {
		<-f.Gate
	}
	if f.BeforeInclude != nil {
		if err := f.BeforeInclude(r); err != nil {
			return credit.BureauRecord{}, err
		}
	}
	if err := r.Validate(); err != nil {
		return credit.BureauRecord{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Includes++
	f.LastInclusion = r
	register := func() credit.BureauRecord {
		if rec, ok := f.records[r.Reference]; ok {
			return rec
		}
		st := f.InitialStatus
		if st == "" {
			st = credit.BureauRecordPending
		}
		f.Registered++
		rec := credit.BureauRecord{Reference: r.Reference, Protocol: fmt.Sprintf("PROT-%d", f.Registered), Status: st, UpdatedAt: time.Now().UTC()}
		f.records[r.Reference] = rec
		return rec
	}
	if f.Scenarios {
		if rec, ok := f.records[r.Reference]; ok {
			return rec, nil // a repeated inclusion finds the registration, lost answer or not
		}
		if r.Debtor.Document == BureauStatusRejected {
			f.rejectOnProcessing[r.Reference] = true
		}
		if applied, err := f.scenarioFault(r); err != nil {
			if applied {
				register()
			}
			return credit.BureauRecord{}, err
		}
	}
	if f.IncludeFault != nil {
		if applied, err := f.IncludeFault(r); err != nil {
			if applied {
				register()
			}
			return credit.BureauRecord{}, err
		}
	}
	return register(), nil
}

func (f *FakeBureau) Remove(ctx context.Context, _ credit.BureauAccount, r credit.RemovalRequest) error {
	if f.BeforeRemove != nil {
		if err := f.BeforeRemove(r); err != nil {
			return err
		}
	}
	if err := r.Validate(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.Removes++
	f.LastRemoval = r
	rec, ok := f.records[r.Reference]
	if !ok {
		return credit.BureauRecordNotFound(r.Reference)
	}
	if rec.Status == credit.BureauRecordRejected {
		return credit.BureauRejected("registro rejeitado não pode ser baixado")
	}
	apply := func() {
		rec.Status = credit.BureauRecordRemoved
		f.records[r.Reference] = rec
	}
	if f.RemoveFault != nil {
		if applied, err := f.RemoveFault(r); err != nil {
			if applied {
				apply()
			}
			return err
		}
	}
	apply()
	return nil
}

func (f *FakeBureau) Status(ctx context.Context, _ credit.BureauAccount, refs []string) ([]credit.BureauRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.StatusCalls++
	if f.StatusFault != nil {
		if err := f.StatusFault(refs); err != nil {
			return nil, err
		}
	}
	var out []credit.BureauRecord
	for _, ref := range refs {
		if f.Scenarios && !credit.ValidBureauReference(ref) {
			return nil, credit.NewError(credit.KindInvalid, credit.CodeValidation, "Referência inválida.")
		}
		rec, ok := f.records[ref]
		if !ok {
			continue
		}
		if f.Scenarios && rec.Status == credit.BureauRecordPending {
			rec.Status, rec.UpdatedAt = credit.BureauRecordActive, time.Now().UTC()
			if f.rejectOnProcessing[ref] {
				rec.Status, rec.Message = credit.BureauRecordRejected, "Registro rejeitado no processamento."
			}
			f.records[ref] = rec
		}
		out = append(out, rec)
	}
	return out, nil
}

// RestrictionCodes lists two codes of two digits, as the scenarios expect.
func (f *FakeBureau) RestrictionCodes(context.Context, credit.BureauAccount) ([]credit.BureauCode, error) {
	return []credit.BureauCode{{Code: "01", Description: "Dívida de serviço"}, {Code: "02", Description: "Dívida de produto"}}, nil
}

// RemovalCodes lists two removal reasons.
func (f *FakeBureau) RemovalCodes(context.Context, credit.BureauAccount) ([]credit.BureauCode, error) {
	return []credit.BureauCode{{Code: "01", Description: "Pagamento da dívida"}, {Code: "02", Description: "Acordo"}}, nil
}

// SetStatus moves a registered record, as the bureau's processing does.
func (f *FakeBureau) SetStatus(reference string, st credit.BureauRecordStatus, message string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec := f.records[reference]
	rec.Reference, rec.Status, rec.Message = reference, st, message
	f.records[reference] = rec
}

// Record returns what the bureau holds for reference.
func (f *FakeBureau) Record(reference string) (credit.BureauRecord, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	rec, ok := f.records[reference]
	return rec, ok
}

// Counts returns Includes, Registered, Removes and StatusCalls under the
// lock.
func (f *FakeBureau) Counts() (includes, registered, removes, statusCalls int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Includes, f.Registered, f.Removes, f.StatusCalls
}

func negativationIDs(ns []credit.Negativation) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, n.ID)
	}
	return out
}
