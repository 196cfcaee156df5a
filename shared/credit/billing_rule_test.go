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

// billingNow is 09:00 in São Paulo on 2026-11-26, when the schedule fires.
var billingNow = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

var billingToday = credit.NewDate(2026, 11, 26)

// billingEnv is the billing rule over the in-memory stores and the fake
// bureau, on a clock the test moves. Branch b1 has an integration with
// automation (30 days after due, PEF01 / BX01).
type billingEnv struct {
	rule         *credit.BillingRule
	store        *memory.Store
	billing      credit.BillingStore
	bureau       *credittest.FakeBureau
	negs         *credit.NegativationService
	integrations *credit.IntegrationService
	integration  credit.Integration
	clock        *atomic.Pointer[time.Time]
	logs         *bytes.Buffer
	starter      *fakeStarter
}

// fakeStarter records the runs handed over; run, when set, executes them.
type fakeStarter struct {
	mu      sync.Mutex
	started []string
	err     error
}

func (f *fakeStarter) StartBillingRun(ctx context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.started = append(f.started, id)
	return nil
}

func (f *fakeStarter) ids() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.started...)
}

func newBillingEnv(t *testing.T) *billingEnv {
	t.Helper()
	e := &billingEnv{store: memory.New(), bureau: credittest.NewFakeBureau(), clock: &atomic.Pointer[time.Time]{},
		logs: &bytes.Buffer{}, starter: &fakeStarter{}}
	e.billing = memory.NewBilling(e.store)
	e.clock.Store(&billingNow)
	now := func() time.Time { return *e.clock.Load() }
	var n atomic.Int64
	newID := func() string { return fmt.Sprintf("id-%d", n.Add(1)) }
	log := slog.New(credit.NewLogHandler(slog.NewJSONHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx := context.Background()
	require.NoError(t, e.store.PutParameters(ctx, credit.Parameters{CreditAnalysisEnabled: true}))
	secrets := memory.NewSecrets()
	access := &credit.BureauAccess{Secrets: secrets, Registry: e.bureau, Log: log}
	e.integrations = &credit.IntegrationService{Store: e.store, Secrets: secrets, Bureau: access, Now: now, NewID: newID, Log: log}
	e.negs = &credit.NegativationService{Store: e.store, Parties: e.store, Parameters: e.store, Integrations: e.store,
		Bureau: access, Now: now, NewID: newID, Log: log}
	e.rule = &credit.BillingRule{Store: e.billing, Negativations: e.negs, Starter: e.starter,
		Config: credit.BillingRuleConfig{BureauConcurrency: 3, Workers: 6, RatePerIntegration: 1e6, CheckpointEvery: 5},
		Now:    now, NewID: newID, Log: log}
	e.integration = e.integrate(t, "b1", credit.Automation{Enabled: true, RestrictionCode: "PEF01", RemovalCode: "BX01", DaysAfterDue: 30})
	return e
}

func (e *billingEnv) integrate(t *testing.T, branch string, a credit.Automation) credit.Integration {
	t.Helper()
	i, err := e.integrations.Create(context.Background(), credit.NewIntegration{
		IntegrationSettings: credit.IntegrationSettings{
			Intermediary: credit.IntermediaryConnect, BranchID: branch, Environment: credit.EnvironmentHomologation,
			Login: "provedor-" + branch, DefaultPlan: credit.PlanReportScore, SendSMSOnInclusion: true,
			ResponsibleCPF: "529.982.247-25", Automation: a,
		},
		ConsultationPassword: "Abcd@123", PEFINPassword: "135790",
	})
	require.NoError(t, err)
	return i
}

func (e *billingEnv) advance(d time.Duration) {
	t := e.clock.Load().Add(d)
	e.clock.Store(&t)
}

// customer stores a complete customer of branch, as modified.
func (e *billingEnv) customer(t *testing.T, id, branch string, modify func(*credit.Party)) credit.Party {
	t.Helper()
	c := credittest.NewTestCustomer(id, branch)
	modify(&c)
	_, err := e.store.PutParty(context.Background(), c)
	require.NoError(t, err)
	return c
}

// invoice stores an open invoice of customer due daysAgo days before
// today, R$ 99,90, as modified.
func (e *billingEnv) invoice(t *testing.T, c credit.Party, id string, daysAgo int, modify func(*credit.Invoice)) credit.Invoice {
	t.Helper()
	inv := credittest.NewTestInvoice(c, id, billingToday.AddDays(-daysAgo), 9990)
	modify(&inv)
	require.NoError(t, e.store.PutInvoice(context.Background(), inv))
	return inv
}

// settle marks an invoice paid or cancelled, as the ERP does.
func (e *billingEnv) settle(t *testing.T, inv credit.Invoice, status credit.InvoiceStatus) {
	t.Helper()
	inv.Status, inv.SettledOn = status, billingToday.AddDays(-2)
	if status == credit.InvoicePaid {
		inv.PaidAt = inv.SettledOn
	}
	require.NoError(t, e.store.PutInvoice(context.Background(), inv))
}

// negativate includes an invoice by hand, as a collector does.
func (e *billingEnv) negativate(t *testing.T, inv credit.Invoice) credit.Negativation {
	t.Helper()
	ctx := credit.WithActor(context.Background(), credit.Actor{Subject: "u-collector", Name: "Carla Cobrança", Roles: []credit.Role{credit.RoleCollector}})
	n, err := e.negs.Include(ctx, credit.IncludeRequest{CustomerID: inv.CustomerID, InvoiceID: inv.ID, RestrictionCode: "PEF01"})
	require.NoError(t, err)
	return n
}

func (e *billingEnv) negativationOf(t *testing.T, inv credit.Invoice) (credit.Negativation, bool) {
	t.Helper()
	n, err := e.store.GetNegativationByInvoice(context.Background(), inv.CustomerID, inv.ID)
	if credit.ErrorKind(err) == credit.KindNotFound {
		return credit.Negativation{}, false
	}
	require.NoError(t, err)
	return n, true
}

func (e *billingEnv) runScheduled(t *testing.T) credit.BillingRun {
	t.Helper()
	run, err := e.rule.RunScheduled(context.Background(), time.Time{})
	require.NoError(t, err)
	stored, err := e.billing.GetBillingRun(context.Background(), run.ID)
	require.NoError(t, err)
	require.Equal(t, run, stored, "the run returned is the run recorded")
	return run
}

func skipped(kv ...any) map[string]int {
	m := map[string]int{}
	for k := 0; k < len(kv); k += 2 {
		m[kv[k].(string)] = kv[k+1].(int)
	}
	return m
}

// TestBillingRuleRules: each rule of the issue, one situation at a time.
func TestBillingRuleRules(t *testing.T) {
	none := func(*credit.Party) {}
	open := func(*credit.Invoice) {}
	tests := []struct {
		name  string
		setup func(t *testing.T, e *billingEnv) []credit.Invoice
		want  credit.BillingCounts
		check func(t *testing.T, e *billingEnv, run credit.BillingRun, invs []credit.Invoice)
	}{
		{
			name: "an invoice overdue by daysAfterDue is included with the integration's code, automatic, naming the run",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c1", "b1", none)
				return []credit.Invoice{e.invoice(t, c, "inv-60", 60, open), e.invoice(t, c, "inv-30", 30, open)}
			},
			want: credit.BillingCounts{Examined: 2, Included: 2},
			check: func(t *testing.T, e *billingEnv, run credit.BillingRun, invs []credit.Invoice) {
				for _, inv := range invs {
					n, ok := e.negativationOf(t, inv)
					require.True(t, ok, inv.ID)
					assert.Equal(t, credit.NegativationPending, n.Status)
					assert.Equal(t, "PEF01", n.RestrictionCode)
					assert.Equal(t, credit.OriginAutomatic, n.Origin)
					assert.Equal(t, run.ID, n.RunID)
					assert.Equal(t, credit.BillingRuleActor, n.RequestedBy)
					assert.Equal(t, run.ID, n.History[0].RunID)
				}
				_, registered, _, _ := e.bureau.Counts()
				assert.Equal(t, 2, registered)
			},
		},
		{
			name: "not yet daysAfterDue overdue, or more than 5 years overdue: not even examined",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c1", "b1", none)
				fiveYears := billingToday.AddYears(-5).DaysUntil(billingToday)
				return []credit.Invoice{e.invoice(t, c, "inv-29", 29, open), e.invoice(t, c, "inv-future", -5, open),
					e.invoice(t, c, "inv-too-old", fiveYears+1, open), e.invoice(t, c, "inv-5y", fiveYears, open)}
			},
			want: credit.BillingCounts{Examined: 1, Included: 1},
			check: func(t *testing.T, e *billingEnv, _ credit.BillingRun, invs []credit.Invoice) {
				for _, inv := range invs[:3] {
					_, ok := e.negativationOf(t, inv)
					assert.False(t, ok, inv.ID)
				}
				_, ok := e.negativationOf(t, invs[3])
				assert.True(t, ok, "due exactly 5 years ago is still registrable")
			},
		},
		{
			name: "the customer's own setting: no is skipped, yes and default included",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				no := e.customer(t, "c-no", "b1", func(c *credit.Party) { c.AutoNegativation = credit.AutoNegativationNo })
				yes := e.customer(t, "c-yes", "b1", func(c *credit.Party) { c.AutoNegativation = credit.AutoNegativationYes })
				def := e.customer(t, "c-default", "b1", none)
				return []credit.Invoice{e.invoice(t, no, "inv-no", 45, open), e.invoice(t, yes, "inv-yes", 45, open), e.invoice(t, def, "inv-default", 45, open)}
			},
			want: credit.BillingCounts{Examined: 3, Included: 2, Skipped: skipped(credit.SkipCustomerOptedOut, 1)},
			check: func(t *testing.T, e *billingEnv, _ credit.BillingRun, invs []credit.Invoice) {
				_, ok := e.negativationOf(t, invs[0])
				assert.False(t, ok)
			},
		},
		{
			name: "a customer missing required fields is skipped with the reason counted, not failed",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c-incomplete", "b1", func(c *credit.Party) { c.MobilePhone, c.Address.Complement = "", "" })
				other := e.customer(t, "c2", "b1", none)
				return []credit.Invoice{e.invoice(t, c, "inv-a", 45, open), e.invoice(t, c, "inv-b", 50, open), e.invoice(t, other, "inv-c", 50, open)}
			},
			want: credit.BillingCounts{Examined: 3, Included: 1, Skipped: skipped(credit.CodeMissingCustomerFields, 2)},
		},
		{
			name: "the service's own refusals are skips under their code: underage debtor, no amount",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				minor := e.customer(t, "c-minor", "b1", func(c *credit.Party) { c.BirthDate = billingToday.AddYears(-17) })
				adult := e.customer(t, "c-adult", "b1", none)
				return []credit.Invoice{e.invoice(t, minor, "inv-minor", 45, open),
					e.invoice(t, adult, "inv-zero", 45, func(i *credit.Invoice) { i.AmountCents = 0 })}
			},
			want: credit.BillingCounts{Examined: 2, Skipped: skipped(credit.CodeDebtorUnderage, 1, credit.CodeInvoiceWithoutAmount, 1)},
		},
		{
			name: "an invoice negativated already (by hand) is not included again",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c1", "b1", none)
				inv := e.invoice(t, c, "inv-1", 45, open)
				e.negativate(t, inv)
				return []credit.Invoice{inv}
			},
			// The manual record is pending: the sync asks the bureau about it.
			want: credit.BillingCounts{Examined: 1, Synced: 1, Skipped: skipped(credit.CodeAlreadyNegativated, 1)},
			check: func(t *testing.T, e *billingEnv, _ credit.BillingRun, invs []credit.Invoice) {
				includes, registered, _, _ := e.bureau.Counts()
				assert.Equal(t, 1, includes)
				assert.Equal(t, 1, registered)
				n, _ := e.negativationOf(t, invs[0])
				assert.Equal(t, credit.OriginManual, n.Origin)
			},
		},
		{
			name: "paid or cancelled invoices' negativations are removed with the removal code, manual ones included",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c1", "b1", none)
				paid := e.invoice(t, c, "inv-paid", 45, open)
				cancelled := e.invoice(t, c, "inv-cancelled", 50, open)
				e.negativate(t, paid)
				e.negativate(t, cancelled)
				e.bureau.SetStatus(mustNegativation(t, e, paid).ID, credit.BureauRecordActive, "")
				e.settle(t, paid, credit.InvoicePaid)
				e.settle(t, cancelled, credit.InvoiceCancelled)
				return []credit.Invoice{paid, cancelled}
			},
			want: credit.BillingCounts{Examined: 2, Removed: 2},
			check: func(t *testing.T, e *billingEnv, run credit.BillingRun, invs []credit.Invoice) {
				for _, inv := range invs {
					n, _ := e.negativationOf(t, inv)
					assert.Equal(t, credit.NegativationRemoved, n.Status, inv.ID)
					assert.Equal(t, "BX01", n.RemovalCode)
					assert.Equal(t, run.ID, n.History[len(n.History)-1].RunID)
				}
				_, _, removes, _ := e.bureau.Counts()
				assert.Equal(t, 2, removes)
				assert.Equal(t, billingToday.AddDays(-2).Time(), e.bureau.LastRemoval.Date, "removed as of the day the debt was settled")
			},
		},
		{
			name: "pending negativations are synced: the bureau's answer lands in their history with the run",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c1", "b1", func(c *credit.Party) { c.AutoNegativation = credit.AutoNegativationNo })
				a, b := e.invoice(t, c, "inv-a", 45, open), e.invoice(t, c, "inv-b", 46, open)
				e.negativate(t, a)
				e.negativate(t, b)
				e.bureau.SetStatus(mustNegativation(t, e, a).ID, credit.BureauRecordActive, "visível")
				return []credit.Invoice{a, b}
			},
			want: credit.BillingCounts{Examined: 2, Synced: 2, Skipped: skipped(credit.SkipCustomerOptedOut, 2)},
			check: func(t *testing.T, e *billingEnv, run credit.BillingRun, invs []credit.Invoice) {
				n, _ := e.negativationOf(t, invs[0])
				assert.Equal(t, credit.NegativationActive, n.Status)
				assert.Equal(t, run.ID, n.History[len(n.History)-1].RunID)
				n, _ = e.negativationOf(t, invs[1])
				assert.Equal(t, credit.NegativationPending, n.Status)
			},
		},
		{
			name: "integrations without automation are left alone: no inclusion, no removal, no sync",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				e.integrate(t, "b2", credit.Automation{Enabled: false})
				c := e.customer(t, "c-b2", "b2", none)
				overdue := e.invoice(t, c, "inv-overdue", 90, open)
				paid := e.invoice(t, c, "inv-paid", 90, open)
				e.negativate(t, paid)
				e.settle(t, paid, credit.InvoicePaid)
				return []credit.Invoice{overdue, paid}
			},
			want: credit.BillingCounts{},
			check: func(t *testing.T, e *billingEnv, _ credit.BillingRun, invs []credit.Invoice) {
				_, ok := e.negativationOf(t, invs[0])
				assert.False(t, ok)
				n, _ := e.negativationOf(t, invs[1])
				assert.Equal(t, credit.NegativationPending, n.Status, "still registered: removal is manual there")
				_, _, removes, statusCalls := e.bureau.Counts()
				assert.Zero(t, removes)
				assert.Zero(t, statusCalls)
			},
		},
		{
			name: "manual negativations of open invoices are not removed",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c1", "b1", none)
				inv := e.invoice(t, c, "inv-1", 10, open)
				e.advance(-5 * 24 * time.Hour) // negativated by hand days ago
				e.negativate(t, inv)
				e.advance(5 * 24 * time.Hour)
				return []credit.Invoice{inv}
			},
			want: credit.BillingCounts{Synced: 1},
			check: func(t *testing.T, e *billingEnv, _ credit.BillingRun, invs []credit.Invoice) {
				n, _ := e.negativationOf(t, invs[0])
				assert.Equal(t, credit.NegativationPending, n.Status)
			},
		},
		{
			name: "a bureau failure fails that item only, recorded with its ids and no document",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				c := e.customer(t, "c1", "b1", none)
				bad := e.invoice(t, c, "inv-bad", 60, open)
				good := e.invoice(t, c, "inv-good", 45, open)
				e.bureau.IncludeFault = func(r credit.NegativationRequest) (bool, error) {
					if r.Debt.DocumentNumber == bad.DocumentNumber {
						return false, credit.BureauUnavailable(errors.New("503"))
					}
					return false, nil
				}
				return []credit.Invoice{bad, good}
			},
			want: credit.BillingCounts{Examined: 2, Included: 1, Failed: 1},
			check: func(t *testing.T, e *billingEnv, run credit.BillingRun, invs []credit.Invoice) {
				require.Len(t, run.Errors, 1)
				got := run.Errors[0]
				assert.Equal(t, credit.CodeBureauUnavailable, got.Code)
				assert.Equal(t, "inv-bad", got.InvoiceID)
				assert.Equal(t, "c1", got.CustomerID)
				assert.Equal(t, e.integration.ID, got.IntegrationID)
				n, _ := e.negativationOf(t, invs[0])
				assert.Equal(t, n.ID, got.NegativationID)
				assert.Equal(t, credit.NegativationFailed, n.Status)
				assert.NotContains(t, e.logs.String(), "52998224725")
			},
		},
		{
			name: "credentials the bureau refuses stop that integration only",
			setup: func(t *testing.T, e *billingEnv) []credit.Invoice {
				e.rule.Config.BureauConcurrency, e.rule.Config.Workers = 1, 1
				e.integrate(t, "b2", credit.Automation{Enabled: true, RestrictionCode: "PEF02", RemovalCode: "BX02", DaysAfterDue: 10})
				c := e.customer(t, "c1", "b1", none)
				c2 := e.customer(t, "c2", "b2", none)
				var invs []credit.Invoice
				for k := range 3 {
					invs = append(invs, e.invoice(t, c, fmt.Sprintf("inv-b1-%d", k), 40+k, open))
				}
				invs = append(invs, e.invoice(t, c2, "inv-b2", 40, open))
				e.bureau.IncludeFault = func(r credit.NegativationRequest) (bool, error) {
					if r.Debt.RestrictionCode == "PEF01" {
						return false, credit.BureauBadCredentials(credit.CredentialPEFIN)
					}
					return false, nil
				}
				return invs
			},
			want: credit.BillingCounts{Examined: 4, Included: 1, Failed: 1, Skipped: skipped(credit.SkipIntegrationAborted, 2)},
			check: func(t *testing.T, e *billingEnv, run credit.BillingRun, invs []credit.Invoice) {
				require.NotEmpty(t, run.Errors)
				assert.Equal(t, credit.CodeBureauBadCredentials, run.Errors[0].Code)
				n, ok := e.negativationOf(t, invs[3])
				require.True(t, ok, "the other integration goes on")
				assert.Equal(t, "PEF02", n.RestrictionCode)
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newBillingEnv(t)
			invs := tt.setup(t, e)
			run := e.runScheduled(t)
			assert.Equal(t, credit.BillingRunFinished, run.Status)
			assert.Equal(t, credit.TriggerSchedule, run.Trigger)
			assert.Equal(t, billingToday, run.Day)
			want := tt.want
			if want.Skipped == nil {
				want.Skipped = map[string]int{}
			}
			assert.Equal(t, want, run.Counts)
			if tt.want.Failed == 0 {
				assert.Empty(t, run.Errors)
			}
			if tt.check != nil {
				tt.check(t, e, run, invs)
			}
			for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
				if strings.Contains(line, `"billing run`) {
					assert.Contains(t, line, `"runId":"`+run.ID+`"`, "every line of the run names it")
				}
			}
		})
	}
}

