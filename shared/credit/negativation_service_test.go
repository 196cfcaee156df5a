package credit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// negEnv is a negativation service over the in-memory stores and the fake
// bureau, on a clock the test moves: 2026-11-26 09:00 in São Paulo.
type negEnv struct {
	svc         *credit.NegativationService
	store       *memory.Store
	bureau      *credittest.FakeBureau
	secrets     *memory.Secrets
	access      *credit.BureauAccess
	integration credit.Integration
	clock       *atomic.Pointer[time.Time]
	logs        *bytes.Buffer
	ctx         context.Context
}

var negNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var collector = credit.Actor{Subject: "u-collector", Name: "Carla Cobrança", Roles: []credit.Role{credit.RoleCollector}}

func newNegEnv(t *testing.T) *negEnv {
	t.Helper()
	e := &negEnv{store: memory.New(), bureau: credittest.NewFakeBureau(), clock: &atomic.Pointer[time.Time]{}, logs: &bytes.Buffer{}}
	e.clock.Store(&negNow)
	now := func() time.Time { return *e.clock.Load() }
	ctx := context.Background()
	require.NoError(t, e.store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	n := 0
	var mu sync.Mutex
	newID := func() string { mu.Lock(); defer mu.Unlock(); n++; return fmt.Sprintf("id-%d", n) }
	e.secrets = memory.NewSecrets()
	e.access = &credit.BureauAccess{Secrets: e.secrets, Registry: e.bureau, Log: slog.New(slog.NewJSONHandler(e.logs, nil))}
	integrations := &credit.IntegrationService{Store: e.store, Secrets: e.secrets, Bureau: e.access, Now: now, NewID: newID,
		Log: slog.New(slog.NewJSONHandler(e.logs, nil))}
	i, err := integrations.Create(ctx, validNewIntegration("b1"))
	require.NoError(t, err)
	e.integration = i
	e.svc = &credit.NegativationService{Store: e.store, Parties: e.store, Parameters: e.store, Integrations: e.store,
		Bureau: e.access, Now: now, NewID: newID, Log: slog.New(slog.NewJSONHandler(e.logs, nil))}
	e.ctx = credit.WithActor(ctx, collector)
	e.putCustomer(t, credittest.NewTestCustomer("c1", "b1"))
	e.putInvoice(t, "inv-1", func(inv *credit.Invoice) {})
	return e
}

func (e *negEnv) putCustomer(t *testing.T, c credit.Party) {
	t.Helper()
	_, err := e.store.PutParty(context.Background(), c)
	require.NoError(t, err)
}

// putInvoice stores an open invoice of c1 due 2026-10-01, R$ 99,90, as
// modified.
func (e *negEnv) putInvoice(t *testing.T, id string, modify func(*credit.Invoice)) credit.Invoice {
	t.Helper()
	c, err := e.store.GetParty(context.Background(), credit.PartyCustomer, "c1")
	require.NoError(t, err)
	inv := credittest.NewTestInvoice(c, id, credit.NewDate(2026, 10, 1), 9990)
	modify(&inv)
	require.NoError(t, e.store.PutInvoice(context.Background(), inv))
	return inv
}

func (e *negEnv) advance(d time.Duration) {
	t := e.clock.Load().Add(d)
	e.clock.Store(&t)
}

// guard tells whether the integration's delete guard holds right now,
// without deleting it.
func (e *negEnv) live(t *testing.T) bool {
	t.Helper()
	_, err := e.store.DeleteIntegration(context.Background(), e.integration.ID)
	if err == nil {
		require.NoError(t, e.store.CreateIntegration(context.Background(), e.integration))
		return false
	}
	require.Equal(t, credit.CodeIntegrationHasActiveNegativation, credit.ErrorCode(err), "%v", err)
	return true
}

// lineUp makes the first n readers of a negativation wait for each other,
// so that n concurrent requests all pass their early checks before any of
// them writes: the race is then decided by the writes alone.
type lineUp struct {
	*memory.Store
	mu      sync.Mutex
	n       int
	arrived int
	all     chan struct{}
}

func newLineUp(s *memory.Store, n int) *lineUp {
	return &lineUp{Store: s, n: n, all: make(chan struct{})}
}

func (l *lineUp) arrive() {
	l.mu.Lock()
	l.arrived++
	switch {
	case l.arrived == l.n:
		close(l.all)
	case l.arrived > l.n:
		l.mu.Unlock()
		return
	}
	l.mu.Unlock()
	<-l.all
}

func (l *lineUp) GetNegativationByInvoice(ctx context.Context, customerID, invoiceID string) (credit.Negativation, error) {
	n, err := l.Store.GetNegativationByInvoice(ctx, customerID, invoiceID)
	l.arrive()
	return n, err
}

func (l *lineUp) GetNegativation(ctx context.Context, id string) (credit.Negativation, error) {
	n, err := l.Store.GetNegativation(ctx, id)
	l.arrive()
	return n, err
}

func (e *negEnv) include(invoiceID string) (credit.Negativation, error) {
	return e.svc.Include(e.ctx, credit.IncludeRequest{CustomerID: "c1", InvoiceID: invoiceID})
}

func details(t *testing.T, err error) map[string]any {
	t.Helper()
	ce, ok := credit.AsError(err)
	require.True(t, ok, "%v", err)
	return ce.Details
}

func TestIncludeRules(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t *testing.T, e *negEnv)
		req      credit.IncludeRequest
		code     string
		kind     credit.Kind
		contains string
	}{
		{name: "master switch off", setup: func(t *testing.T, e *negEnv) {
			require.NoError(t, e.store.PutParameters(context.Background(), credit.Parameters{}))
		}, code: credit.CodeCreditAnalysisDisabled, kind: credit.KindForbidden},
		{name: "unknown customer", req: credit.IncludeRequest{CustomerID: "c404", InvoiceID: "inv-1"}, code: credit.CodeNotFound, kind: credit.KindNotFound, contains: "Cliente"},
		{name: "unknown invoice", req: credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-404"}, code: credit.CodeNotFound, kind: credit.KindNotFound, contains: "Fatura"},
		{name: "branch without integration", setup: func(t *testing.T, e *negEnv) {
			c := credittest.NewTestCustomer("c1", "b9")
			e.putCustomer(t, c)
		}, code: credit.CodeBranchWithoutIntegration, kind: credit.KindUnprocessable, contains: "b9"},
		{name: "invoice paid", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.Status = credit.InvoicePaid })
		}, code: credit.CodeInvoiceNotOpen, kind: credit.KindUnprocessable},
		{name: "invoice cancelled", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.Status = credit.InvoiceCancelled })
		}, code: credit.CodeInvoiceNotOpen, kind: credit.KindUnprocessable},
		{name: "invoice of zero", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.AmountCents = 0 })
		}, code: credit.CodeInvoiceWithoutAmount, kind: credit.KindUnprocessable},
		{name: "due today is not overdue", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.DueDate = credit.NewDate(2026, 11, 26) })
		}, code: credit.CodeInvoiceNotOverdue, kind: credit.KindUnprocessable},
		{name: "due tomorrow", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.DueDate = credit.NewDate(2026, 11, 27) })
		}, code: credit.CodeInvoiceNotOverdue, kind: credit.KindUnprocessable},
		{name: "due yesterday", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.DueDate = credit.NewDate(2026, 11, 25) })
		}},
		{name: "due exactly five years ago", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.DueDate = credit.NewDate(2021, 11, 26) })
		}},
		{name: "due five years and a day ago", setup: func(t *testing.T, e *negEnv) {
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.DueDate = credit.NewDate(2021, 11, 25) })
		}, code: credit.CodeDebtTooOld, kind: credit.KindUnprocessable},
		{name: "CPF debtor turning 18 tomorrow", setup: func(t *testing.T, e *negEnv) {
			c := credittest.NewTestCustomer("c1", "b1")
			c.BirthDate = credit.NewDate(2008, 11, 27)
			e.putCustomer(t, c)
		}, code: credit.CodeDebtorUnderage, kind: credit.KindUnprocessable},
		{name: "CPF debtor turning 18 today", setup: func(t *testing.T, e *negEnv) {
			c := credittest.NewTestCustomer("c1", "b1")
			c.BirthDate = credit.NewDate(2008, 11, 26)
			e.putCustomer(t, c)
		}},
		{name: "a young company is fine", setup: func(t *testing.T, e *negEnv) {
			c := credittest.NewTestCustomer("c1", "b1")
			c.Document, c.BirthDate = credit.MustParseDocument("11.222.333/0001-81"), credit.NewDate(2025, 1, 1)
			e.putCustomer(t, c)
		}},
		{name: "no restriction code anywhere", setup: func(t *testing.T, e *negEnv) {
			_, err := e.store.UpdateIntegration(context.Background(), e.integration.ID, func(i *credit.Integration) error {
				i.Automation = credit.Automation{}
				return nil
			})
			require.NoError(t, err)
		}, code: credit.CodeRestrictionCodeRequired, kind: credit.KindUnprocessable},
		{name: "bad ids", req: credit.IncludeRequest{CustomerID: "a/b", InvoiceID: ""}, code: credit.CodeValidation, kind: credit.KindInvalid},
		{name: "automatic without a run", req: credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1", Origin: credit.OriginAutomatic},
			code: credit.CodeValidation, kind: credit.KindInvalid},
		{name: "a run for a manual one", req: credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1", RunID: "run-1"},
			code: credit.CodeValidation, kind: credit.KindInvalid},
		{name: "unknown origin", req: credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1", Origin: "robot"},
			code: credit.CodeValidation, kind: credit.KindInvalid},
		{name: "automatic while automation is off", setup: func(t *testing.T, e *negEnv) {
			_, err := e.store.UpdateIntegration(context.Background(), e.integration.ID, func(i *credit.Integration) error {
				i.Automation.Enabled = false
				return nil
			})
			require.NoError(t, err)
		}, req: credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1", Origin: credit.OriginAutomatic, RunID: "run-1"},
			code: credit.CodeAutomationDisabled, kind: credit.KindUnprocessable},
		{name: "customer data the bureau cannot take", setup: func(t *testing.T, e *negEnv) {
			c := credittest.NewTestCustomer("c1", "b1")
			c.Address.CEP = "0131010" // stored by an older client without validation
			e.putCustomer(t, c)
		}, code: credit.CodeNegativationDataRejected, kind: credit.KindUnprocessable, contains: "debtor.address.cep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNegEnv(t)
			if tt.setup != nil {
				tt.setup(t, e)
			}
			req := tt.req
			if req.CustomerID == "" && req.InvoiceID == "" {
				req = credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1"}
			}
			n, err := e.svc.Include(e.ctx, req)
			includes, _, _, _ := e.bureau.Counts()
			if tt.code == "" {
				require.NoError(t, err)
				assert.Equal(t, credit.NegativationPending, n.Status)
				assert.Equal(t, 1, includes)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.code, credit.ErrorCode(err), "%v", err)
			assert.Equal(t, tt.kind, credit.ErrorKind(err))
			assert.Contains(t, credit.ErrorMessage(err)+fmt.Sprint(details(t, err)), tt.contains)
			assert.Zero(t, includes, "nothing reaches the bureau")
			_, err = e.store.GetNegativationByInvoice(context.Background(), "c1", "inv-1")
			assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "nothing is written")
		})
	}
}

