package credit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
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

// consultBureau is a consultation bureau that keeps what it was asked.
type consultBureau struct {
	mu       sync.Mutex
	queries  []credit.ConsultQuery
	accts    []credit.BureauAccount
	consult  func(ctx context.Context, acct credit.BureauAccount, q credit.ConsultQuery) (credit.Report, error)
	offered  []credit.Plan
	plansErr error
	plans    int
}

func (b *consultBureau) Consult(ctx context.Context, acct credit.BureauAccount, q credit.ConsultQuery) (credit.Report, error) {
	b.mu.Lock()
	b.queries = append(b.queries, q)
	b.accts = append(b.accts, acct)
	b.mu.Unlock()
	if b.consult != nil {
		return b.consult(ctx, acct, q)
	}
	r := credittest.FullReport()
	return r, nil
}

func (b *consultBureau) Plans(_ context.Context, _ credit.BureauAccount) ([]credit.BureauPlan, error) {
	b.mu.Lock()
	b.plans++
	b.mu.Unlock()
	if b.plansErr != nil {
		return nil, b.plansErr
	}
	var out []credit.BureauPlan
	for _, p := range b.offered {
		out = append(out, credit.BureauPlan{Plan: p, ProductCode: "P-" + string(p), Name: p.Name()})
	}
	return out, nil
}

func (b *consultBureau) planCalls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.plans
}

func (b *consultBureau) calls() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.queries)
}

// fakeReports keeps PDFs in a map and records what it was asked to sign.
type fakeReports struct {
	mu      sync.Mutex
	objects map[string][]byte
	putErr  error
	ttls    []time.Duration
	now     func() time.Time
}

func (r *fakeReports) Put(_ context.Context, key string, pdf []byte) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.putErr != nil {
		return r.putErr
	}
	r.objects[key] = pdf
	return nil
}

func (r *fakeReports) Delete(_ context.Context, key string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.objects, key)
	return nil
}

func (r *fakeReports) Exists(_ context.Context, key string) (bool, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, ok := r.objects[key]
	return ok, nil
}

func (r *fakeReports) PresignGet(_ context.Context, key string, ttl time.Duration) (string, time.Time, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ttls = append(r.ttls, ttl)
	return "https://reports.example/" + key + "?signed", r.now().Add(ttl), nil
}

type fakeRenderer struct {
	mu      sync.Mutex
	renders []credit.ReportDocument
	err     error
}

func (f *fakeRenderer) Render(doc credit.ReportDocument) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.renders = append(f.renders, doc)
	if f.err != nil {
		return nil, f.err
	}
	return []byte("%PDF-1.4 " + doc.Consultation.ID), nil
}

type consultFixture struct {
	svc           *credit.ConsultationService
	store         *memory.Store
	consultations *memory.Consultations
	bureau        *consultBureau
	reports       *fakeReports
	renderer      *fakeRenderer
	integration   credit.Integration
	logs          *bytes.Buffer
	mu            sync.Mutex
	now           time.Time
}

func (f *consultFixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *consultFixture) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *consultFixture) setParameters(t *testing.T, enabled bool, days int) {
	require.NoError(t, f.store.PutParameters(context.Background(), credit.Parameters{CreditAnalysisEnabled: enabled, RepeatConsultationIntervalDays: days}))
}

const (
	testCPF  = "52998224725"
	testCNPJ = "11222333000181"
)

var analyst = credit.Actor{Subject: "analyst-1", Name: "Ana Analista", Roles: []credit.Role{credit.RoleAnalyst}}

func analystCtx() context.Context { return credit.WithActor(context.Background(), analyst) }

// newConsultFixture wires the service on fakes: switch on, interval 30
// days, branch b1 integrated (homologation, default plan Relatório +
// Score), customer c1 of branch b1 in SP, lead l-no-uf without UF.
func newConsultFixture(t *testing.T) *consultFixture {
	t.Helper()
	f := &consultFixture{
		store: memory.New(), consultations: memory.NewConsultations(), logs: &bytes.Buffer{},
		bureau:   &consultBureau{offered: []credit.Plan{credit.PlanNegativeIndicator, credit.PlanCrednetTop, credit.PlanReportScore}},
		renderer: &fakeRenderer{},
		now:      time.Date(2026, 3, 10, 15, 0, 0, 0, time.UTC),
	}
	f.consultations.Now = f.clock
	f.reports = &fakeReports{objects: map[string][]byte{}, now: f.clock}
	log := slog.New(slog.NewJSONHandler(f.logs, nil))
	n := 0
	var idMu sync.Mutex
	newID := func() string { idMu.Lock(); defer idMu.Unlock(); n++; return fmt.Sprintf("id-%d", n) }
	secrets := memory.NewSecrets()
	access := &credit.BureauAccess{Secrets: secrets, Consultation: f.bureau, Log: log}
	integrations := &credit.IntegrationService{Store: f.store, Secrets: secrets, Bureau: access, Now: f.clock, NewID: newID, Log: log}
	ctx := context.Background()
	i, err := integrations.Create(ctx, validNewIntegration("b1"))
	require.NoError(t, err)
	f.integration = i
	parties := &credit.PartyService{Store: f.store, Now: f.clock}
	_, _, err = parties.Put(ctx, credit.PartyCustomer, "c1", credit.PartyInput{BranchID: "b1", Document: "529.982.247-25", Name: "Maria da Silva",
		MobilePhone: "(11) 98765-4321", Address: credit.Address{CEP: "01310-100", UF: "sp"}})
	require.NoError(t, err)
	_, _, err = parties.Put(ctx, credit.PartyLead, "l-no-uf", credit.PartyInput{BranchID: "b1", Document: testCPF, Name: "Sem UF"})
	require.NoError(t, err)
	_, _, err = parties.Put(ctx, credit.PartyProspect, "p-elsewhere", credit.PartyInput{BranchID: "b9", Document: testCNPJ, Name: "Empresa"})
	require.NoError(t, err)
	f.setParameters(t, true, 30)
	f.svc = &credit.ConsultationService{
		Parameters: f.store, Integrations: integrations, Parties: f.store, Store: f.consultations,
		Bureau: access, Reports: f.reports, Renderer: f.renderer, Now: f.clock, NewID: newID, Log: log,
	}
	return f
}