func mustNegativation(t *testing.T, e *billingEnv, inv credit.Invoice) credit.Negativation {
	t.Helper()
	n, ok := e.negativationOf(t, inv)
	require.True(t, ok)
	return n
}

// TestBillingRuleMasterSwitchOff: a run with the switch off, scheduled or
// started by hand, still removes the paid debts' records and syncs (STJ
// Súmula 548), includes nothing, and says why on the record.
func TestBillingRuleMasterSwitchOff(t *testing.T) {
	e := newBillingEnv(t)
	c := e.customer(t, "c1", "b1", func(*credit.Party) {})
	overdue := e.invoice(t, c, "inv-overdue", 60, func(*credit.Invoice) {})
	paid := e.invoice(t, c, "inv-paid", 45, func(*credit.Invoice) {})
	pending := e.invoice(t, c, "inv-pending", 40, func(*credit.Invoice) {})
	e.negativate(t, paid)
	e.negativate(t, pending)
	e.bureau.SetStatus(mustNegativation(t, e, paid).ID, credit.BureauRecordActive, "")
	e.bureau.SetStatus(mustNegativation(t, e, pending).ID, credit.BureauRecordActive, "")
	e.settle(t, paid, credit.InvoicePaid)
	require.NoError(t, e.store.PutParameters(context.Background(), credit.Parameters{}))

	run := e.runScheduled(t)
	assert.Equal(t, credit.BillingRunFinished, run.Status)
	assert.Equal(t, 1, run.Counts.Removed, "the paid debt comes off")
	assert.Equal(t, 1, run.Counts.Synced, "the pending record is synced")
	assert.Zero(t, run.Counts.Included)
	require.Len(t, run.Errors, 1)
	assert.Equal(t, credit.CodeCreditAnalysisDisabled, run.Errors[0].Code)
	assert.Contains(t, run.Errors[0].Message, "nenhuma inclusão")
	assert.Equal(t, credit.NegativationRemoved, mustNegativation(t, e, paid).Status)
	assert.Equal(t, credit.NegativationActive, mustNegativation(t, e, pending).Status)
	_, found := e.negativationOf(t, overdue)
	assert.False(t, found, "the overdue invoice is not included")
	includes, _, removes, _ := e.bureau.Counts()
	assert.Equal(t, 2, includes, "only the two included by hand before the switch went off")
	assert.Equal(t, 1, removes)

	manual, err := e.rule.Start(credit.WithActor(context.Background(), credit.Actor{Subject: "u-admin"}), credit.StartRequest{})
	require.NoError(t, err, "a run started by hand is not refused")
	done, err := e.rule.Execute(context.Background(), manual.ID, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, credit.BillingRunFinished, done.Status)
	assert.Zero(t, done.Counts.Included)
	require.NotEmpty(t, done.Errors)
	assert.Equal(t, credit.CodeCreditAnalysisDisabled, done.Errors[0].Code)
	_, found = e.negativationOf(t, overdue)
	assert.False(t, found)
}