func TestIncludeNamesEveryMissingField(t *testing.T) {
	e := newNegEnv(t)
	c := credittest.NewTestCustomer("c1", "b1")
	c.Gender, c.BirthDate, c.Address.Complement, c.Address.Number = "", credit.Date{}, "", " "
	e.putCustomer(t, c)
	_, err := e.include("inv-1")
	require.Error(t, err)
	assert.Equal(t, credit.CodeMissingCustomerFields, credit.ErrorCode(err))
	assert.Equal(t, credit.KindUnprocessable, credit.ErrorKind(err))
	assert.Equal(t, []string{"gender", "birthDate", "address.complement", "address.number"}, details(t, err)["fields"])
	assert.Equal(t, "Para negativar, preencha no cadastro do cliente: Gênero, Data de nascimento, Complemento, Número.", credit.ErrorMessage(err))
}

func TestIncludeSendsAndRecords(t *testing.T) {
	e := newNegEnv(t)
	n, err := e.svc.Include(e.ctx, credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1", RestrictionCode: " PEF77 "})
	require.NoError(t, err)

	sent := e.bureau.LastInclusion
	assert.Equal(t, n.ID, sent.Reference, "our id is the idempotency key")
	assert.True(t, sent.SendSMS)
	assert.Equal(t, "52998224725", sent.ResponsibleCPF.Number())
	assert.Equal(t, "52998224725", sent.Debtor.Document.Number())
	assert.Equal(t, "Maria da Silva", sent.Debtor.Name)
	assert.Equal(t, "female", sent.Debtor.Gender)
	assert.Equal(t, "11987654321", sent.Debtor.Phone)
	assert.Equal(t, credit.DebtorAddress{Street: "Avenida Paulista", Number: "1000", Complement: "Apto 12", Neighborhood: "Bela Vista",
		City: "São Paulo", UF: "SP", CEP: "01310100"}, sent.Debtor.Address)
	assert.Equal(t, credit.Debt{RestrictionCode: "PEF77", Contract: "CT-c1", DocumentNumber: "DOC-inv-1",
		DueDate: time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), Amount: 9990}, sent.Debt)

	assert.Equal(t, credit.NegativationPending, n.Status)
	assert.Equal(t, "c1", n.CustomerID)
	assert.Equal(t, "inv-1", n.InvoiceID)
	assert.Equal(t, e.integration.ID, n.IntegrationID)
	assert.Equal(t, "b1", n.BranchID)
	assert.Equal(t, credit.Cents(9990), n.AmountCents)
	assert.Equal(t, "2026-10-01", n.DueDate.String())
	assert.Equal(t, "PEF77", n.RestrictionCode)
	assert.Equal(t, credit.OriginManual, n.Origin)
	assert.Equal(t, "u-collector", n.RequestedBy.Subject)
	assert.Equal(t, "Carla Cobrança", n.RequestedBy.Name)
	assert.Equal(t, "PROT-1", n.Protocol)
	assert.Equal(t, negNow, n.CreatedAt)
	assert.Equal(t, 1, n.Attempts)
	require.Len(t, n.History, 2)
	assert.Equal(t, credit.NegativationSubmitting, n.History[0].Status)
	assert.Equal(t, credit.NegativationPending, n.History[1].Status)
	assert.Equal(t, "u-collector", n.History[1].By.Subject)
	assert.Nil(t, n.LastError)

	stored, err := e.svc.Get(e.ctx, n.ID)
	require.NoError(t, err)
	assert.Equal(t, n, stored)
	assert.True(t, e.live(t), "a pending record guards its integration")
}