func byDocument(doc, uf string) credit.ConsultationRequest {
	return credit.ConsultationRequest{Document: doc, BranchID: "b1", UF: uf}
}

func recorded(t *testing.T, f *consultFixture) []credit.Consultation {
	t.Helper()
	items, _, err := f.consultations.ListConsultations(context.Background(), credit.ConsultationFilter{}, credit.Page{Limit: 200})
	require.NoError(t, err)
	return items
}

func errorOf(t *testing.T, err error) *credit.Error {
	t.Helper()
	require.Error(t, err)
	e, ok := credit.AsError(err)
	require.True(t, ok, "not a *credit.Error: %v", err)
	return e
}

func TestConsultRefusedWhileTheSwitchIsOff(t *testing.T) {
	f := newConsultFixture(t)
	f.setParameters(t, false, 30)
	for _, req := range []credit.ConsultationRequest{byDocument(testCPF, "SP"), {}, byDocument("123", "")} {
		_, err := f.svc.Consult(analystCtx(), req)
		e := errorOf(t, err)
		assert.Equal(t, credit.CodeCreditAnalysisDisabled, e.Code, "the switch is checked before anything else")
		assert.Equal(t, credit.KindForbidden, e.Kind)
	}
	assert.Zero(t, f.bureau.calls())
	assert.Empty(t, recorded(t, f))
}

func TestConsultRequestValidation(t *testing.T) {
	party := func(kind credit.PartyKind, id string) *credit.PartyRef { return &credit.PartyRef{Kind: kind, ID: id} }
	tests := []struct {
		name   string
		req    credit.ConsultationRequest
		code   string
		fields []string
		field  string
	}{
		{"nothing", credit.ConsultationRequest{}, credit.CodeValidation, []string{"document", "branchId"}, ""},
		{"document without branch", credit.ConsultationRequest{Document: testCPF, UF: "SP"}, credit.CodeValidation, []string{"branchId"}, ""},
		{"party and document", credit.ConsultationRequest{Party: party(credit.PartyCustomer, "c1"), Document: testCPF, BranchID: "b1", UF: "SP"}, credit.CodeValidation, []string{"document", "branchId", "uf"}, ""},
		{"party of unknown kind and bad id", credit.ConsultationRequest{Party: party("client", "a/b")}, credit.CodeValidation, []string{"party.kind", "party.id"}, ""},
		{"invalid CPF", byDocument("529.982.247-24", "SP"), credit.CodeInvalidDocument, nil, "document"},
		{"invalid CNPJ", byDocument("11.222.333/0001-80", ""), credit.CodeInvalidDocument, nil, "document"},
		{"garbage document", byDocument("abc", "SP"), credit.CodeInvalidDocument, nil, "document"},
		{"CPF without UF", byDocument(testCPF, ""), credit.CodeUFRequired, nil, "uf"},
		{"CPF with an unknown UF", byDocument(testCPF, "XX"), credit.CodeUFRequired, nil, "uf"},
		{"CNPJ with an unknown UF", byDocument(testCNPJ, "ZZ"), credit.CodeUFRequired, nil, "uf"},
		{"plan all at consultation time", credit.ConsultationRequest{Document: testCPF, BranchID: "b1", UF: "SP", Plan: "all"}, credit.CodeInvalidPlan, nil, ""},
		{"unknown plan", credit.ConsultationRequest{Document: testCPF, BranchID: "b1", UF: "SP", Plan: "gold"}, credit.CodeInvalidPlan, nil, ""},
		{"invalid document beats a branch without integration", credit.ConsultationRequest{Document: "1", BranchID: "nowhere"}, credit.CodeInvalidDocument, nil, "document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newConsultFixture(t)
			_, err := f.svc.Consult(analystCtx(), tt.req)
			e := errorOf(t, err)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, credit.KindInvalid, e.Kind)
			if tt.fields != nil {
				assert.ElementsMatch(t, tt.fields, e.Details["fields"])
			}
			if tt.field != "" {
				assert.Equal(t, tt.field, e.Details["field"])
			}
			assert.Zero(t, f.bureau.calls(), "nothing is charged")
			assert.Empty(t, recorded(t, f))
		})
	}
}

func TestConsultAcceptsDocumentsInEveryForm(t *testing.T) {
	for _, tt := range []struct{ doc, uf, want string }{
		{"529.982.247-25", "sp", testCPF},
		{"11.222.333/0001-81", "", testCNPJ},
		{"12.abc.345/01de-35", "", "12ABC34501DE35"},
	} {
		t.Run(tt.doc, func(t *testing.T) {
			f := newConsultFixture(t)
			out, err := f.svc.Consult(analystCtx(), byDocument(tt.doc, tt.uf))
			require.NoError(t, err)
			assert.Equal(t, tt.want, out.Consultation.Document.Number())
			assert.Equal(t, tt.want, f.bureau.queries[0].Document.Number())
			assert.Equal(t, map[string]string{"sp": "SP"}[tt.uf], f.bureau.queries[0].UF)
		})
	}
}

func TestConsultByParty(t *testing.T) {
	t.Run("uses the party's document, branch, UF, CEP and phone, and records the party", func(t *testing.T) {
		f := newConsultFixture(t)
		out, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}})
		require.NoError(t, err)
		q := f.bureau.queries[0]
		assert.Equal(t, credit.ConsultQuery{Document: credit.MustParseDocument(testCPF), Plan: credit.PlanReportScore, UF: "SP", CEP: "01310100", Phone: "11987654321"}, q)
		c := out.Consultation
		assert.Equal(t, &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}, c.Party)
		assert.Equal(t, "b1", c.BranchID)
		onParty, _, err := f.svc.ListByParty(context.Background(), credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}, credit.Page{})
		require.NoError(t, err)
		assert.Equal(t, []string{c.ID}, []string{onParty[0].ID}, "the record appears on the party")
	})
	t.Run("unknown party", func(t *testing.T) {
		f := newConsultFixture(t)
		_, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyLead, ID: "c1"}})
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "kinds are separate")
		assert.Zero(t, f.bureau.calls())
	})
	t.Run("a CPF party without UF", func(t *testing.T) {
		f := newConsultFixture(t)
		_, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyLead, ID: "l-no-uf"}})
		e := errorOf(t, err)
		assert.Equal(t, credit.CodeUFRequired, e.Code)
		assert.Equal(t, "party.address.uf", e.Details["field"])
		assert.Zero(t, f.bureau.calls())
	})
	t.Run("a party whose branch has no integration", func(t *testing.T) {
		f := newConsultFixture(t)
		_, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyProspect, ID: "p-elsewhere"}})
		e := errorOf(t, err)
		assert.Equal(t, credit.CodeBranchWithoutIntegration, e.Code)
		assert.Equal(t, "b9", e.Details["branchId"])
	})
	t.Run("list of an unknown party", func(t *testing.T) {
		f := newConsultFixture(t)
		_, _, err := f.svc.ListByParty(context.Background(), credit.PartyRef{Kind: credit.PartyCustomer, ID: "ghost"}, credit.Page{})
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})
}