// overlapStore makes the first open-invoice read of each of n runs wait
// for the others, so that their walks certainly overlap.
type overlapStore struct {
	credit.BillingStore
	mu      sync.Mutex
	waiting int
	n       int
	all     chan struct{}
	seen    map[string]bool
}

func (s *overlapStore) OpenInvoicesDue(ctx context.Context, q credit.OpenInvoiceQuery) ([]credit.Invoice, bool, error) {
	if q.After == nil {
		s.mu.Lock()
		s.waiting++
		if s.waiting == s.n {
			close(s.all)
		}
		s.mu.Unlock()
		select {
		case <-s.all:
		case <-time.After(10 * time.Second): // a guard against a hang, not a timing
			return nil, false, errors.New("the other run never came")
		}
	}
	return s.BillingStore.OpenInvoicesDue(ctx, q)
}

// TestBillingRuleTwoRunsAtOnce: two runs over the same data at the same
// time include each invoice exactly once at the bureau and remove each
// settled record exactly once; the loser of each invoice counts a skip.
func TestBillingRuleTwoRunsAtOnce(t *testing.T) {
	e := newBillingEnv(t)
	const invoices, settled = 60, 6
	for k := range invoices {
		c := e.customer(t, fmt.Sprintf("c%02d", k), "b1", func(*credit.Party) {})
		inv := e.invoice(t, c, fmt.Sprintf("inv-%02d", k), 31+k%20, func(*credit.Invoice) {})
		if k < settled {
			e.negativate(t, inv)
			e.settle(t, inv, credit.InvoicePaid)
		}
	}
	e.rule.Store = &overlapStore{BillingStore: e.billing, n: 2, all: make(chan struct{})}

	runs := make([]credit.BillingRun, 2)
	var wg sync.WaitGroup
	for k := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run, err := e.rule.RunScheduled(context.Background(), time.Time{})
			assert.NoError(t, err)
			runs[k] = run
		}()
	}
	wg.Wait()

	includes, registered, removes, _ := e.bureau.Counts()
	assert.Equal(t, invoices, includes, "one inclusion sent per invoice: settled ones were negativated by hand first")
	assert.Equal(t, invoices, registered)
	assert.Equal(t, settled, removes, "one removal per settled record")
	total := credit.BillingCounts{Skipped: map[string]int{}}
	for _, run := range runs {
		assert.Equal(t, credit.BillingRunFinished, run.Status)
		assert.Zero(t, run.Counts.Failed, "%+v", run.Errors)
		total.Included += run.Counts.Included
		total.Removed += run.Counts.Removed
		for reason, n := range run.Counts.Skipped {
			total.Skipped[reason] += n
		}
	}
	assert.Equal(t, invoices-settled, total.Included)
	assert.Equal(t, settled, total.Removed)
	assert.Equal(t, invoices-settled, total.Skipped[credit.CodeAlreadyNegativated], "the other run met each invoice negativated")
	for k := settled; k < invoices; k++ {
		n, err := e.store.GetNegativationByInvoice(context.Background(), fmt.Sprintf("c%02d", k), fmt.Sprintf("inv-%02d", k))
		require.NoError(t, err)
		assert.Contains(t, []string{runs[0].ID, runs[1].ID}, n.RunID)
	}
}