func TestIncludeUsesTheIntegrationCodeByDefault(t *testing.T) {
	e := newNegEnv(t)
	n, err := e.include("inv-1")
	require.NoError(t, err)
	assert.Equal(t, "PEF01", n.RestrictionCode)
	assert.Equal(t, "PEF01", e.bureau.LastInclusion.Debt.RestrictionCode)
}

func TestIncludeAutomatic(t *testing.T) {
	e := newNegEnv(t)
	run := credit.WithActor(context.Background(), credit.Actor{Subject: "billing-rule", Name: "Régua de cobrança"})
	n, err := e.svc.Include(run, credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1", Origin: credit.OriginAutomatic, RunID: "run-42"})
	require.NoError(t, err)
	assert.Equal(t, credit.OriginAutomatic, n.Origin)
	assert.Equal(t, "run-42", n.RunID)
	assert.Equal(t, "billing-rule", n.RequestedBy.Subject)
	for _, h := range n.History {
		assert.Equal(t, "run-42", h.RunID)
	}
	// Idempotent per invoice: the next run finds it.
	_, err = e.svc.Include(run, credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1", Origin: credit.OriginAutomatic, RunID: "run-43"})
	assert.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err))
	includes, registered, _, _ := e.bureau.Counts()
	assert.Equal(t, 1, includes)
	assert.Equal(t, 1, registered)
}

func TestIncludeTwiceIsAlreadyNegativated(t *testing.T) {
	for _, st := range []credit.NegativationStatus{credit.NegativationPending, credit.NegativationActive, credit.NegativationRejected, credit.NegativationRemoved} {
		t.Run(string(st), func(t *testing.T) {
			e := newNegEnv(t)
			var first credit.Negativation
			if st == credit.NegativationRemoved {
				first = includeThrough(t, e, credit.BureauRecordActive)
				_, err := e.svc.Remove(e.ctx, first.ID, credit.RemoveRequest{})
				require.NoError(t, err)
			} else {
				first = includeThrough(t, e, credit.BureauRecordStatus(st))
			}
			_, err := e.include("inv-1")
			require.Error(t, err)
			assert.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err))
			assert.Equal(t, credit.KindConflict, credit.ErrorKind(err))
			assert.Equal(t, first.ID, details(t, err)["id"])
			assert.Equal(t, string(st), details(t, err)["status"])
			includes, _, _, _ := e.bureau.Counts()
			assert.Equal(t, 1, includes)
		})
	}
}

func TestIncludeRace(t *testing.T) {
	e := newNegEnv(t)
	e.bureau.Gate = make(chan struct{})
	const n = 16
	e.svc.Store = newLineUp(e.store, n)
	var wg sync.WaitGroup
	results := make([]credit.Negativation, n)
	errs := make([]error, n)
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func(k int) {
			defer wg.Done()
			results[k], errs[k] = e.include("inv-1")
		}(k)
	}
	// The winner waits at the bureau while the losers find its record.
	close(e.bureau.Gate)
	wg.Wait()
	winner := ""
	for k, err := range errs {
		if err == nil {
			require.Empty(t, winner, "two winners")
			winner = results[k].ID
			continue
		}
		assert.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err), "%v", err)
	}
	require.NotEmpty(t, winner)
	for _, err := range errs {
		if err != nil {
			assert.Equal(t, winner, details(t, err)["id"])
		}
	}
	includes, registered, _, _ := e.bureau.Counts()
	assert.Equal(t, 1, includes, "exactly one inclusion reached the bureau")
	assert.Equal(t, 1, registered)
	list, _, err := e.svc.List(e.ctx, credit.NegativationFilter{CustomerID: "c1"}, credit.Page{})
	require.NoError(t, err)
	assert.Len(t, list, 1)
}