func TestConsultBranchWithoutIntegration(t *testing.T) {
	f := newConsultFixture(t)
	_, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Document: testCPF, BranchID: "b2", UF: "SP"})
	e := errorOf(t, err)
	assert.Equal(t, credit.CodeBranchWithoutIntegration, e.Code)
	assert.Equal(t, credit.KindUnprocessable, e.Kind)
	assert.Zero(t, f.bureau.calls())
}

func TestConsultPlan(t *testing.T) {
	setDefault := func(t *testing.T, f *consultFixture, p credit.Plan) {
		_, err := f.store.UpdateIntegration(context.Background(), f.integration.ID, func(i *credit.Integration) error { i.DefaultPlan = p; return nil })
		require.NoError(t, err)
	}
	t.Run("default all without a plan: plan_required", func(t *testing.T) {
		f := newConsultFixture(t)
		setDefault(t, f, credit.PlanAll)
		_, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		e := errorOf(t, err)
		assert.Equal(t, credit.CodePlanRequired, e.Code)
		assert.Equal(t, credit.KindInvalid, e.Kind)
		assert.Zero(t, f.bureau.calls())
	})
	t.Run("default all with a plan: the request's", func(t *testing.T) {
		f := newConsultFixture(t)
		setDefault(t, f, credit.PlanAll)
		req := byDocument(testCPF, "SP")
		req.Plan = "negative_indicator"
		out, err := f.svc.Consult(analystCtx(), req)
		require.NoError(t, err)
		assert.Equal(t, credit.PlanNegativeIndicator, out.Consultation.Plan)
		assert.Equal(t, credit.PlanNegativeIndicator, f.bureau.queries[0].Plan)
	})
	t.Run("no plan: the integration's default", func(t *testing.T) {
		f := newConsultFixture(t)
		out, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.NoError(t, err)
		assert.Equal(t, credit.PlanReportScore, out.Consultation.Plan)
		assert.Empty(t, out.Consultation.Warnings)
	})
	t.Run("a plan the account does not offer: invalid_plan naming the offered ones", func(t *testing.T) {
		f := newConsultFixture(t)
		f.bureau.offered = []credit.Plan{credit.PlanReportScore}
		req := byDocument(testCPF, "SP")
		req.Plan = "crednet_top"
		_, err := f.svc.Consult(analystCtx(), req)
		e := errorOf(t, err)
		assert.Equal(t, credit.CodeInvalidPlan, e.Code)
		assert.Equal(t, []string{"report_score"}, e.Details["offeredPlans"])
		assert.Zero(t, f.bureau.calls())
	})
	t.Run("a default the account no longer offers", func(t *testing.T) {
		f := newConsultFixture(t)
		f.bureau.offered = []credit.Plan{credit.PlanCrednetTop}
		_, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		assert.Equal(t, credit.CodeInvalidPlan, credit.ErrorCode(err))
	})
	t.Run("the bureau down while listing plans: a recorded failure, nothing consulted", func(t *testing.T) {
		f := newConsultFixture(t)
		f.bureau.plansErr = credit.BureauUnavailable(errors.New("connection refused"))
		_, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		e := errorOf(t, err)
		assert.Equal(t, credit.CodeBureauUnavailable, e.Code)
		assert.Zero(t, f.bureau.calls())
		all := recorded(t, f)
		require.Len(t, all, 1)
		assert.Equal(t, credit.ConsultationFailed, all[0].Status)
		assert.Equal(t, all[0].ID, e.Details["consultationId"])
	})
	t.Run("a deprecated plan works, with a warning", func(t *testing.T) {
		for _, p := range []credit.Plan{credit.PlanCrednetTop, credit.PlanNegativeIndicator} {
			f := newConsultFixture(t)
			req := byDocument(testCPF, "SP")
			req.Plan = string(p)
			out, err := f.svc.Consult(analystCtx(), req)
			require.NoError(t, err)
			require.Len(t, out.Consultation.Warnings, 1)
			assert.Equal(t, credit.WarningDeprecatedPlan, out.Consultation.Warnings[0].Code)
			assert.Contains(t, out.Consultation.Warnings[0].Message, "Relatório + Score")
			stored, err := f.consultations.GetConsultation(context.Background(), out.Consultation.ID)
			require.NoError(t, err)
			assert.Equal(t, out.Consultation.Warnings, stored.Warnings, "the warning is recorded")
		}
	})
}