// tick moves the test's clock by step on every inclusion, so that a run's
// deadline comes after a known amount of work, without waiting.
func (e *billingEnv) tick(step time.Duration) {
	e.bureau.BeforeInclude = func(credit.NegativationRequest) error {
		e.advance(step)
		return nil
	}
}

// TestBillingRuleStopsAtDeadlineAndResumes: a run whose deadline is near
// stops taking work, records where it got and hands over a continuation,
// which does the rest: every invoice included once, the totals add up.
func TestBillingRuleStopsAtDeadlineAndResumes(t *testing.T) {
	e := newBillingEnv(t)
	const invoices = 40
	for k := range invoices {
		c := e.customer(t, fmt.Sprintf("c%02d", k), "b1", func(*credit.Party) {})
		e.invoice(t, c, fmt.Sprintf("inv-%02d", k), 31+k, func(*credit.Invoice) {})
	}
	e.tick(time.Minute)
	e.rule.Config.SafetyMargin = 5 * time.Minute

	first, err := e.rule.RunScheduled(context.Background(), billingNow.Add(20*time.Minute))
	require.NoError(t, err)
	assert.Equal(t, credit.BillingRunStoppedAtDeadline, first.Status)
	assert.Greater(t, first.Counts.Included, 0)
	assert.Less(t, first.Counts.Included, invoices)
	assert.Equal(t, first.Counts.Included, first.Counts.Examined)
	require.Len(t, first.Position.Partial, 1)
	assert.Equal(t, e.integration.ID, first.Position.Partial[0].IntegrationID)
	require.NotNil(t, first.Position.Partial[0].After)

	started := e.starter.ids()
	require.Len(t, started, 1, "the continuation is handed over at once")
	second, err := e.rule.Execute(context.Background(), started[0], time.Time{})
	require.NoError(t, err)
	assert.Equal(t, credit.BillingRunFinished, second.Status)
	assert.Equal(t, first.ID, second.ResumedFrom)
	assert.Equal(t, invoices, first.Counts.Examined+second.Counts.Examined, "nothing examined twice")
	assert.Equal(t, invoices, first.Counts.Included+second.Counts.Included)
	assert.Empty(t, second.Counts.Skipped)
	assert.Equal(t, credit.BillingPosition{Done: []string{e.integration.ID}}, second.Position)

	includes, registered, _, _ := e.bureau.Counts()
	assert.Equal(t, invoices, includes)
	assert.Equal(t, invoices, registered)
	assert.Len(t, e.starter.ids(), 1, "a finished run hands nothing over")
}