func TestIncludeBureauFaults(t *testing.T) {
	unavailable := credit.BureauUnavailable(errors.New("503"))
	tests := []struct {
		name    string
		applied bool
		err     error
		kind    credit.Kind
		unknown bool
	}{
		{"bureau down, nothing registered", false, unavailable, credit.KindBadGateway, true},
		{"timeout after the bureau registered it", true, credit.BureauTimeout(errors.New("deadline")), credit.KindBadGateway, true},
		{"garbled answer after registering", true, credit.BureauMalformedAnswer(errors.New("truncated")), credit.KindBadGateway, true},
		{"caller gone mid-call", false, context.Canceled, credit.KindInternal, true},
		{"refused by the bureau", false, credit.BureauRejected("Devedor com impedimento judicial de inclusão."), credit.KindUnprocessable, false},
		{"PEFIN password refused", false, credit.BureauBadCredentials(credit.CredentialPEFIN), credit.KindUnprocessable, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNegEnv(t)
			failures := 1
			e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) {
				if failures > 0 {
					failures--
					return tt.applied, tt.err
				}
				return false, nil
			}
			n, err := e.include("inv-1")
			require.Error(t, err)
			assert.Equal(t, tt.kind, credit.ErrorKind(err))
			assert.Equal(t, credit.NegativationFailed, n.Status, "a definite state")
			assert.Equal(t, tt.unknown, n.OutcomeUnknown)
			require.NotNil(t, n.LastError)
			assert.Equal(t, credit.ErrorCode(tt.err), n.LastError.Code)
			if tt.kind != credit.KindInternal {
				assert.Equal(t, n.ID, details(t, err)["negativationId"], "the answer names the record")
				assert.Equal(t, "failed", details(t, err)["negativationStatus"])
			}
			assert.Equal(t, credit.NegativationFailed, n.History[len(n.History)-1].Status)
			assert.Equal(t, tt.unknown, e.live(t), "an unknown outcome keeps guarding the integration")
			assert.NotContains(t, e.logs.String(), "52998224725", "no full CPF in the logs")

			// The same POST retries the same record with the same reference.
			again, err := e.include("inv-1")
			require.NoError(t, err)
			assert.Equal(t, n.ID, again.ID)
			assert.Equal(t, credit.NegativationPending, again.Status)
			assert.Equal(t, 2, again.Attempts)
			assert.Nil(t, again.LastError)
			_, registered, _, _ := e.bureau.Counts()
			assert.Equal(t, 1, registered, "never registered twice")
			assert.True(t, e.live(t))
		})
	}
}

func TestIncludeAnswersTheBureauStatus(t *testing.T) {
	for _, st := range []credit.BureauRecordStatus{credit.BureauRecordActive, credit.BureauRecordRejected} {
		t.Run(string(st), func(t *testing.T) {
			e := newNegEnv(t)
			e.bureau.InitialStatus = st
			n, err := e.include("inv-1")
			require.NoError(t, err)
			assert.Equal(t, string(st), string(n.Status))
			assert.Equal(t, st == credit.BureauRecordActive, e.live(t))
		})
	}
}

func TestIncludeRetryRace(t *testing.T) {
	e := newNegEnv(t)
	e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) {
		e.bureau.IncludeFault = nil // under the fake's lock: only the first call fails
		return false, credit.BureauUnavailable(errors.New("503"))
	}
	failed, err := e.include("inv-1")
	require.Error(t, err)
	const n = 12
	e.svc.Store = newLineUp(e.store, n)
	var wg sync.WaitGroup
	errs := make([]error, n)
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func(k int) { defer wg.Done(); _, errs[k] = e.include("inv-1") }(k)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err))
		}
	}
	assert.Equal(t, 1, ok)
	includes, registered, _, _ := e.bureau.Counts()
	assert.Equal(t, 2, includes, "the failed attempt and exactly one retry")
	assert.Equal(t, 1, registered)
	got, _ := e.svc.Get(e.ctx, failed.ID)
	assert.Equal(t, credit.NegativationPending, got.Status)
}

func TestIncludeRetryRechecksTheRules(t *testing.T) {
	e := newNegEnv(t)
	e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) { return false, credit.BureauRejected("CEP inexistente") }
	_, err := e.include("inv-1")
	require.Error(t, err)
	e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 26) })
	_, err = e.include("inv-1")
	assert.Equal(t, credit.CodeInvoiceNotOpen, credit.ErrorCode(err), "a paid invoice is not sent again")
	includes, _, _, _ := e.bureau.Counts()
	assert.Equal(t, 1, includes)
}

func TestIncludeAfterACrash(t *testing.T) {
	tests := []struct {
		name         string
		age          time.Duration
		bureauHasIt  bool
		wantConflict bool
	}{
		{"call may still be in flight", time.Minute, false, true},
		{"abandoned, never reached the bureau", 3 * time.Minute, false, false},
		{"abandoned after the bureau registered it", 3 * time.Minute, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNegEnv(t)
			c, _ := e.store.GetParty(context.Background(), credit.PartyCustomer, "c1")
			inv, _ := e.store.GetInvoice(context.Background(), "c1", "inv-1")
			stuck := credittest.NewTestNegativation(e.integration, c, inv)
			stuck.CreatedAt, stuck.UpdatedAt = negNow.Add(-tt.age), negNow.Add(-tt.age)
			require.NoError(t, e.store.CreateNegativation(context.Background(), stuck))
			if tt.bureauHasIt {
				e.bureau.SetStatus(stuck.ID, credit.BureauRecordActive, "")
			}
			n, err := e.include("inv-1")
			if tt.wantConflict {
				assert.Equal(t, credit.CodeAlreadyNegativated, credit.ErrorCode(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, stuck.ID, n.ID)
			want := credit.NegativationPending
			if tt.bureauHasIt {
				want = credit.NegativationActive
			}
			assert.Equal(t, want, n.Status)
		})
	}
}

// includeThrough registers inv-1 and moves it to st at the bureau and here.
func includeThrough(t *testing.T, e *negEnv, st credit.BureauRecordStatus) credit.Negativation {
	t.Helper()
	n, err := e.include("inv-1")
	require.NoError(t, err)
	if st != credit.BureauRecordPending {
		e.bureau.SetStatus(n.ID, st, "")
		_, err = e.svc.Sync(e.ctx, credit.SyncRequest{})
		require.NoError(t, err)
	}
	n, err = e.svc.Get(e.ctx, n.ID)
	require.NoError(t, err)
	require.Equal(t, string(st), string(n.Status))
	return n
}

func TestRemove(t *testing.T) {
	for _, st := range []credit.BureauRecordStatus{credit.BureauRecordPending, credit.BureauRecordActive} {
		t.Run(string(st), func(t *testing.T) {
			e := newNegEnv(t)
			n := includeThrough(t, e, st)
			e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 20) })
			e.advance(time.Hour)
			removed, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
			require.NoError(t, err)
			assert.Equal(t, credit.NegativationRemoved, removed.Status)
			assert.Equal(t, "BX01", removed.RemovalCode, "the integration's code")
			assert.Equal(t, negNow.Add(time.Hour), removed.RemovedAt)
			assert.Equal(t, "u-collector", removed.RemovedBy.Subject)
			assert.Equal(t, n.History, removed.History[:len(n.History)], "history kept")
			last := removed.History[len(removed.History)-1]
			assert.Equal(t, credit.NegativationRemoved, last.Status)
			assert.Equal(t, credit.BureauRecordRemoved, mustRecord(t, e, n.ID).Status)
			assert.Equal(t, n.ID, e.bureau.LastRemoval.Reference)
			assert.Equal(t, time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC), e.bureau.LastRemoval.Date, "the day the debt was paid")
			assert.False(t, e.live(t), "the integration may be deleted now")
		})
	}
}