func TestConsultRepeatInterval(t *testing.T) {
	first := func(t *testing.T, f *consultFixture) credit.Consultation {
		out, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.NoError(t, err)
		return out.Consultation
	}
	t.Run("inside the interval: 409 naming the earlier one, no bureau call", func(t *testing.T) {
		f := newConsultFixture(t)
		prev := first(t, f)
		f.advance(29*24*time.Hour + 23*time.Hour)
		_, err := f.svc.Consult(analystCtx(), byDocument("529.982.247-25", "RJ"))
		e := errorOf(t, err)
		assert.Equal(t, credit.CodeRepeatConsultation, e.Code)
		assert.Equal(t, credit.KindConflict, e.Kind)
		assert.Equal(t, prev.ID, e.Details["previousConsultationId"])
		assert.Equal(t, prev.CreatedAt.Format(time.RFC3339), e.Details["previousAt"])
		assert.Equal(t, 30, e.Details["intervalDays"])
		assert.Contains(t, e.Message, "10/03/2026 às 12:00", "São Paulo time")
		assert.NotContains(t, e.Message, testCPF)
		assert.Equal(t, 1, f.bureau.calls())
		assert.Len(t, recorded(t, f), 1, "a refusal records nothing")
	})
	t.Run("only production says the repeat is charged", func(t *testing.T) {
		for env, charged := range map[credit.Environment]bool{credit.EnvironmentHomologation: false, credit.EnvironmentProduction: true} {
			f := newConsultFixture(t)
			_, err := f.store.UpdateIntegration(context.Background(), f.integration.ID, func(i *credit.Integration) error {
				i.Environment = env
				return nil
			})
			require.NoError(t, err)
			first(t, f)
			f.advance(24 * time.Hour)
			_, err = f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
			e := errorOf(t, err)
			assert.Equal(t, charged, strings.Contains(e.Message, "será cobrada"), "%s: %s", env, e.Message)
			assert.Contains(t, e.Message, "Confirme para consultar novamente", "%s", env)
		}
	})
	t.Run("confirmed: consulted again, with a warning", func(t *testing.T) {
		f := newConsultFixture(t)
		prev := first(t, f)
		f.advance(time.Hour)
		req := byDocument(testCPF, "SP")
		req.ConfirmRepeat = true
		out, err := f.svc.Consult(analystCtx(), req)
		require.NoError(t, err)
		assert.Equal(t, 2, f.bureau.calls())
		require.Len(t, out.Consultation.Warnings, 1)
		assert.Equal(t, credit.WarningRepeatConfirmed, out.Consultation.Warnings[0].Code)
		assert.Contains(t, out.Consultation.Warnings[0].Message, prev.ID)
	})
	t.Run("exactly the interval later: no warning", func(t *testing.T) {
		f := newConsultFixture(t)
		first(t, f)
		f.advance(30 * 24 * time.Hour)
		_, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.NoError(t, err)
	})
	t.Run("interval 0: never", func(t *testing.T) {
		f := newConsultFixture(t)
		f.setParameters(t, true, 0)
		first(t, f)
		_, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.NoError(t, err)
		assert.Equal(t, 2, f.bureau.calls())
	})
	t.Run("another document is not affected", func(t *testing.T) {
		f := newConsultFixture(t)
		first(t, f)
		_, err := f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
		require.NoError(t, err)
	})
	t.Run("by party and by document are the same document", func(t *testing.T) {
		f := newConsultFixture(t)
		first(t, f)
		_, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}})
		assert.Equal(t, credit.CodeRepeatConsultation, credit.ErrorCode(err))
	})
	t.Run("a failed consultation does not count", func(t *testing.T) {
		f := newConsultFixture(t)
		f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
			return credit.Report{}, credit.BureauUnavailable(errors.New("503"))
		}
		_, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.Error(t, err)
		f.bureau.consult = nil
		_, err = f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.NoError(t, err, "the failure neither counts nor leaves the document marked")
	})
}

// TestConcurrentConsultationsOfOneDocumentChargeOnce: while one
// consultation of a document is at the bureau, another of the same document
// is refused at once and charges nothing, whatever the interval, a
// confirmed repeat included.
func TestConcurrentConsultationsOfOneDocumentChargeOnce(t *testing.T) {
	tests := []struct {
		name    string
		days    int
		confirm bool
		// after is what a consultation answers once the first one ended.
		after string
	}{
		{name: "interval 30", days: 30, after: credit.CodeRepeatConsultation},
		{name: "interval 30, repeat confirmed", days: 30, confirm: true},
		{name: "interval 0", days: 0},
		{name: "interval 0, repeat confirmed", days: 0, confirm: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newConsultFixture(t)
			f.setParameters(t, true, tt.days)
			entered, release := make(chan struct{}), make(chan struct{})
			var calls atomic.Int64
			f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
				if calls.Add(1) == 1 {
					close(entered)
					<-release
				}
				return credittest.FullReport(), nil
			}
			req := byDocument(testCPF, "SP")
			req.ConfirmRepeat = tt.confirm
			done := make(chan error)
			go func() {
				_, err := f.svc.Consult(analystCtx(), req)
				done <- err
			}()
			<-entered
			_, err := f.svc.Consult(analystCtx(), req)
			assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err), "the second one waits for nobody and charges nothing")
			close(release)
			require.NoError(t, <-done)
			assert.EqualValues(t, 1, calls.Load(), "charged once")

			_, err = f.svc.Consult(analystCtx(), req)
			assert.Equal(t, tt.after, credit.ErrorCode(err), "afterwards the mark is gone and the interval applies")
		})
	}
}

func TestConsultSuccessIsRecorded(t *testing.T) {
	f := newConsultFixture(t)
	out, err := f.svc.Consult(analystCtx(), byDocument("529.982.247-25", "SP"))
	require.NoError(t, err)
	c := out.Consultation
	report := credittest.FullReport()
	want := credit.Consultation{
		ID: c.ID, CreatedAt: f.clock(), Status: credit.ConsultationSucceeded, Document: credit.MustParseDocument(testCPF), UF: "SP",
		Plan: credit.PlanReportScore, IntegrationID: f.integration.ID, BranchID: "b1", Environment: credit.EnvironmentHomologation,
		RequestedBy: credit.Actor{Subject: "analyst-1", Name: "Ana Analista"}, Overview: report.Overview(), Report: &report, PDFKey: c.PDFKey,
		Protocol: report.Protocol,
	}
	assert.Equal(t, want, c)
	stored, err := f.svc.Get(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, want, stored)
	assert.Equal(t, "Maria da Conceição Araújo", stored.Overview.Name)
	assert.Equal(t, 412, *stored.Overview.Score)

	assert.Equal(t, f.integration.Login, f.bureau.accts[0].Credentials.Login)
	assert.Equal(t, "Abcd@123", f.bureau.accts[0].Credentials.ConsultationPassword, "the password comes from the secret store")

	t.Run("the PDF is not made before answering; its first download renders it under a random key", func(t *testing.T) {
		assert.Regexp(t, regexp.MustCompile(`^reports/2026/03/[0-9a-f]{32}\.pdf$`), c.PDFKey)
		assert.NotContains(t, c.PDFKey, testCPF)
		assert.Empty(t, f.renderer.renders, "nothing rendered on the consultation's path")
		assert.Empty(t, f.reports.objects, "nothing stored on the consultation's path")
		u, err := f.svc.ReportURL(context.Background(), c.ID)
		require.NoError(t, err)
		assert.Equal(t, []byte("%PDF-1.4 "+c.ID), f.reports.objects[c.PDFKey])
		require.Len(t, f.renderer.renders, 1)
		assert.Equal(t, c.ID, f.renderer.renders[0].Consultation.ID)
		assert.NotNil(t, f.renderer.renders[0].Consultation.Report)
		assert.Equal(t, f.clock().Add(5*time.Minute), u.ExpiresAt)
		assert.Equal(t, []time.Duration{credit.ReportURLTTL}, f.reports.ttls)
		assert.LessOrEqual(t, credit.ReportURLTTL, 5*time.Minute)
		f.advance(time.Second)
		again, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Document: testCNPJ, BranchID: "b1"})
		require.NoError(t, err)
		assert.NotEqual(t, c.PDFKey, again.Consultation.PDFKey)
	})
	t.Run("no full document in the logs", func(t *testing.T) {
		assert.Contains(t, f.logs.String(), "***.982.247-**")
		assert.NotContains(t, f.logs.String(), testCPF)
		assert.NotContains(t, f.logs.String(), "Abcd@123")
	})
}