// TestBillingRuleResumesTheDaysUnfinishedRun: a scheduled run picks up a
// run of the same day that stopped or whose invocation died (from its last
// checkpoint, marking it failed), and not a run of another day.
func TestBillingRuleResumesTheDaysUnfinishedRun(t *testing.T) {
	setup := func(t *testing.T) (*billingEnv, []credit.Invoice) {
		e := newBillingEnv(t)
		var invs []credit.Invoice
		for k := range 10 {
			c := e.customer(t, fmt.Sprintf("c%02d", k), "b1", func(*credit.Party) {})
			invs = append(invs, e.invoice(t, c, fmt.Sprintf("inv-%02d", k), 31+k, func(*credit.Invoice) {}))
		}
		return e, invs
	}
	// Invoices are walked oldest due date first: inv-09 ... inv-00.
	after := func(e *billingEnv, inv credit.Invoice) credit.BillingPosition {
		key := credit.KeyOf(inv)
		return credit.BillingPosition{Partial: []credit.IntegrationPosition{{IntegrationID: e.integration.ID, After: &key}}}
	}
	tests := []struct {
		name        string
		prev        func(e *billingEnv, invs []credit.Invoice) credit.BillingRun
		wantResumed bool
		wantPrev    credit.BillingRunStatus
	}{
		{"a run that died with a checkpoint", func(e *billingEnv, invs []credit.Invoice) credit.BillingRun {
			r := credittest.NewTestBillingRun("dead", billingNow.Add(-40*time.Minute))
			r.LeaseUntil = billingNow.Add(-20 * time.Minute)
			r.Position = after(e, invs[5])
			return r
		}, true, credit.BillingRunFailed},
		{"a run stopped at its deadline", func(e *billingEnv, invs []credit.Invoice) credit.BillingRun {
			r := credittest.NewTestBillingRun("stopped", billingNow.Add(-40*time.Minute))
			r.Status, r.FinishedAt = credit.BillingRunStoppedAtDeadline, billingNow.Add(-30*time.Minute)
			r.Position = after(e, invs[5])
			return r
		}, true, credit.BillingRunStoppedAtDeadline},
		{"yesterday's stopped run", func(e *billingEnv, invs []credit.Invoice) credit.BillingRun {
			r := credittest.NewTestBillingRun("yesterday", billingNow.Add(-24*time.Hour))
			r.Status, r.FinishedAt = credit.BillingRunStoppedAtDeadline, billingNow.Add(-23*time.Hour)
			r.Position = after(e, invs[5])
			return r
		}, false, credit.BillingRunStoppedAtDeadline},
		{"a finished run of the same day", func(e *billingEnv, invs []credit.Invoice) credit.BillingRun {
			r := credittest.NewTestBillingRun("finished", billingNow.Add(-40*time.Minute))
			r.Status, r.FinishedAt = credit.BillingRunFinished, billingNow.Add(-30*time.Minute)
			r.Position = credit.BillingPosition{Done: []string{e.integration.ID}}
			return r
		}, false, credit.BillingRunFinished},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, invs := setup(t)
			prev := tt.prev(e, invs)
			require.NoError(t, e.billing.CreateBillingRun(context.Background(), prev))

			run := e.runScheduled(t)
			assert.Equal(t, credit.BillingRunFinished, run.Status)
			if tt.wantResumed {
				assert.Equal(t, prev.ID, run.ResumedFrom)
				assert.Equal(t, 5, run.Counts.Examined, "only the invoices after the position")
				assert.Equal(t, 5, run.Counts.Included)
				for _, inv := range invs[:5] {
					_, ok := e.negativationOf(t, inv)
					assert.True(t, ok, inv.ID)
				}
			} else {
				assert.Empty(t, run.ResumedFrom)
				assert.Equal(t, 10, run.Counts.Included)
			}
			got, err := e.billing.GetBillingRun(context.Background(), prev.ID)
			require.NoError(t, err)
			assert.Equal(t, tt.wantPrev, got.Status)
			if tt.wantPrev == credit.BillingRunFailed {
				assert.Equal(t, credit.CodeBillingRunLost, got.Errors[len(got.Errors)-1].Code)
			}
		})
	}
}