func mustRecord(t *testing.T, e *negEnv, ref string) credit.BureauRecord {
	t.Helper()
	rec, ok := e.bureau.Record(ref)
	require.True(t, ok)
	return rec
}

func TestRemoveCodes(t *testing.T) {
	e := newNegEnv(t)
	n := includeThrough(t, e, credit.BureauRecordActive)
	removed, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{RemovalCode: "BX09"})
	require.NoError(t, err)
	assert.Equal(t, "BX09", removed.RemovalCode)
	assert.Equal(t, "BX09", e.bureau.LastRemoval.RemovalCode)
	assert.Equal(t, time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), e.bureau.LastRemoval.Date, "open invoice: today")

	e = newNegEnv(t)
	n = includeThrough(t, e, credit.BureauRecordActive)
	_, err = e.store.UpdateIntegration(context.Background(), e.integration.ID, func(i *credit.Integration) error {
		i.Automation = credit.Automation{}
		return nil
	})
	require.NoError(t, err)
	_, err = e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
	assert.Equal(t, credit.CodeRemovalCodeRequired, credit.ErrorCode(err))
}

func TestRemoveOnlyPendingOrActive(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *negEnv) credit.Negativation
	}{
		{"rejected", func(t *testing.T, e *negEnv) credit.Negativation {
			return includeThrough(t, e, credit.BureauRecordRejected)
		}},
		{"removed", func(t *testing.T, e *negEnv) credit.Negativation {
			n := includeThrough(t, e, credit.BureauRecordActive)
			n, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
			require.NoError(t, err)
			return n
		}},
		{"failed", func(t *testing.T, e *negEnv) credit.Negativation {
			e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) { return false, credit.BureauRejected("não") }
			n, _ := e.include("inv-1")
			return n
		}},
		{"submitting", func(t *testing.T, e *negEnv) credit.Negativation {
			c, _ := e.store.GetParty(context.Background(), credit.PartyCustomer, "c1")
			inv, _ := e.store.GetInvoice(context.Background(), "c1", "inv-1")
			n := credittest.NewTestNegativation(e.integration, c, inv)
			n.CreatedAt, n.UpdatedAt = negNow, negNow
			require.NoError(t, e.store.CreateNegativation(context.Background(), n))
			return n
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNegEnv(t)
			n := tt.setup(t, e)
			_, _, removesBefore, _ := e.bureau.Counts()
			_, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
			require.Error(t, err)
			assert.Equal(t, credit.CodeInvalidStatus, credit.ErrorCode(err))
			assert.Equal(t, credit.KindConflict, credit.ErrorKind(err))
			assert.Equal(t, string(n.Status), details(t, err)["status"])
			_, _, removes, _ := e.bureau.Counts()
			assert.Equal(t, removesBefore, removes)
		})
	}
	e := newNegEnv(t)
	_, err := e.svc.Remove(e.ctx, "nope", credit.RemoveRequest{})
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
}

func TestRemoveBureauFaultLeavesTheRecordLive(t *testing.T) {
	tests := []struct {
		name string
		err  error
		kind credit.Kind
	}{
		{"bureau down", credit.BureauUnavailable(errors.New("503")), credit.KindBadGateway},
		{"refused", credit.BureauRejected("baixa fora do prazo"), credit.KindUnprocessable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNegEnv(t)
			n := includeThrough(t, e, credit.BureauRecordActive)
			e.bureau.RemoveFault = func(credit.RemovalRequest) (bool, error) { return false, tt.err }
			got, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
			require.Error(t, err)
			assert.Equal(t, tt.kind, credit.ErrorKind(err))
			assert.Equal(t, n.ID, details(t, err)["negativationId"])
			assert.Equal(t, credit.NegativationActive, got.Status, "unchanged")
			require.NotNil(t, got.LastError)
			assert.Equal(t, credit.ErrorCode(tt.err), got.LastError.Code)
			last := got.History[len(got.History)-1]
			assert.Equal(t, credit.NegativationActive, last.Status)
			assert.Equal(t, credit.ErrorCode(tt.err), last.ErrorCode)
			assert.True(t, strings.HasPrefix(last.Message, "Falha na baixa"), last.Message)
			assert.True(t, e.live(t))

			e.bureau.RemoveFault = nil
			removed, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
			require.NoError(t, err)
			assert.Equal(t, credit.NegativationRemoved, removed.Status)
			assert.Nil(t, removed.LastError)
		})
	}
}

func TestRemoveRace(t *testing.T) {
	e := newNegEnv(t)
	n := includeThrough(t, e, credit.BureauRecordActive)
	const k = 12
	e.svc.Store = newLineUp(e.store, k)
	var wg sync.WaitGroup
	errs := make([]error, k)
	for g := 0; g < k; g++ {
		wg.Add(1)
		go func(g int) { defer wg.Done(); _, errs[g] = e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{}) }(g)
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.Equal(t, credit.CodeInvalidStatus, credit.ErrorCode(err))
		}
	}
	assert.Equal(t, 1, ok)
	_, _, removes, _ := e.bureau.Counts()
	assert.Equal(t, 1, removes, "one removal reached the bureau")
}