func TestConsultBureauFailureIsRecorded(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code string
		kind credit.Kind
	}{
		{"unavailable", credit.BureauUnavailable(errors.New("dial tcp: refused")), credit.CodeBureauUnavailable, credit.KindBadGateway},
		{"timeout", credit.BureauTimeout(context.DeadlineExceeded), credit.CodeBureauUnavailable, credit.KindBadGateway},
		{"rejected", credit.BureauRejected("Documento CANCELADO."), credit.CodeBureauRejected, credit.KindUnprocessable},
		{"bad credentials", credit.BureauBadCredentials(credit.CredentialConsultation), credit.CodeBureauBadCredentials, credit.KindUnprocessable},
		{"malformed", credit.BureauMalformedAnswer(errors.New("unexpected EOF")), credit.CodeBureauMalformedAnswer, credit.KindBadGateway},
		{"unexpected", errors.New("boom"), credit.CodeInternal, credit.KindInternal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newConsultFixture(t)
			f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
				return credit.Report{}, tt.err
			}
			_, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
			e := errorOf(t, err)
			assert.Equal(t, tt.code, e.Code)
			assert.Equal(t, tt.kind, e.Kind)
			all := recorded(t, f)
			require.Len(t, all, 1)
			c := all[0]
			assert.Equal(t, credit.ConsultationFailed, c.Status)
			assert.Equal(t, tt.code, c.ErrorCode)
			assert.Empty(t, c.PDFKey)
			assert.Nil(t, c.Report)
			assert.Empty(t, f.reports.objects)
			if tt.kind != credit.KindInternal {
				assert.Equal(t, c.ID, e.Details["consultationId"], "the caller can find the record")
			}
			if tt.code == credit.CodeBureauRejected {
				assert.Equal(t, "Documento CANCELADO.", e.Details["bureauMessage"], "the bureau's details stay")
				assert.Contains(t, c.ErrorMessage, "Documento CANCELADO.")
			}
			if tt.kind == credit.KindInternal {
				assert.Equal(t, credit.InternalMessage, c.ErrorMessage, "internal detail is never recorded for callers")
			}
			assert.NotContains(t, f.logs.String(), testCPF)
		})
	}
}

func TestConsultRecordsEvenWhenTheCallerHasGone(t *testing.T) {
	f := newConsultFixture(t)
	ctx, cancel := context.WithCancel(analystCtx())
	f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
		cancel() // the client hangs up while the bureau answers
		return credittest.FullReport(), nil
	}
	ctxStore := &ctxCheckingStore{ConsultationStore: f.consultations}
	f.svc.Store = ctxStore
	_, err := f.svc.Consult(ctx, byDocument(testCPF, "SP"))
	require.NoError(t, err)
	assert.NoError(t, ctxStore.createCtxErr, "the record is written with a live context")
	assert.Len(t, recorded(t, f), 1)
}

type ctxCheckingStore struct {
	credit.ConsultationStore
	createCtxErr error
}

func (s *ctxCheckingStore) CreateConsultation(ctx context.Context, c credit.Consultation) error {
	s.createCtxErr = ctx.Err()
	return s.ConsultationStore.CreateConsultation(ctx, c)
}

func (s *ctxCheckingStore) CreateConsultationUnlocking(ctx context.Context, c credit.Consultation, owner string) error {
	s.createCtxErr = ctx.Err()
	return s.ConsultationStore.CreateConsultationUnlocking(ctx, c, owner)
}

func TestReportURLWhenThePDFCannotBeMadeNow(t *testing.T) {
	for _, tt := range []struct {
		name  string
		setup func(*consultFixture)
	}{
		{"render fails", func(f *consultFixture) { f.renderer.err = errors.New("font missing") }},
		{"upload fails", func(f *consultFixture) { f.reports.putErr = errors.New("s3 down") }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newConsultFixture(t)
			tt.setup(f)
			out, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
			require.NoError(t, err, "the PDF is not on the consultation's path")
			assert.Empty(t, out.Consultation.Warnings)
			assert.Len(t, recorded(t, f), 1)

			_, err = f.svc.ReportURL(context.Background(), out.Consultation.ID)
			require.Error(t, err)
			assert.NotContains(t, f.reports.objects, out.Consultation.PDFKey)

			f.renderer.err, f.reports.putErr = nil, nil
			u, err := f.svc.ReportURL(context.Background(), out.Consultation.ID)
			require.NoError(t, err, "the next download renders it")
			assert.Contains(t, u.URL, out.Consultation.PDFKey)
			assert.Contains(t, f.reports.objects, out.Consultation.PDFKey)
		})
	}
}