// gate lets n inclusions into the bureau at once, and only all together:
// if the rule allowed fewer at a time, they would wait for each other for
// ever (the guard ends the test); if it allowed more, the in-flight count
// would show it.
type gate struct {
	n        int
	mu       sync.Mutex
	inFlight int
	maxSeen  int
	arrived  int
	release  chan struct{}
}

func (g *gate) pass(credit.NegativationRequest) error {
	g.mu.Lock()
	g.inFlight++
	g.maxSeen = max(g.maxSeen, g.inFlight)
	g.arrived++
	open := g.release
	if g.arrived == g.n {
		close(g.release)
		g.arrived, g.release = 0, make(chan struct{})
	}
	g.mu.Unlock()
	var err error
	select {
	case <-open:
	case <-time.After(10 * time.Second): // a guard against a hang, not a timing
		err = errors.New("fewer calls in flight than the concurrency allows")
	}
	g.mu.Lock()
	g.inFlight--
	g.mu.Unlock()
	return err
}

// TestBillingRuleBureauConcurrency: the run keeps exactly
// BureauConcurrency bureau calls in flight, never more, with more workers.
func TestBillingRuleBureauConcurrency(t *testing.T) {
	e := newBillingEnv(t)
	const concurrency = 4
	e.rule.Config.BureauConcurrency, e.rule.Config.Workers = concurrency, 3*concurrency
	for k := range 3 * concurrency {
		c := e.customer(t, fmt.Sprintf("c%02d", k), "b1", func(*credit.Party) {})
		e.invoice(t, c, fmt.Sprintf("inv-%02d", k), 40, func(*credit.Invoice) {})
	}
	g := &gate{n: concurrency, release: make(chan struct{})}
	e.bureau.BeforeInclude = g.pass

	run := e.runScheduled(t)
	assert.Equal(t, 3*concurrency, run.Counts.Included, "%+v", run.Errors)
	assert.Equal(t, concurrency, g.maxSeen)
}

// countingLimiter counts the waits of one integration.
type countingLimiter struct{ waits *atomic.Int64 }

func (l countingLimiter) Wait(context.Context) error { l.waits.Add(1); return nil }

// TestBillingRuleRatePerIntegration: every bureau call of an integration
// (inclusion, removal, status) waits on that integration's limiter.
func TestBillingRuleRatePerIntegration(t *testing.T) {
	e := newBillingEnv(t)
	b2 := e.integrate(t, "b2", credit.Automation{Enabled: true, RestrictionCode: "PEF02", RemovalCode: "BX02", DaysAfterDue: 10})
	c1 := e.customer(t, "c1", "b1", func(*credit.Party) {})
	c2 := e.customer(t, "c2", "b2", func(*credit.Party) {})
	for k := range 3 {
		e.invoice(t, c1, fmt.Sprintf("inv-b1-%d", k), 40, func(*credit.Invoice) {})
	}
	e.invoice(t, c2, "inv-b2-0", 40, func(*credit.Invoice) {})
	paid := e.invoice(t, c2, "inv-b2-paid", 40, func(*credit.Invoice) {})
	e.negativate(t, paid)
	e.settle(t, paid, credit.InvoicePaid)
	// One pending b2 record to sync: its invoice is open but too recent.
	recent := e.invoice(t, c2, "inv-b2-recent", 5, func(*credit.Invoice) {})
	e.advance(-2 * 24 * time.Hour)
	e.negativate(t, recent)
	e.advance(2 * 24 * time.Hour)

	var mu sync.Mutex
	waits := map[string]*atomic.Int64{}
	e.rule.NewLimiter = func(id string) credit.Limiter {
		mu.Lock()
		defer mu.Unlock()
		if waits[id] == nil {
			waits[id] = &atomic.Int64{}
		}
		return countingLimiter{waits: waits[id]}
	}
	run := e.runScheduled(t)
	assert.Equal(t, 4, run.Counts.Included)
	assert.Equal(t, 1, run.Counts.Removed)
	assert.Equal(t, 1, run.Counts.Synced)
	assert.Equal(t, int64(3), waits[e.integration.ID].Load(), "b1: three inclusions")
	assert.Equal(t, int64(3), waits[b2.ID].Load(), "b2: one removal, one status call, one inclusion")
}