func TestRemoveAutomatic(t *testing.T) {
	run := credit.WithActor(context.Background(), credit.Actor{Subject: "billing-rule", Name: "Régua de cobrança"})
	auto := credit.RemoveRequest{Origin: credit.OriginAutomatic, RunID: "run-7"}

	e := newNegEnv(t)
	n := includeThrough(t, e, credit.BureauRecordActive)
	_, err := e.svc.Remove(run, n.ID, auto)
	assert.Equal(t, credit.CodeInvoiceNotSettled, credit.ErrorCode(err), "an open invoice is never removed by the rule")

	e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoiceCancelled, credit.NewDate(2026, 11, 25) })
	removed, err := e.svc.Remove(run, n.ID, auto)
	require.NoError(t, err)
	assert.Equal(t, credit.NegativationRemoved, removed.Status)
	assert.Equal(t, "run-7", removed.History[len(removed.History)-1].RunID)
	assert.Equal(t, "billing-rule", removed.RemovedBy.Subject)
	_, err = e.svc.Remove(run, n.ID, auto)
	assert.Equal(t, credit.CodeInvalidStatus, credit.ErrorCode(err), "a second run finds it removed")

	e = newNegEnv(t)
	n = includeThrough(t, e, credit.BureauRecordActive)
	e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 25) })
	_, err = e.store.UpdateIntegration(context.Background(), e.integration.ID, func(i *credit.Integration) error {
		i.Automation.Enabled = false
		return nil
	})
	require.NoError(t, err)
	_, err = e.svc.Remove(run, n.ID, auto)
	assert.Equal(t, credit.CodeAutomationDisabled, credit.ErrorCode(err))
}

// TestSwitchOffKeepsRemovalsGoing: with the master switch off new
// inclusions are refused, but a paid debt still comes off the bureau
// (STJ Súmula 548): the sync, the list of pending removals and the removal
// keep working.
func TestSwitchOffKeepsRemovalsGoing(t *testing.T) {
	e := newNegEnv(t)
	n := includeThrough(t, e, credit.BureauRecordPending)
	e.putInvoice(t, "inv-2", func(*credit.Invoice) {})
	require.NoError(t, e.store.PutParameters(context.Background(), credit.Parameters{}))

	_, err := e.include("inv-2")
	assert.Equal(t, credit.CodeCreditAnalysisDisabled, credit.ErrorCode(err), "no new inclusion")

	e.bureau.SetStatus(n.ID, credit.BureauRecordActive, "")
	res, err := e.svc.Sync(e.ctx, credit.SyncRequest{})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Changed)
	got, err := e.svc.Get(e.ctx, n.ID)
	require.NoError(t, err)
	assert.Equal(t, credit.NegativationActive, got.Status, "the sync went on")

	e.putInvoice(t, "inv-1", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 25) })
	pending, err := e.svc.PendingRemovals(e.ctx, "")
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, n.ID, pending[0].Negativation.ID)

	removed, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
	require.NoError(t, err)
	assert.Equal(t, credit.NegativationRemoved, removed.Status)
	_, _, removes, _ := e.bureau.Counts()
	assert.Equal(t, 1, removes, "the bureau was asked")
}

func TestPayingDoesNotRemove(t *testing.T) {
	e := newNegEnv(t)
	n := includeThrough(t, e, credit.BureauRecordActive)
	parties := &credit.PartyService{Store: e.store, Now: func() time.Time { return *e.clock.Load() }}
	amount := int64(9990)
	_, err := parties.PutInvoice(e.ctx, "c1", "inv-1", credit.InvoiceInput{AmountCents: &amount, DueDate: "2026-10-01", Status: "paid", PaidAt: "2026-11-26"})
	require.NoError(t, err)
	got, err := e.svc.Get(e.ctx, n.ID)
	require.NoError(t, err)
	assert.Equal(t, n, got, "the record is untouched")
	assert.Equal(t, credit.BureauRecordActive, mustRecord(t, e, n.ID).Status)
	pending, err := e.svc.PendingRemovals(e.ctx, "")
	require.NoError(t, err)
	require.Len(t, pending, 1)
	assert.Equal(t, n.ID, pending[0].Negativation.ID)
}

func TestSyncMovesPendingRecords(t *testing.T) {
	e := newNegEnv(t)
	e.putInvoice(t, "inv-2", func(*credit.Invoice) {})
	e.putInvoice(t, "inv-3", func(*credit.Invoice) {})
	a, err := e.include("inv-1")
	require.NoError(t, err)
	b, err := e.include("inv-2")
	require.NoError(t, err)
	c, err := e.include("inv-3")
	require.NoError(t, err)
	e.bureau.SetStatus(a.ID, credit.BureauRecordActive, "")
	e.bureau.SetStatus(b.ID, credit.BureauRecordRejected, "Endereço do devedor não localizado: carta comunicado devolvida.")

	e.advance(10 * 24 * time.Hour)
	admin := credit.WithActor(context.Background(), credit.Actor{Subject: "u-admin", Name: "Ana Admin"})
	res, err := e.svc.Sync(admin, credit.SyncRequest{})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Integrations)
	assert.Equal(t, 3, res.Examined)
	assert.Equal(t, 2, res.Changed)
	assert.Equal(t, map[credit.NegativationStatus]int{credit.NegativationActive: 1, credit.NegativationRejected: 1}, res.ByStatus)
	assert.Empty(t, res.Errors)

	got, _ := e.svc.Get(e.ctx, a.ID)
	assert.Equal(t, credit.NegativationActive, got.Status)
	last := got.History[len(got.History)-1]
	assert.Equal(t, credit.NegativationActive, last.Status)
	assert.Equal(t, "u-admin", last.By.Subject)
	assert.Equal(t, negNow.Add(10*24*time.Hour), last.At)

	got, _ = e.svc.Get(e.ctx, b.ID)
	assert.Equal(t, credit.NegativationRejected, got.Status)
	assert.Equal(t, "Endereço do devedor não localizado: carta comunicado devolvida.", got.BureauMessage)
	assert.Contains(t, got.History[len(got.History)-1].Message, "carta comunicado devolvida")

	got, _ = e.svc.Get(e.ctx, c.ID)
	assert.Equal(t, c, got, "still pending: untouched")

	// A second sync changes nothing and writes no history.
	res, err = e.svc.Sync(admin, credit.SyncRequest{IntegrationID: e.integration.ID, RunID: "run-1"})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Examined, "only the pending one is asked about")
	assert.Zero(t, res.Changed)
}