func TestReportURL(t *testing.T) {
	f := newConsultFixture(t)
	out, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
	require.NoError(t, err)
	id, key := out.Consultation.ID, out.Consultation.PDFKey
	_, err = f.svc.ReportURL(context.Background(), id)
	require.NoError(t, err, "the first download renders the PDF")
	renders := len(f.renderer.renders)

	f.advance(time.Hour)
	u, err := f.svc.ReportURL(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, "https://reports.example/"+key+"?signed", u.URL)
	assert.Equal(t, f.clock().Add(5*time.Minute), u.ExpiresAt)
	assert.Equal(t, renders, len(f.renderer.renders), "a stored PDF is not rendered again")
	for _, ttl := range f.reports.ttls {
		assert.LessOrEqual(t, ttl, 5*time.Minute)
		assert.Positive(t, ttl)
	}

	t.Run("expired from the bucket: rendered again from the record", func(t *testing.T) {
		delete(f.reports.objects, key)
		_, err := f.svc.ReportURL(context.Background(), id)
		require.NoError(t, err)
		assert.Contains(t, f.reports.objects, key)
		last := f.renderer.renders[len(f.renderer.renders)-1]
		assert.Equal(t, f.clock(), last.GeneratedAt)
		assert.Equal(t, out.Consultation.CreatedAt, last.Consultation.CreatedAt)
	})
	t.Run("a failed consultation has no report", func(t *testing.T) {
		f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
			return credit.Report{}, credit.BureauRejected("não")
		}
		_, err := f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
		failedID := errorOf(t, err).Details["consultationId"].(string)
		_, err = f.svc.ReportURL(context.Background(), failedID)
		e := errorOf(t, err)
		assert.Equal(t, credit.CodeReportUnavailable, e.Code)
		assert.Equal(t, credit.KindNotFound, e.Kind)
	})
	t.Run("unknown consultation", func(t *testing.T) {
		_, err := f.svc.ReportURL(context.Background(), "nope")
		assert.Equal(t, credit.CodeNotFound, credit.ErrorCode(err))
	})
}

func TestConsultationListValidation(t *testing.T) {
	f := newConsultFixture(t)
	d := func(s string) credit.Date { x, _ := credit.ParseDate(s); return x }
	tests := []struct {
		name   string
		f      credit.ConsultationFilter
		fields []string
	}{
		{"to before from", credit.ConsultationFilter{From: d("2026-02-02"), To: d("2026-02-01")}, []string{"to"}},
		{"plan all is no consultation plan", credit.ConsultationFilter{Plan: credit.PlanAll}, []string{"plan"}},
		{"unknown status", credit.ConsultationFilter{Status: "pending"}, []string{"status"}},
		{"same day is fine", credit.ConsultationFilter{From: d("2026-02-01"), To: d("2026-02-01")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := f.svc.List(context.Background(), tt.f, credit.Page{})
			if tt.fields == nil {
				require.NoError(t, err)
				return
			}
			e := errorOf(t, err)
			assert.Equal(t, credit.CodeValidation, e.Code)
			assert.Equal(t, tt.fields, e.Details["fields"])
		})
	}
}

func TestConsultationFilterRangeIsSaoPauloDays(t *testing.T) {
	d, _ := credit.ParseDate("2026-01-31")
	from, until := credit.ConsultationFilter{From: d, To: d}.Range()
	assert.Equal(t, time.Date(2026, 1, 31, 3, 0, 0, 0, time.UTC), from)
	assert.Equal(t, time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC), until)
	f := credit.ConsultationFilter{From: d, To: d}
	assert.True(t, f.Matches(credit.Consultation{CreatedAt: time.Date(2026, 2, 1, 2, 59, 0, 0, time.UTC)}))
	assert.False(t, f.Matches(credit.Consultation{CreatedAt: time.Date(2026, 2, 1, 3, 0, 0, 0, time.UTC)}))
	assert.False(t, f.Matches(credit.Consultation{CreatedAt: time.Date(2026, 1, 31, 2, 59, 0, 0, time.UTC)}))
}

// TestConsultWithinTheRequestsDeadline: a bureau slower than the request is
// cut before the deadline; the consultation is recorded failed and the
// answer is bureau_unavailable naming it.
func TestConsultWithinTheRequestsDeadline(t *testing.T) {
	f := newConsultFixture(t)
	f.svc.Bureau.Margin = 100 * time.Millisecond
	f.bureau.consult = func(ctx context.Context, _ credit.BureauAccount, _ credit.ConsultQuery) (credit.Report, error) {
		if err := bureauTooSlow(ctx); err != nil {
			return credit.Report{}, err
		}
		return credittest.FullReport(), nil
	}
	deadline := time.Now().Add(500 * time.Millisecond)
	ctx, cancel := context.WithDeadline(analystCtx(), deadline)
	defer cancel()

	_, err := f.svc.Consult(ctx, byDocument(testCPF, "SP"))

	assert.True(t, time.Now().Before(deadline), "the answer comes before the request's deadline")
	e := errorOf(t, err)
	assert.Equal(t, credit.CodeBureauUnavailable, e.Code)
	assert.Equal(t, credit.KindBadGateway, e.Kind)
	all := recorded(t, f)
	require.Len(t, all, 1)
	assert.Equal(t, credit.ConsultationFailed, all[0].Status)
	assert.Equal(t, all[0].ID, e.Details["consultationId"])
}

// failingArchive refuses every report.
type failingArchive struct{}

func (failingArchive) PutReport(context.Context, string, credit.Report) error {
	return credit.Internal(errors.New("injected: bucket down"), "archive")
}

func (failingArchive) GetReport(context.Context, string) (credit.Report, error) {
	return credit.Report{}, credit.NotFound("Relatório")
}

func (failingArchive) DeleteReport(context.Context, string) error {
	return credit.Internal(errors.New("injected: bucket down"), "archive")
}