// TestBillingRuleManualStart: an admin's run is recorded, handed over and
// executed by its invocation; a second start while it works is refused;
// a run the starter cannot hand over is recorded failed.
func TestBillingRuleManualStart(t *testing.T) {
	admin := credit.Actor{Subject: "u-admin", Name: "Ana Admin", Roles: []credit.Role{credit.RoleAdmin}}
	ctx := credit.WithActor(context.Background(), admin)

	t.Run("recorded, handed over, executed once", func(t *testing.T) {
		e := newBillingEnv(t)
		c := e.customer(t, "c1", "b1", func(*credit.Party) {})
		inv := e.invoice(t, c, "inv-1", 45, func(*credit.Invoice) {})

		run, err := e.rule.Start(ctx, credit.StartRequest{})
		require.NoError(t, err)
		assert.Equal(t, credit.BillingRunRunning, run.Status)
		assert.Equal(t, credit.TriggerManual, run.Trigger)
		assert.Equal(t, credit.Actor{Subject: "u-admin", Name: "Ana Admin"}, run.RequestedBy)
		assert.Equal(t, []string{run.ID}, e.starter.ids())

		_, err = e.rule.Start(ctx, credit.StartRequest{})
		assert.Equal(t, credit.CodeBillingRunInProgress, credit.ErrorCode(err))
		assert.Equal(t, credit.KindConflict, credit.ErrorKind(err))

		done, err := e.rule.Execute(context.Background(), run.ID, time.Time{})
		require.NoError(t, err)
		assert.Equal(t, credit.BillingRunFinished, done.Status)
		assert.Equal(t, 1, done.Counts.Included)
		n, _ := e.negativationOf(t, inv)
		assert.Equal(t, "u-admin", n.RequestedBy.Subject, "the admin's run acts in the admin's name")

		// A repeated delivery of the invocation does nothing.
		again, err := e.rule.Execute(context.Background(), run.ID, time.Time{})
		require.NoError(t, err)
		assert.Equal(t, done, again)
		includes, _, _, _ := e.bureau.Counts()
		assert.Equal(t, 1, includes)

		_, err = e.rule.Start(ctx, credit.StartRequest{})
		assert.NoError(t, err, "another run may start once the first ended")
	})

	t.Run("a run held by a live invocation is not executed twice", func(t *testing.T) {
		e := newBillingEnv(t)
		run, err := e.rule.Start(ctx, credit.StartRequest{})
		require.NoError(t, err)
		_, err = e.billing.UpdateBillingRun(context.Background(), run.ID, func(r *credit.BillingRun) error {
			r.LeaseUntil = billingNow.Add(10 * time.Minute)
			return nil
		})
		require.NoError(t, err)
		got, err := e.rule.Execute(context.Background(), run.ID, time.Time{})
		require.NoError(t, err)
		assert.Equal(t, credit.BillingRunRunning, got.Status)
		stored, _ := e.billing.GetBillingRun(context.Background(), run.ID)
		assert.Equal(t, credit.BillingRunRunning, stored.Status)
	})

	t.Run("a run never picked up stops blocking new ones", func(t *testing.T) {
		e := newBillingEnv(t)
		_, err := e.rule.Start(ctx, credit.StartRequest{})
		require.NoError(t, err)
		e.advance(20 * time.Minute)
		_, err = e.rule.Start(ctx, credit.StartRequest{})
		assert.NoError(t, err)
	})

	t.Run("a run that could not be handed over is recorded failed", func(t *testing.T) {
		e := newBillingEnv(t)
		e.starter.err = errors.New("throttled")
		_, err := e.rule.Start(ctx, credit.StartRequest{})
		assert.Equal(t, credit.CodeBillingRunNotStarted, credit.ErrorCode(err))
		assert.Equal(t, credit.KindUnavailable, credit.ErrorKind(err))
		runs, _, err := e.rule.List(context.Background(), credit.Page{})
		require.NoError(t, err)
		require.Len(t, runs, 1)
		assert.Equal(t, credit.BillingRunFailed, runs[0].Status)
		assert.Equal(t, credit.CodeBillingRunNotStarted, runs[0].Errors[0].Code)
	})
}

// failingBillingStore fails the open-invoice reads, as an unreachable
// table does.
type failingBillingStore struct{ credit.BillingStore }

func (failingBillingStore) OpenInvoicesDue(context.Context, credit.OpenInvoiceQuery) ([]credit.Invoice, bool, error) {
	return nil, false, credit.Internal(errors.New("connection refused"), "dynamo: open invoices")
}

// TestBillingRuleErrorsForRetry: the function reports an error only for
// what a retry may fix: the table unreachable, not a bureau refusal.
func TestBillingRuleErrorsForRetry(t *testing.T) {
	e := newBillingEnv(t)
	c := e.customer(t, "c1", "b1", func(*credit.Party) {})
	e.invoice(t, c, "inv-1", 45, func(*credit.Invoice) {})
	e.rule.Store = failingBillingStore{e.billing}
	run, err := e.rule.RunScheduled(context.Background(), time.Time{})
	require.Error(t, err)
	assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
	assert.Equal(t, credit.BillingRunFailed, run.Status)
	stored, _ := e.billing.GetBillingRun(context.Background(), run.ID)
	assert.Equal(t, credit.BillingRunFailed, stored.Status)
	assert.Equal(t, credit.CodeInternal, stored.Errors[0].Code)
	assert.Equal(t, credit.InternalMessage, stored.Errors[0].Message, "no detail of the failure in the record")

	e.rule.Store = e.billing
	e.bureau.IncludeFault = func(credit.NegativationRequest) (bool, error) { return false, credit.BureauRejected("layout") }
	run, err = e.rule.RunScheduled(context.Background(), time.Time{})
	require.NoError(t, err, "a retry would not change the bureau's mind")
	assert.Equal(t, credit.BillingRunFinished, run.Status)
	assert.Equal(t, stored.ID, run.ResumedFrom, "the failed run of the day is resumed")
	assert.Equal(t, 1, run.Counts.Failed)
}

// countingParameters counts the reads of the parameters.
type countingParameters struct {
	credit.ParametersStore
	reads atomic.Int64
}

func (c *countingParameters) GetParameters(ctx context.Context) (credit.Parameters, error) {
	c.reads.Add(1)
	return c.ParametersStore.GetParameters(ctx)
}

// TestBillingRuleReadsOncePerWhile: a run does not read the parameters for
// every invoice, and still sees the master switch turned off within
// seconds: it stops there.
func TestBillingRuleReadsOncePerWhile(t *testing.T) {
	e := newBillingEnv(t)
	e.rule.Config.BureauConcurrency, e.rule.Config.Workers = 1, 1
	const invoices = 20
	for k := range invoices {
		c := e.customer(t, fmt.Sprintf("c%02d", k), "b1", func(*credit.Party) {})
		e.invoice(t, c, fmt.Sprintf("inv-%02d", k), 31+k, func(*credit.Invoice) {})
	}
	params := &countingParameters{ParametersStore: e.store}
	e.negs.Parameters = params
	var included atomic.Int64
	e.bureau.BeforeInclude = func(credit.NegativationRequest) error {
		e.advance(10 * time.Second)
		if included.Add(1) == 5 {
			require.NoError(t, e.store.PutParameters(context.Background(), credit.Parameters{}))
		}
		return nil
	}

	run := e.runScheduled(t)
	assert.Equal(t, credit.BillingRunFinished, run.Status)
	assert.GreaterOrEqual(t, run.Counts.Included, 5)
	assert.Less(t, run.Counts.Included, 10, "seen off within 30 s of the clock, at 10 s an inclusion")
	require.NotEmpty(t, run.Errors)
	assert.Equal(t, credit.CodeCreditAnalysisDisabled, run.Errors[len(run.Errors)-1].Code)
	includes, _, _, _ := e.bureau.Counts()
	assert.Equal(t, run.Counts.Included, includes, "nothing sent once seen off")
	assert.Less(t, params.reads.Load(), int64(run.Counts.Examined), "not one read per invoice")
}