func TestSyncSettlesRecordsInDoubt(t *testing.T) {
	tests := []struct {
		name        string
		setup       func(t *testing.T, e *negEnv) credit.Negativation
		bureau      credit.BureauRecordStatus // "" when the bureau does not know it
		age         time.Duration
		want        credit.NegativationStatus
		wantUnknown bool
	}{
		{"failed in doubt, bureau has it", failedInDoubt, credit.BureauRecordActive, 3 * time.Minute, credit.NegativationActive, false},
		{"failed in doubt, bureau never got it", failedInDoubt, "", 3 * time.Minute, credit.NegativationFailed, false},
		{"failed in doubt, too recent to conclude", failedInDoubt, "", time.Minute, credit.NegativationFailed, true},
		{"stuck submitting, bureau has it", stuckSubmitting, credit.BureauRecordPending, 3 * time.Minute, credit.NegativationPending, false},
		{"stuck submitting, bureau never got it", stuckSubmitting, "", 3 * time.Minute, credit.NegativationFailed, false},
		{"submitting in flight is left alone", stuckSubmitting, "", time.Minute, credit.NegativationSubmitting, false},
		{"stuck removing, bureau removed it", stuckRemoving, credit.BureauRecordRemoved, 3 * time.Minute, credit.NegativationRemoved, false},
		{"stuck removing, bureau still has it", stuckRemoving, credit.BureauRecordActive, 3 * time.Minute, credit.NegativationActive, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNegEnv(t)
			n := tt.setup(t, e)
			if tt.bureau != "" {
				e.bureau.SetStatus(n.ID, tt.bureau, "")
			}
			e.advance(tt.age)
			_, err := e.svc.Sync(credit.WithActor(context.Background(), credit.Actor{Subject: "billing-rule"}), credit.SyncRequest{RunID: "run-5"})
			require.NoError(t, err)
			got, _ := e.svc.Get(e.ctx, n.ID)
			assert.Equal(t, tt.want, got.Status)
			assert.Equal(t, tt.wantUnknown, got.OutcomeUnknown)
			if got.Status != n.Status || got.OutcomeUnknown != n.OutcomeUnknown {
				assert.Equal(t, "run-5", got.History[len(got.History)-1].RunID)
			}
			assert.Equal(t, got.Live(), e.live(t), "the guard follows the record")
		})
	}
}

func failedInDoubt(t *testing.T, e *negEnv) credit.Negativation {
	e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) {
		return false, credit.BureauTimeout(errors.New("deadline"))
	}
	n, err := e.include("inv-1")
	require.Error(t, err)
	e.bureau.IncludeFault = nil
	require.True(t, n.OutcomeUnknown)
	return n
}

func stuckSubmitting(t *testing.T, e *negEnv) credit.Negativation {
	c, _ := e.store.GetParty(context.Background(), credit.PartyCustomer, "c1")
	inv, _ := e.store.GetInvoice(context.Background(), "c1", "inv-1")
	n := credittest.NewTestNegativation(e.integration, c, inv)
	n.CreatedAt, n.UpdatedAt = negNow, negNow
	require.NoError(t, e.store.CreateNegativation(context.Background(), n))
	return n
}

func stuckRemoving(t *testing.T, e *negEnv) credit.Negativation {
	n := includeThrough(t, e, credit.BureauRecordActive)
	n, err := e.store.UpdateNegativation(context.Background(), n.ID, func(x *credit.Negativation) error {
		x.StatusBeforeRemoval, x.Status, x.UpdatedAt = x.Status, credit.NegativationRemoving, negNow
		return nil
	})
	require.NoError(t, err)
	return n
}

func TestSyncBureauFault(t *testing.T) {
	e := newNegEnv(t)
	n, err := e.include("inv-1")
	require.NoError(t, err)
	e.bureau.StatusFault = func([]string) error { return credit.BureauUnavailable(errors.New("503")) }

	_, err = e.svc.Sync(e.ctx, credit.SyncRequest{IntegrationID: e.integration.ID})
	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err), "one integration: the fault is the answer")

	res, err := e.svc.Sync(e.ctx, credit.SyncRequest{})
	require.NoError(t, err, "all integrations: listed, not fatal")
	require.Len(t, res.Errors, 1)
	assert.Equal(t, credit.SyncError{IntegrationID: e.integration.ID, Code: credit.CodeBureauUnavailable,
		Message: credit.ErrorMessage(credit.BureauUnavailable(nil))}, res.Errors[0])
	got, _ := e.svc.Get(e.ctx, n.ID)
	assert.Equal(t, n, got)

	_, err = e.svc.Sync(e.ctx, credit.SyncRequest{IntegrationID: "missing"})
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	_, err = e.svc.Sync(e.ctx, credit.SyncRequest{IntegrationID: "a b"})
	assert.Equal(t, credit.CodeValidation, credit.ErrorCode(err))
}

func TestPendingRemovals(t *testing.T) {
	e := newNegEnv(t)
	settle := map[string]struct {
		on     credit.Date
		status credit.InvoiceStatus
	}{
		"inv-1": {credit.NewDate(2026, 11, 19), credit.InvoicePaid},      // Thu: 20th holiday, 23-26 → 4
		"inv-2": {credit.NewDate(2026, 11, 10), credit.InvoiceCancelled}, // 11 business days, late
		"inv-3": {credit.NewDate(2026, 11, 25), credit.InvoicePaid},      // 1
	}
	ids := map[string]string{}
	for _, id := range []string{"inv-1", "inv-2", "inv-3", "inv-open", "inv-removed"} {
		if id != "inv-1" {
			e.putInvoice(t, id, func(*credit.Invoice) {})
		}
		n, err := e.include(id)
		require.NoError(t, err)
		ids[n.ID] = id
		if id == "inv-removed" {
			_, err := e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
			require.NoError(t, err)
		}
	}
	for id, s := range settle {
		e.putInvoice(t, id, func(i *credit.Invoice) { i.Status, i.SettledOn = s.status, s.on })
	}
	e.putInvoice(t, "inv-removed", func(i *credit.Invoice) { i.Status, i.SettledOn = credit.InvoicePaid, credit.NewDate(2026, 11, 1) })

	got, err := e.svc.PendingRemovals(e.ctx, "")
	require.NoError(t, err)
	var order []string
	for _, p := range got {
		order = append(order, ids[p.Negativation.ID])
	}
	assert.Equal(t, []string{"inv-2", "inv-1", "inv-3"}, order, "oldest payment first")
	assert.Equal(t, 11, got[0].BusinessDaysElapsed)
	assert.True(t, got[0].Late)
	assert.Equal(t, "2026-11-17", got[0].Deadline.String(), "15th is a Sunday")
	assert.Equal(t, credit.InvoiceCancelled, got[0].InvoiceStatus)
	assert.Equal(t, 4, got[1].BusinessDaysElapsed, "Consciência Negra is not a business day")
	assert.False(t, got[1].Late)
	assert.Equal(t, "2026-11-27", got[1].Deadline.String())
	assert.Equal(t, 1, got[2].BusinessDaysElapsed)

	only, err := e.svc.PendingRemovals(e.ctx, e.integration.ID)
	require.NoError(t, err)
	assert.Len(t, only, 3)
	none, err := e.svc.PendingRemovals(e.ctx, "other")
	require.NoError(t, err)
	assert.Empty(t, none)
	_, err = e.svc.PendingRemovals(e.ctx, "a/b")
	assert.Equal(t, credit.CodeValidation, credit.ErrorCode(err))
}