// TestConsultLargeReport: the full report goes to the archive, the record
// keeps the overview and the protocol; when the archive fails after the
// bureau answered, a record without the report keeps the protocol, and the
// report is answered this once.
func TestConsultLargeReport(t *testing.T) {
	large := credittest.LargeReport(15000)
	t.Run("archived, recorded without it, read back whole", func(t *testing.T) {
		f := newConsultFixture(t)
		f.svc.Archive = memory.NewReports()
		f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
			return large, nil
		}
		out, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.NoError(t, err)
		stored, err := f.consultations.GetConsultation(context.Background(), out.Consultation.ID)
		require.NoError(t, err)
		assert.Nil(t, stored.Report, "the record does not hold the report")
		assert.NotEmpty(t, stored.ReportKey)
		assert.Equal(t, large.Protocol, stored.Protocol)
		assert.Equal(t, 15000, stored.Overview.Occurrences)
		got, err := f.svc.Get(context.Background(), out.Consultation.ID)
		require.NoError(t, err)
		require.NotNil(t, got.Report)
		assert.Len(t, got.Report.Pendencies.Entries, 15000)
		assert.Equal(t, len(large.Raw), len(got.Report.Raw))
	})
	t.Run("the archive fails: a minimal record with the protocol", func(t *testing.T) {
		f := newConsultFixture(t)
		f.svc.Archive = failingArchive{}
		f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
			return large, nil
		}
		out, err := f.svc.Consult(analystCtx(), byDocument(testCPF, "SP"))
		require.NoError(t, err, "recorded: the charge is not answered as an error")
		require.NotNil(t, out.Consultation.Report, "the report is answered this once")
		assert.Len(t, out.Consultation.Report.Pendencies.Entries, 15000)
		require.Len(t, out.Consultation.Warnings, 1)
		assert.Equal(t, credit.WarningReportNotKept, out.Consultation.Warnings[0].Code)
		assert.Contains(t, out.Consultation.Warnings[0].Message, large.Protocol)
		all := recorded(t, f)
		require.Len(t, all, 1)
		assert.Equal(t, credit.ConsultationSucceeded, all[0].Status)
		assert.Equal(t, large.Protocol, all[0].Protocol)
		assert.Equal(t, testCPF, all[0].Document.Number())
		assert.Empty(t, all[0].ReportKey, "the record points at no report")
		assert.Contains(t, f.logs.String(), large.Protocol, "the protocol is logged for reconciliation")
	})
}

// archiveAfterRecord is an archive that stores a report only once the
// record's write has started, and fails it when fail is set: it shows the
// archive and the record written at the same time.
type archiveAfterRecord struct {
	credit.ReportArchive
	recording chan struct{}
	fail      bool
}

func (a *archiveAfterRecord) PutReport(ctx context.Context, key string, r credit.Report) error {
	select {
	case <-a.recording:
	case <-time.After(5 * time.Second):
		return credit.Internal(errors.New("the record was not written while the report was archived"), "archive")
	}
	if a.fail {
		return credit.Internal(errors.New("injected: bucket down"), "archive")
	}
	return a.ReportArchive.PutReport(ctx, key, r)
}

// recordSignallingStore closes recording when a record's write starts.
type recordSignallingStore struct {
	credit.ConsultationStore
	recording chan struct{}
}

func (s *recordSignallingStore) CreateConsultationUnlocking(ctx context.Context, c credit.Consultation, owner string) error {
	close(s.recording)
	return s.ConsultationStore.CreateConsultationUnlocking(ctx, c, owner)
}

// TestReportArchivedWhileRecorded: the archive and the record are written
// at the same time, not one after the other; when the archive fails after
// the record was written, the record is left without the report it would
// point at, the report is answered this once with a warning, and the mark
// on the document is released all the same.
func TestReportArchivedWhileRecorded(t *testing.T) {
	for _, fail := range []bool{false, true} {
		t.Run(map[bool]string{false: "both written", true: "the archive fails"}[fail], func(t *testing.T) {
			f := newConsultFixture(t)
			recording := make(chan struct{})
			f.svc.Store = &recordSignallingStore{ConsultationStore: f.consultations, recording: recording}
			f.svc.Archive = &archiveAfterRecord{ReportArchive: memory.NewReports(), recording: recording, fail: fail}
			out, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}})
			all := recorded(t, f)
			require.Len(t, all, 1)
			stored, gerr := f.consultations.GetConsultation(context.Background(), all[0].ID)
			require.NoError(t, gerr)
			if !fail {
				require.NoError(t, err)
				assert.Equal(t, out.Consultation.ID, stored.ID)
				assert.NotEmpty(t, stored.ReportKey)
				got, err := f.svc.Get(context.Background(), stored.ID)
				require.NoError(t, err)
				assert.NotNil(t, got.Report, "read back from the archive")
			} else {
				require.NoError(t, err)
				assert.Equal(t, credit.WarningReportNotKept, out.Consultation.Warnings[0].Code)
				assert.Equal(t, stored.WithoutReport(), stored, "no report, overview or PDF to point at")
				assert.NotEmpty(t, stored.Protocol)
				assert.NotNil(t, stored.Party, "still the party's")
				assert.Contains(t, f.logs.String(), stored.Protocol, "the protocol is logged for reconciliation")
				_, err = f.svc.ReportURL(context.Background(), stored.ID)
				assert.Equal(t, credit.CodeReportUnavailable, credit.ErrorCode(err))
				assert.Contains(t, credit.ErrorMessage(err), stored.Protocol)
			}
			_, _, err = f.consultations.LockDocument(context.Background(), stored.Document, "next", time.Minute)
			assert.NoError(t, err, "the mark was released")
		})
	}
}