// TestBillingRuleWalksIntegrationsTogether: integrations are walked a few
// at a time, so that one integration's pause (its removals ending, its
// sync) does not hold the others.
func TestBillingRuleWalksIntegrationsTogether(t *testing.T) {
	e := newBillingEnv(t)
	e.integrate(t, "b2", credit.Automation{Enabled: true, RestrictionCode: "PEF02", RemovalCode: "BX02", DaysAfterDue: 10})
	c1 := e.customer(t, "c-b1", "b1", func(*credit.Party) {})
	paid := e.invoice(t, c1, "inv-b1-paid", 40, func(*credit.Invoice) {})
	e.negativate(t, paid)
	e.settle(t, paid, credit.InvoicePaid)
	c2 := e.customer(t, "c-b2", "b2", func(*credit.Party) {})
	for k := range 3 {
		e.invoice(t, c2, fmt.Sprintf("inv-b2-%d", k), 40+k, func(*credit.Invoice) {})
	}
	// Every removal waits for an inclusion: with one integration's removals
	// pending and another's inclusions waiting, only integrations walked
	// together get through.
	met, once := make(chan struct{}), sync.Once{}
	e.bureau.BeforeRemove = func(credit.RemovalRequest) error {
		select {
		case <-met:
			return nil
		case <-time.After(10 * time.Second): // a guard against a hang, not a timing
			return errors.New("no inclusion came while the removal waited")
		}
	}
	e.bureau.BeforeInclude = func(credit.NegativationRequest) error {
		once.Do(func() { close(met) })
		return nil
	}
	run := e.runScheduled(t)
	assert.Equal(t, 3, run.Counts.Included, "%+v", run.Errors)
	assert.Equal(t, 1, run.Counts.Removed, "%+v", run.Errors)
}

// TestBillingRuleResumesAcrossIntegrations: a run stopped while several
// integrations were under way records each one's place; its continuation
// finishes them all, every invoice included once.
func TestBillingRuleResumesAcrossIntegrations(t *testing.T) {
	e := newBillingEnv(t)
	e.rule.Config.IntegrationsAtOnce = 2
	e.integrate(t, "b2", credit.Automation{Enabled: true, RestrictionCode: "PEF02", RemovalCode: "BX02", DaysAfterDue: 30})
	e.integrate(t, "b3", credit.Automation{Enabled: true, RestrictionCode: "PEF03", RemovalCode: "BX03", DaysAfterDue: 30})
	const each = 12
	for _, b := range []string{"b1", "b2", "b3"} {
		for k := range each {
			c := e.customer(t, fmt.Sprintf("c-%s-%02d", b, k), b, func(*credit.Party) {})
			e.invoice(t, c, fmt.Sprintf("inv-%s-%02d", b, k), 31+k, func(*credit.Invoice) {})
		}
	}
	e.tick(time.Minute)
	e.rule.Config.SafetyMargin = 5 * time.Minute

	first, err := e.rule.RunScheduled(context.Background(), billingNow.Add(20*time.Minute))
	require.NoError(t, err)
	require.Equal(t, credit.BillingRunStoppedAtDeadline, first.Status)
	require.NotEmpty(t, first.Position.Partial)
	for _, ip := range first.Position.Partial {
		assert.NotContains(t, first.Position.Done, ip.IntegrationID)
	}

	started := e.starter.ids()
	require.Len(t, started, 1)
	second, err := e.rule.Execute(context.Background(), started[0], time.Time{})
	require.NoError(t, err)
	assert.Equal(t, credit.BillingRunFinished, second.Status)
	assert.Equal(t, 3*each, first.Counts.Included+second.Counts.Included)
	assert.Equal(t, 3*each, first.Counts.Examined+second.Counts.Examined, "nothing examined twice")
	assert.Len(t, second.Position.Done, 3)
	assert.Empty(t, second.Position.Partial)
	includes, registered, _, _ := e.bureau.Counts()
	assert.Equal(t, 3*each, includes)
	assert.Equal(t, 3*each, registered)
}

// TestBillingRunDetailsKeptToBranches: a user kept to some branches reads a
// run's errors and position of its branches' integrations only (and the
// run's own errors); without branches, all of them.
func TestBillingRunDetailsKeptToBranches(t *testing.T) {
	e := newBillingEnv(t)
	other := e.integrate(t, "b2", credit.Automation{})
	ctx := context.Background()
	run := credit.BillingRun{ID: "run-1", Trigger: credit.TriggerSchedule, Status: credit.BillingRunFinished,
		StartedAt: billingNow, FinishedAt: billingNow, Version: 1,
		Errors: []credit.BillingRunError{
			{At: billingNow, IntegrationID: e.integration.ID, Code: "x1", Message: "b1"},
			{At: billingNow, IntegrationID: other.ID, Code: "x2", Message: "b2"},
			{At: billingNow, Code: "x3", Message: "the run's"},
			{At: billingNow, IntegrationID: "gone", Code: "x4", Message: "deleted since"},
		},
		Position: credit.BillingPosition{Done: []string{e.integration.ID, other.ID},
			Partial: []credit.IntegrationPosition{{IntegrationID: other.ID}}},
	}
	require.NoError(t, e.billing.CreateBillingRun(ctx, run))
	codes := func(r credit.BillingRun) []string {
		var out []string
		for _, x := range r.Errors {
			out = append(out, x.Code)
		}
		return out
	}
	tests := []struct {
		name     string
		branches credit.Branches
		codes    []string
		done     []string
		partial  int
	}{
		{"every branch", nil, []string{"x1", "x2", "x3", "x4"}, []string{e.integration.ID, other.ID}, 1},
		{"b1", credit.Branches{"b1"}, []string{"x1", "x3"}, []string{e.integration.ID}, 0},
		{"b2", credit.Branches{"b2"}, []string{"x2", "x3"}, []string{other.ID}, 1},
		{"none", credit.Branches{}, []string{"x3"}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			actx := credit.WithActor(ctx, credit.Actor{Subject: "u", Roles: []credit.Role{credit.RoleViewer}, Branches: tt.branches})
			got, err := e.rule.Get(actx, run.ID)
			require.NoError(t, err)
			assert.Equal(t, tt.codes, codes(got))
			assert.Equal(t, tt.done, got.Position.Done)
			assert.Len(t, got.Position.Partial, tt.partial)
			assert.Equal(t, run.Counts, got.Counts)
			list, _, err := e.rule.List(actx, credit.Page{})
			require.NoError(t, err)
			require.Len(t, list, 1)
			assert.Equal(t, tt.codes, codes(list[0]))
		})
	}
}