func TestNegativationLists(t *testing.T) {
	e := newNegEnv(t)
	n, err := e.include("inv-1")
	require.NoError(t, err)
	items, next, err := e.svc.List(e.ctx, credit.NegativationFilter{Status: credit.NegativationPending}, credit.Page{})
	require.NoError(t, err)
	assert.Equal(t, []credit.Negativation{n}, items)
	assert.Empty(t, next)

	_, _, err = e.svc.List(e.ctx, credit.NegativationFilter{Status: "sleeping", From: credit.NewDate(2026, 2, 1), To: credit.NewDate(2026, 1, 1)}, credit.Page{})
	require.Error(t, err)
	assert.Equal(t, []string{"status", "to"}, details(t, err)["fields"])

	items, _, err = e.svc.ListByCustomer(e.ctx, "c1", credit.Page{})
	require.NoError(t, err)
	assert.Len(t, items, 1)
	_, _, err = e.svc.ListByCustomer(e.ctx, "c404", credit.Page{})
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
}

func TestNegativationHistoryIsBounded(t *testing.T) {
	e := newNegEnv(t)
	e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) { return false, credit.BureauRejected("não") }
	var n credit.Negativation
	for k := 0; k < 60; k++ {
		n, _ = e.include("inv-1")
	}
	assert.Equal(t, 60, n.Attempts)
	assert.Len(t, n.History, credit.MaxNegativationHistory)
	assert.Equal(t, "Inclusão enviada ao bureau.", n.History[0].Message, "the first entry is kept")
	assert.Equal(t, credit.NegativationFailed, n.History[len(n.History)-1].Status)
}

// rotatingRecovery stands for the password service: each recovery it is
// asked for finds a change left half done and settles it, so the stored
// PEFIN password is another one.
type rotatingRecovery struct {
	secrets *memory.Secrets
	ref     string
	asked   []string
}

func (r *rotatingRecovery) Recover(ctx context.Context, integrationID string) (credit.Recovery, error) {
	r.asked = append(r.asked, integrationID)
	cur, err := r.secrets.Reload(ctx, r.ref)
	if err != nil {
		return credit.Recovery{}, err
	}
	cur.PEFINPassword = fmt.Sprintf("%06d", 246800+len(r.asked))
	version, err := r.secrets.PutPending(ctx, r.ref, cur, fmt.Sprintf("recovery-%d", len(r.asked)))
	if err != nil {
		return credit.Recovery{}, err
	}
	return credit.Recovery{Outcome: credit.RecoveryCompleted}, r.secrets.Promote(ctx, r.ref, version)
}

// TestBureauCallsGoThroughBureauAccess: every bureau call of the flow
// (inclusion, sync, removal) whose credentials the bureau refuses has the
// recovery settle them and is made once more, harmlessly.
func TestBureauCallsGoThroughBureauAccess(t *testing.T) {
	e := newNegEnv(t)
	recovery := &rotatingRecovery{secrets: e.secrets, ref: e.integration.SecretRef}
	e.access.Recovery = recovery
	refused := credit.BureauBadCredentials(credit.CredentialPEFIN)
	includeRefusals, statusRefusals, removeRefusals := 1, 1, 1
	e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) {
		if includeRefusals > 0 {
			includeRefusals--
			return false, refused
		}
		return false, nil
	}
	e.bureau.StatusFault = func([]string) error {
		if statusRefusals > 0 {
			statusRefusals--
			return refused
		}
		return nil
	}
	e.bureau.RemoveFault = func(credit.RemovalRequest) (bool, error) {
		if removeRefusals > 0 {
			removeRefusals--
			return false, refused
		}
		return false, nil
	}
	n, err := e.include("inv-1")
	require.NoError(t, err)
	assert.Equal(t, credit.NegativationPending, n.Status)
	assert.Equal(t, 1, n.Attempts)
	res, err := e.svc.Sync(e.ctx, credit.SyncRequest{})
	require.NoError(t, err)
	assert.Empty(t, res.Errors)
	_, err = e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
	require.NoError(t, err)
	assert.Equal(t, []string{e.integration.ID, e.integration.ID, e.integration.ID}, recovery.asked, "inclusion, sync, removal")
	includes, registered, removes, statusCalls := e.bureau.Counts()
	assert.Equal(t, [4]int{2, 1, 2, 2}, [4]int{includes, registered, removes, statusCalls})
}

func TestNegativationMessagesArePortuguese(t *testing.T) {
	e := newNegEnv(t)
	n := includeThrough(t, e, credit.BureauRecordActive)
	_, err := e.include("inv-1")
	assert.Equal(t, "A fatura inv-1 já possui negativação (ID "+n.ID+", situação: ativa).", credit.ErrorMessage(err))
	_, err = e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
	require.NoError(t, err)
	_, err = e.svc.Remove(e.ctx, n.ID, credit.RemoveRequest{})
	assert.Equal(t, `Não é possível baixar uma negativação com situação "baixada".`, credit.ErrorMessage(err))
	for _, st := range credit.NegativationStatuses {
		assert.NotEqual(t, string(st), st.Name(), "every status has a Portuguese name")
	}
}

// TestIncludeWithNoTimeLeft: when the request has no time left for the
// bureau, the inclusion is not sent; the record is failed, kept live as a
// timeout is, and the answer is bureau_unavailable in time.
func TestIncludeWithNoTimeLeft(t *testing.T) {
	e := newNegEnv(t)
	e.access.Margin = time.Hour // more than any request has left
	ctx, cancel := context.WithTimeout(e.ctx, time.Minute)
	defer cancel()

	n, err := e.svc.Include(ctx, credit.IncludeRequest{CustomerID: "c1", InvoiceID: "inv-1"})

	assert.Equal(t, credit.CodeBureauUnavailable, credit.ErrorCode(err), "%v", err)
	assert.Equal(t, credit.NegativationFailed, n.Status, "a definite state")
	assert.True(t, n.OutcomeUnknown)
	includes, registered, _, _ := e.bureau.Counts()
	assert.Zero(t, includes, "nothing sent")
	assert.Zero(t, registered)
	assert.Equal(t, n.ID, details(t, err)["negativationId"])
}