func TestReportRetention(t *testing.T) {
	const retention = 90 * 24 * time.Hour
	f := newConsultFixture(t)
	f.svc.ReportRetention = retention
	out, err := f.svc.Consult(analystCtx(), credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}})
	require.NoError(t, err)
	c := out.Consultation
	assert.Equal(t, c.CreatedAt.Add(retention), c.ReportExpiresAt, "stamped at creation")
	stored, err := f.consultations.GetConsultation(context.Background(), c.ID)
	require.NoError(t, err)
	assert.Equal(t, c.ReportExpiresAt, stored.ReportExpiresAt, "recorded with the consultation")

	minimal := credit.Consultation{ID: c.ID, CreatedAt: c.CreatedAt, Status: credit.ConsultationSucceeded, Document: c.Document,
		Plan: c.Plan, IntegrationID: c.IntegrationID, BranchID: c.BranchID, Environment: c.Environment,
		Protocol: c.Protocol, RequestedBy: c.RequestedBy, ReportExpiresAt: c.ReportExpiresAt}
	list := func(t *testing.T) credit.Consultation {
		items, _, err := f.svc.List(context.Background(), credit.ConsultationFilter{}, credit.Page{})
		require.NoError(t, err)
		require.Len(t, items, 1)
		return items[0]
	}
	byParty := func(t *testing.T) credit.Consultation {
		items, _, err := f.svc.ListByParty(context.Background(), *c.Party, credit.Page{})
		require.NoError(t, err)
		require.Len(t, items, 1)
		return items[0]
	}

	for _, tc := range []struct {
		name    string
		advance time.Duration
		expired bool
	}{
		{"a second before the end of the retention", retention - time.Second, false},
		{"at the end of the retention", time.Second, true},
		{"long after", 4 * 365 * 24 * time.Hour, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f.advance(tc.advance)
			renders := len(f.renderer.renders)
			delete(f.reports.objects, c.PDFKey) // the bucket's lifecycle expires the PDF
			got, err := f.svc.Get(context.Background(), c.ID)
			require.NoError(t, err)
			u, urlErr := f.svc.ReportURL(context.Background(), c.ID)
			if !tc.expired {
				require.NotNil(t, got.Report)
				require.NotEmpty(t, c.Overview.Name)
				assert.Equal(t, c.Overview.Name, got.Overview.Name)
				assert.Equal(t, c.Overview.Name, list(t).Overview.Name)
				assert.Equal(t, c.Overview.Name, byParty(t).Overview.Name)
				require.NoError(t, urlErr)
				assert.NotEmpty(t, u.URL)
				assert.Len(t, f.renderer.renders, renders+1, "rendered again while retained")
				return
			}
			assert.Equal(t, minimal, got)
			assert.Equal(t, minimal, list(t))
			assert.Equal(t, minimal, byParty(t))
			e := errorOf(t, urlErr)
			assert.Equal(t, credit.CodeReportExpired, e.Code)
			assert.Equal(t, credit.KindGone, e.Kind)
			assert.Equal(t, c.ID, e.Details["consultationId"])
			assert.Len(t, f.renderer.renders, renders, "never rendered again")
			assert.NotContains(t, f.reports.objects, c.PDFKey)
		})
	}

	t.Run("a failed consultation still has no report", func(t *testing.T) {
		f.bureau.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
			return credit.Report{}, credit.BureauRejected("não")
		}
		_, err := f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
		failedID := errorOf(t, err).Details["consultationId"].(string)
		f.advance(retention)
		_, err = f.svc.ReportURL(context.Background(), failedID)
		assert.Equal(t, credit.CodeReportUnavailable, credit.ErrorCode(err))
	})
	t.Run("without a retention reports stay", func(t *testing.T) {
		f.svc.ReportRetention = 0
		f.bureau.consult = nil
		out, err := f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
		require.NoError(t, err)
		assert.True(t, out.Consultation.ReportExpiresAt.IsZero())
		f.advance(10 * 365 * 24 * time.Hour)
		got, err := f.svc.Get(context.Background(), out.Consultation.ID)
		require.NoError(t, err)
		assert.NotNil(t, got.Report)
	})
}

// countingIntegrations counts the reads of a branch's integration.
type countingIntegrations struct {
	credit.IntegrationStore
	gets atomic.Int64
}

func (c *countingIntegrations) GetIntegrationByBranch(ctx context.Context, branchID string) (credit.Integration, error) {
	c.gets.Add(1)
	return c.IntegrationStore.GetIntegrationByBranch(ctx, branchID)
}

// TestConsultReadsParametersOnce: one consultation reads the parameters
// once and the branch's integration once; with a warm cache the next
// consultations inside its TTL read neither, and a change (the master
// switch turned off) reaches them once the TTL has passed.
func TestConsultReadsParametersOnce(t *testing.T) {
	f := newConsultFixture(t)
	f.setParameters(t, true, 0)
	params := &countingParameters{ParametersStore: f.store}
	integs := &countingIntegrations{IntegrationStore: f.store}
	f.svc.Parameters, f.svc.Integrations.Store = params, integs

	for _, tt := range []struct {
		name         string
		req          credit.ConsultationRequest
		params, ints int
	}{
		{"by document", byDocument(testCPF, "SP"), 1, 1},
		{"by party", credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}}, 1, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			params.reads.Store(0)
			integs.gets.Store(0)
			_, err := f.svc.Consult(analystCtx(), tt.req)
			require.NoError(t, err)
			assert.Equal(t, tt.params, int(params.reads.Load()), "parameters read once")
			assert.Equal(t, tt.ints, int(integs.gets.Load()), "integration read once")
		})
	}

	t.Run("a warm cache trusts them for its TTL, no longer", func(t *testing.T) {
		f.svc.Reads = &credit.ConsultationReads{TTL: credit.WarmReadTTL, Now: f.clock}
		params.reads.Store(0)
		integs.gets.Store(0)
		for range 3 {
			_, err := f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
			require.NoError(t, err)
		}
		assert.Equal(t, 1, int(params.reads.Load()))
		assert.Equal(t, 1, int(integs.gets.Load()))

		f.setParameters(t, false, 0)
		f.advance(credit.WarmReadTTL - time.Millisecond)
		_, err := f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
		require.NoError(t, err, "inside the TTL the switch read before still holds")
		f.advance(time.Millisecond)
		_, err = f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
		assert.Equal(t, credit.CodeCreditAnalysisDisabled, credit.ErrorCode(err), "the switch reaches consultations within the TTL")
		assert.Equal(t, 2, int(params.reads.Load()))
		// The integration was read alongside; that read ends on its own.
		require.Eventually(t, func() bool { return integs.gets.Load() == 2 }, 5*time.Second, time.Millisecond)

		f.setParameters(t, true, 0)
		f.advance(credit.WarmReadTTL)
		_, err = f.svc.Consult(analystCtx(), byDocument(testCNPJ, ""))
		require.NoError(t, err)
		_, err = f.svc.Consult(analystCtx(), byDocument("529.982.247-25", "SP"))
		require.NoError(t, err)
		// Read at the start, alongside the parameters that turned out off,
		// and once more past the TTL; trusted in between.
		assert.Equal(t, 3, int(integs.gets.Load()), "the integration read again past the TTL, then trusted")
	})
	t.Run("failed reads are not kept", func(t *testing.T) {
		reads := &credit.ConsultationReads{TTL: time.Hour, Now: f.clock}
		integs.gets.Store(0)
		for range 2 {
			_, err := reads.Integration(context.Background(), f.svc.Integrations, "no-such-branch")
			assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		}
		assert.Equal(t, 2, int(integs.gets.Load()))
	})
}
