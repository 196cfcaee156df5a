package httpapi

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/views from the current answers")

// The golden files under testdata/views are the exact JSON of every answer
// body for a domain value with every field set and for one with as few as
// possible: the views may be rewritten, the bytes callers get may not.
func TestViewsGolden(t *testing.T) {
	at := time.Date(2026, 3, 14, 15, 9, 26, 535000000, time.UTC)
	later := at.Add(90 * time.Second)
	cpf := credit.MustParseDocument("52998224725")
	cnpj := credit.MustParseDocument("11222333000181")
	admin := credit.Actor{Subject: "u-1", Name: "Ana Admin", Roles: []credit.Role{credit.RoleAdmin}}
	viewer := credit.Actor{Subject: "u-2", Roles: []credit.Role{credit.RoleViewer}}
	score := 640

	party := credit.Party{
		Kind: credit.PartyCustomer, ID: "c-1", BranchID: "b-1", Document: cpf, Name: "Maria Silva",
		Gender: credit.GenderFemale, BirthDate: credit.NewDate(1980, 5, 17), MobilePhone: "11987654321",
		Address: credit.Address{CEP: "01310100", Street: "Av. Paulista", Number: "1000", Complement: "ap 1",
			Neighborhood: "Bela Vista", City: "São Paulo", UF: "SP"},
		AutoNegativation: credit.AutoNegativationYes, CreatedAt: at, UpdatedAt: later, UpdatedBy: admin,
	}
	lead := credit.Party{Kind: credit.PartyLead, ID: "l-1", BranchID: "b-1", Document: cnpj, Name: "ACME",
		AutoNegativation: credit.AutoNegativationDefault, CreatedAt: at, UpdatedAt: at}
	invoice := credit.Invoice{
		CustomerID: "c-1", ID: "i-1", BranchID: "b-1", AmountCents: 123456, DueDate: credit.NewDate(2026, 1, 10),
		Status: credit.InvoicePaid, PaidAt: credit.NewDate(2026, 2, 1), ContractNumber: "K-1", DocumentNumber: "D-1",
		SettledOn: credit.NewDate(2026, 2, 1), UpdatedAt: at, UpdatedBy: admin,
	}
	integration := credit.Integration{
		ID: "int-1", Intermediary: credit.IntermediaryConnect, BranchID: "b-1", Environment: credit.EnvironmentHomologation,
		Login: "isp01", DefaultPlan: credit.PlanCrednetTop, SendSMSOnInclusion: true, ResponsibleCPF: cpf,
		Automation: credit.Automation{Enabled: true, RestrictionCode: "R1", RemovalCode: "B1", DaysAfterDue: 30},
		SecretRef:  "secret/int-1", CreatedAt: at, UpdatedAt: later, CreatedBy: admin, UpdatedBy: viewer, Version: 7,
	}
	report := credit.Report{
		Protocol: "P1",
		Identity: credit.Identity{Name: "Maria Silva", BirthDate: time.Date(1980, 5, 17, 0, 0, 0, 0, time.UTC), DocumentStatus: "REGULAR", MotherName: "Ana"},
		Score:    &credit.Score{Value: 640, Class: "C", DefaultProbability: 1250, Message: "m"},
		Pendencies: credit.NewSection([]credit.Pendency{{Kind: credit.PendencyPEFIN, Date: time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC),
			Modality: "Financiamento", Amount: 123456, Contract: "C1", Origin: "Loja"}}),
		Protests: credit.NewSection([]credit.Protest{{Date: time.Date(2023, 1, 2, 0, 0, 0, 0, time.UTC), Amount: 500, Notary: "1º",
			City: "Campinas", UF: "SP"}}),
		BadCheques: credit.NewSection([]credit.BadCheque{{Date: time.Date(2022, 4, 5, 0, 0, 0, 0, time.UTC), Bank: "001",
			Agency: "1234", Quantity: 2, Amount: 300, City: "Santos", UF: "SP"}}),
		Lawsuits: credit.NewSection([]credit.Lawsuit{{Date: time.Date(2021, 6, 7, 0, 0, 0, 0, time.UTC), Nature: "Execução",
			Amount: 999, Court: "TJSP", City: "São Paulo", UF: "SP"}}),
		Bankruptcies: credit.NewSection([]credit.Bankruptcy{{Date: time.Date(2020, 2, 2, 0, 0, 0, 0, time.UTC),
			Kind: "Falência decretada", Court: "1ª Vara", City: "São Paulo", UF: "SP"}}),
		PreviousConsultations: credit.PreviousConsultations{Last15Days: 1, Last30Days: 2, Last60Days: 3, Last90Days: 4,
			Entries: []credit.PreviousConsultation{{Date: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), Company: "Banco X"}}},
		Occurrences: 5,
		Raw:         json.RawMessage(`{"secret":"raw answer"}`),
	}
	cnpjReport := credit.Report{Protocol: "P2", Identity: credit.Identity{Name: "ACME", FoundationDate: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC), DocumentStatus: "ATIVA"},
		Pendencies: credit.NewSection[credit.Pendency](nil), Protests: credit.NewSection[credit.Protest](nil),
		BadCheques: credit.NewSection[credit.BadCheque](nil), Lawsuits: credit.NewSection[credit.Lawsuit](nil),
		Bankruptcies: credit.NewSection[credit.Bankruptcy](nil)}
	consultation := credit.Consultation{
		ID: "con-1", CreatedAt: at, Status: credit.ConsultationSucceeded, Document: cpf, UF: "SP", Plan: credit.PlanCrednetTop,
		IntegrationID: "int-1", BranchID: "b-1", Environment: credit.EnvironmentHomologation,
		Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c-1"}, RequestedBy: admin,
		Overview: credit.ReportOverview{Name: "Maria Silva", Score: &score, ScoreClass: "C", Occurrences: 5, PendenciesTotal: 123456},
		Report:   &report, PDFKey: "reports/abc.pdf",
		Warnings: []credit.Warning{{Code: credit.WarningDeprecatedPlan, Message: "Plano em descontinuação."}},
	}
	cnpjConsultation := credit.Consultation{ID: "con-3", CreatedAt: at, Status: credit.ConsultationSucceeded, Document: cnpj,
		Plan: credit.PlanNegativeIndicator, IntegrationID: "int-1", BranchID: "b-1", Environment: credit.EnvironmentProduction,
		RequestedBy: viewer, Overview: credit.ReportOverview{Name: "ACME", NothingRecorded: true}, Report: &cnpjReport}
	failed := credit.Consultation{
		ID: "con-2", CreatedAt: at, Status: credit.ConsultationFailed, ErrorCode: credit.CodeBureauUnavailable,
		ErrorMessage: "Indisponível.", Document: cnpj, Plan: credit.PlanReportScore, IntegrationID: "int-1", BranchID: "b-1",
		Environment: credit.EnvironmentProduction, RequestedBy: viewer,
	}
	negativation := credit.Negativation{
		ID: "neg-1", Status: credit.NegativationRemoved, CustomerID: "c-1", InvoiceID: "i-1", IntegrationID: "int-1", BranchID: "b-1",
		Document: cpf, DebtorName: "Maria Silva", AmountCents: 123456, DueDate: credit.NewDate(2026, 1, 10),
		ContractNumber: "K-1", DocumentNumber: "D-1", RestrictionCode: "R1", RemovalCode: "B1", Origin: credit.OriginAutomatic,
		RequestedBy: admin, RunID: "run-1", Protocol: "PR-1", BureauMessage: "ok", OutcomeUnknown: true, Attempts: 2,
		CreatedAt: at, UpdatedAt: later, RemovedAt: later, RemovedBy: viewer,
		History: []credit.NegativationEvent{
			{Status: credit.NegativationSubmitting, At: at, By: admin, RunID: "run-1"},
			{Status: credit.NegativationFailed, At: at, By: admin, Message: "falhou", ErrorCode: credit.CodeBureauUnavailable},
		},
		LastError:           &credit.NegativationError{Code: credit.CodeBureauUnavailable, Message: "Indisponível."},
		StatusBeforeRemoval: credit.NegativationActive, Version: 9,
	}
	pending := credit.Negativation{ID: "neg-2", Status: credit.NegativationPending, CustomerID: "c-2", InvoiceID: "i-2",
		IntegrationID: "int-1", BranchID: "b-1", Document: cnpj, Origin: credit.OriginManual, RequestedBy: viewer, CreatedAt: at, UpdatedAt: at}
	run := credit.BillingRun{
		ID: "run-1", Trigger: credit.TriggerManual, RequestedBy: admin, Status: credit.BillingRunStoppedAtDeadline,
		Day: credit.NewDate(2026, 3, 14), StartedAt: at, FinishedAt: later, ResumedFrom: "run-0", LeaseUntil: later, Version: 3,
		Counts: credit.BillingCounts{Examined: 10, Included: 2, Removed: 1, Synced: 3, Skipped: map[string]int{"missing_fields": 4}, Failed: 1},
		Errors: []credit.BillingRunError{
			{At: at, IntegrationID: "int-1", CustomerID: "c-1", InvoiceID: "i-1", NegativationID: "neg-1", Code: "bureau_unavailable", Message: "m"},
			{At: at, Code: "internal_error", Message: "erro interno"},
		},
		Position: credit.BillingPosition{Done: []string{"int-0"}, Partial: []credit.IntegrationPosition{
			{IntegrationID: "int-1", After: &credit.InvoiceKey{DueDate: credit.NewDate(2026, 2, 12), CustomerID: "c-1", InvoiceID: "i-1"}},
			{IntegrationID: "int-2"},
		}},
	}
	dry := credit.BillingRun{ID: "run-3", Trigger: credit.TriggerManual, RequestedBy: admin, Status: credit.BillingRunFinished,
		Day: credit.DateOf(at, credit.SaoPaulo()), StartedAt: at, FinishedAt: at.Add(time.Minute), DryRun: true,
		Counts: credit.BillingCounts{Examined: 3, Included: 1, Removed: 1, Skipped: map[string]int{credit.SkipCustomerNotFound: 1}},
		Preview: credit.BillingPreview{
			Include: []credit.BillingPreviewItem{{IntegrationID: "int-1", CustomerID: "c-1", InvoiceID: "i-1",
				MaskedDocument: "***.982.247-**", AmountCents: 9990, DueDate: credit.NewDate(2026, 2, 12)}},
			Remove: []credit.BillingPreviewItem{{IntegrationID: "int-1", CustomerID: "c-2", InvoiceID: "i-2", NegativationID: "neg-2",
				MaskedDocument: "**.345.678/0001-**", AmountCents: 15000, DueDate: credit.NewDate(2026, 1, 10)}},
			Skip: []credit.BillingPreviewItem{{IntegrationID: "int-1", CustomerID: "c-3", InvoiceID: "i-3", AmountCents: 100,
				DueDate: credit.NewDate(2026, 1, 11), Reason: credit.SkipCustomerNotFound}},
		}}
	scheduled := credit.BillingRun{ID: "run-2", Trigger: credit.TriggerSchedule, Status: credit.BillingRunRunning,
		Day: credit.NewDate(2026, 3, 14), StartedAt: at}
	change := credit.PasswordChange{ID: "pc-1", IntegrationID: "int-1", Kind: credit.CredentialPEFIN, Actor: admin, RequestID: "req-1",
		StartedAt: at, FinishedAt: later, Outcome: credit.PasswordChangeFailed, ErrorCode: "interrupted", Recovered: true, ReplacedHash: "$argon2id$x"}
	running := credit.PasswordChange{ID: "pc-2", IntegrationID: "int-1", Kind: credit.CredentialConsultation, Actor: viewer,
		StartedAt: at, Outcome: credit.PasswordChangeRunning}

	answers := []struct {
		name string
		body any
	}{
		{"parameters", viewParameters(credit.Parameters{CreditAnalysisEnabled: true, RepeatConsultationIntervalDays: 30})},
		{"parameters-zero", viewParameters(credit.Parameters{})},
		{"audit", NewList(viewAll([]credit.AuditEvent{
			{ID: "a-1", At: at, Actor: admin, Action: "PUT /parameters", Target: map[string]string{"id": "x"}, RequestID: "req-1",
				Outcome: credit.AuditOutcome{Status: 400, Code: credit.CodeValidation}},
			{ID: "a-2", At: at, Actor: credit.Actor{}, Action: "GET /health", RequestID: "req-2", Outcome: credit.AuditOutcome{Status: 200}},
		}, viewAuditEvent), "cursor-1")},
		{"party-admin", viewParty(party, admin)},
		{"party-viewer", viewParty(party, viewer)},
		{"party-lead-viewer", viewParty(lead, viewer)},
		{"invoice", viewInvoice(invoice)},
		{"invoices", NewList(viewAll([]credit.Invoice{invoice, {CustomerID: "c-1", ID: "i-2", BranchID: "b-1", DueDate: credit.NewDate(2026, 1, 10),
			Status: credit.InvoiceOpen, UpdatedAt: at}}, viewInvoice), "")},
		{"integration", viewIntegration(integration)},
		{"integration-without-secret", viewIntegration(credit.Integration{ID: "int-2", CreatedAt: at, UpdatedAt: at})},
		{"plans", NewList(viewAll([]credit.PlanInfo{
			{Code: credit.PlanCrednetTop, Name: "Crednet Top", ProductCode: "CT1", Deprecated: true, Recommendation: "use outro"},
			{Code: credit.PlanReportScore, Name: "Relato", ProductCode: "RS1"},
		}, viewPlan), "")},
		{"codes", NewList(viewAll([]credit.BureauCode{{Code: "R1", Description: "Restrição"}}, viewBureauCode), "")},
		{"connection-test", viewConnectionTest(credit.ConnectionTest{OK: false, LatencyMs: 120, Message: "Senha PEFIN recusada.", Consultation: true})},
		{"consultation", viewConsultation(consultation, fullReport)},
		{"consultation-listed", viewConsultation(consultation, overviewOnly)},
		{"consultation-viewer", viewConsultation(consultation, noReport)},
		{"consultation-cnpj", viewConsultation(cnpjConsultation, fullReport)},
		{"consultation-failed", viewConsultation(failed, fullReport)},
		{"consultation-pdf-link", pdfLinkView(credit.PresignedURL{URL: "https://reports.example/abc.pdf?sig=1", ExpiresAt: later})},
		{"negativation", viewNegativation(negativation)},
		{"negativation-pending", viewNegativation(pending)},
		{"pending-removal", viewPendingRemoval(credit.PendingRemoval{Negativation: pending, InvoiceStatus: credit.InvoicePaid,
			SettledOn: credit.NewDate(2026, 3, 2), BusinessDaysElapsed: 6, Deadline: credit.NewDate(2026, 3, 9), Late: true})},
		{"sync", viewSyncResult(credit.SyncResult{Integrations: 2, Examined: 5, Changed: 3,
			ByStatus: map[credit.NegativationStatus]int{credit.NegativationActive: 2, credit.NegativationRejected: 1},
			Errors:   []credit.SyncError{{IntegrationID: "int-2", Code: credit.CodeBureauUnavailable, Message: "m"}}})},
		{"sync-nothing", viewSyncResult(credit.SyncResult{ByStatus: map[credit.NegativationStatus]int{}, Errors: []credit.SyncError{}})},
		{"billing-run", viewBillingRun(run)},
		{"billing-run-scheduled", viewBillingRun(scheduled)},
		{"billing-run-dry", viewBillingRun(dry)},
		{"password-change", viewPasswordChange(change)},
		{"password-change-running", viewPasswordChange(running)},
	}
	for _, a := range answers {
		t.Run(a.name, func(t *testing.T) {
			got, err := json.MarshalIndent(a.body, "", "  ")
			require.NoError(t, err)
			got = append(got, '\n')
			path := filepath.Join("testdata", "views", a.name+".json")
			if *updateGolden {
				require.NoError(t, os.WriteFile(path, got, 0o644))
			}
			want, err := os.ReadFile(path)
			require.NoError(t, err, "run go test -run TestViewsGolden -update to write it")
			assert.Equal(t, string(want), string(got))
		})
	}
}
