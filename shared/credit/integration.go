package credit

import (
	"context"
	"time"
)

// Intermediary is the bureau partner an integration talks to. Only Connect SA
// exists today; it stays an enum so that another partner is a new value, not
// a new shape.
type Intermediary string

const IntermediaryConnect Intermediary = "connect"

// Error codes of the integrations area.
const (
	CodeBranchAlreadyIntegrated          = "branch_already_integrated"
	CodeIntegrationHasActiveNegativation = "integration_has_active_negativations"
	CodeBranchWithoutIntegration         = "branch_without_integration"
	CodePasswordsNotChangedHere          = "passwords_not_changed_here"
)

// Automation is the "Inclusão/Exclusão automática" section: what the billing
// rule may do on its own for this integration.
type Automation struct {
	Enabled         bool
	RestrictionCode string
	RemovalCode     string
	DaysAfterDue    int
}

const MaxDaysAfterDue = 1825

// Integration is one branch's configuration of the bureau ("Cadastro da
// Integração"). Its passwords live only in the secret store; SecretRef names
// the secret and is never shown to callers.
type Integration struct {
	ID                 string
	Intermediary       Intermediary
	BranchID           string
	Environment        Environment
	Login              string
	DefaultPlan        Plan
	SendSMSOnInclusion bool
	ResponsibleCPF     Document
	Automation         Automation
	SecretRef          string
	CreatedAt          time.Time
	UpdatedAt          time.Time
	CreatedBy          Actor
	UpdatedBy          Actor
	// Version increases with every change; stores use it for optimistic
	// concurrency.
	Version int64
}

// Account is what the bureau's ports need to act for this integration with
// the passwords sec: the one place credentials are built from a secret.
func (i Integration) Account(sec IntegrationSecrets) BureauAccount {
	return BureauAccount{Environment: i.Environment, Credentials: Credentials{
		Login: i.Login, ConsultationPassword: sec.ConsultationPassword, PEFINPassword: sec.PEFINPassword,
	}}
}

// IntegrationSettings are the non-secret fields a caller sets.
type IntegrationSettings struct {
	Intermediary       Intermediary
	BranchID           string
	Environment        Environment
	Login              string
	DefaultPlan        Plan
	SendSMSOnInclusion bool
	ResponsibleCPF     string
	Automation         Automation
}

// validate checks every field, recording each problem in fe, and returns the
// parsed responsible CPF.
func (s IntegrationSettings) validate(fe *FieldErrors) Document {
	return s.validateKeeping(fe, Document{})
}

// validateKeeping is validate for a change of a stored record whose
// responsible CPF is kept: that CPF masked, exactly as a read shows it,
// means "unchanged", so an edit form need not ask for it again. Any other
// masked value is still refused.
func (s IntegrationSettings) validateKeeping(fe *FieldErrors, kept Document) Document {
	if s.Intermediary != IntermediaryConnect {
		fe.Add("intermediary", `deve ser "connect"`)
	}
	if !ValidBranchID(s.BranchID) {
		fe.Add("branchId", "obrigatório; letras, números, ponto, hífen ou sublinhado, até 64 caracteres")
	}
	if !s.Environment.Valid() {
		fe.Add("environment", `deve ser "homologation" ou "production"`)
	}
	if s.Login == "" || len(s.Login) > 64 {
		fe.Add("login", "obrigatório, até 64 caracteres")
	}
	if !s.DefaultPlan.Valid() {
		fe.Add("defaultPlan", `deve ser "negative_indicator", "crednet_top", "report_score" ou "all"`)
	}
	cpf := kept
	if kept.IsZero() || s.ResponsibleCPF != kept.Masked() {
		var err error
		if cpf, err = ParseDocument(s.ResponsibleCPF); err != nil || cpf.Kind() != CPF {
			fe.Add("responsibleCpf", "deve ser um CPF válido")
		}
	}
	if a := s.Automation; a.Enabled {
		if a.RestrictionCode == "" {
			fe.Add("automation.restrictionCode", "obrigatório com a automação habilitada")
		}
		if a.RemovalCode == "" {
			fe.Add("automation.removalCode", "obrigatório com a automação habilitada")
		}
		if a.DaysAfterDue < 1 || a.DaysAfterDue > MaxDaysAfterDue {
			fe.Add("automation.daysAfterDue", "deve ser um inteiro entre 1 e 1825")
		}
	}
	for field, code := range map[string]string{"automation.restrictionCode": s.Automation.RestrictionCode, "automation.removalCode": s.Automation.RemovalCode} {
		if len(code) > 32 {
			fe.Add(field, "até 32 caracteres")
		}
	}
	return cpf
}

func (s IntegrationSettings) apply(i *Integration, cpf Document) {
	i.Intermediary = s.Intermediary
	i.BranchID = s.BranchID
	i.Environment = s.Environment
	i.Login = s.Login
	i.DefaultPlan = s.DefaultPlan
	i.SendSMSOnInclusion = s.SendSMSOnInclusion
	i.ResponsibleCPF = cpf
	i.Automation = s.Automation
}

// settings is what a read shows of i's settings, the responsible CPF masked.
func (i Integration) settings() IntegrationSettings {
	return IntegrationSettings{
		Intermediary: i.Intermediary, BranchID: i.BranchID, Environment: i.Environment, Login: i.Login,
		DefaultPlan: i.DefaultPlan, SendSMSOnInclusion: i.SendSMSOnInclusion,
		ResponsibleCPF: i.ResponsibleCPF.Masked(), Automation: i.Automation,
	}
}

// IntegrationPatch is a merge patch of the settings (RFC 7396): a nil field
// is left as it is, the automation merges field by field, and Removed names
// the fields the patch sets to null ("automation.removalCode" for a nested
// one).
type IntegrationPatch struct {
	Intermediary       *Intermediary
	BranchID           *string
	Environment        *Environment
	Login              *string
	DefaultPlan        *Plan
	SendSMSOnInclusion *bool
	ResponsibleCPF     *string
	Automation         AutomationPatch
	Removed            []string
}

// AutomationPatch is the automation part of an IntegrationPatch.
type AutomationPatch struct {
	Enabled         *bool
	RestrictionCode *string
	RemovalCode     *string
	DaysAfterDue    *int
}

// removable are the fields a patch may set to null: the codes, which are
// optional while the automation is off. Every other field is required.
var removable = map[string]bool{"automation.restrictionCode": true, "automation.removalCode": true}

// checkRemoved refuses null on a required field.
func (p IntegrationPatch) checkRemoved(fe *FieldErrors) {
	for _, f := range p.Removed {
		if !removable[f] {
			fe.Add(f, "obrigatório; não pode ser removido (null)")
		}
	}
}

// over returns set with the patch applied.
func (p IntegrationPatch) over(set IntegrationSettings) IntegrationSettings {
	merge(&set.Intermediary, p.Intermediary)
	merge(&set.BranchID, p.BranchID)
	merge(&set.Environment, p.Environment)
	merge(&set.Login, p.Login)
	merge(&set.DefaultPlan, p.DefaultPlan)
	merge(&set.SendSMSOnInclusion, p.SendSMSOnInclusion)
	merge(&set.ResponsibleCPF, p.ResponsibleCPF)
	a := p.Automation
	merge(&set.Automation.Enabled, a.Enabled)
	merge(&set.Automation.RestrictionCode, a.RestrictionCode)
	merge(&set.Automation.RemovalCode, a.RemovalCode)
	merge(&set.Automation.DaysAfterDue, a.DaysAfterDue)
	for _, f := range p.Removed {
		switch f {
		case "automation.restrictionCode":
			set.Automation.RestrictionCode = ""
		case "automation.removalCode":
			set.Automation.RemovalCode = ""
		}
	}
	return set
}

func merge[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// IntegrationStore keeps integrations and the one-integration-per-branch
// invariant.
//
//   - CreateIntegration: branch_already_integrated (409) when the branch has
//     one, decided atomically (many concurrent creates: exactly one wins).
//   - GetIntegration, GetIntegrationByBranch: not_found (404).
//   - ListIntegrations: newest first, only those of branches (nil: all);
//     invalid_cursor.
//   - UpdateIntegration: not_found; branch_already_integrated when moving to a
//     branch that has one; concurrent_update (409) when the record changed
//     between read and write and retries ran out;
//     integration_has_active_negativations (409, ErrIntegrationAccountInUse)
//     when fn changes the account (SameAccount) while live negativations
//     exist, decided atomically with their creation. fn may return an error
//     to abort without writing.
//   - DeleteIntegration: not_found; integration_has_active_negativations
//     (409) while live negativations exist (Negativation.Live), decided atomically
//     with their creation.
type IntegrationStore interface {
	CreateIntegration(ctx context.Context, i Integration) error
	GetIntegration(ctx context.Context, id string) (Integration, error)
	GetIntegrationByBranch(ctx context.Context, branchID string) (Integration, error)
	ListIntegrations(ctx context.Context, branches Branches, p Page) ([]Integration, string, error)
	UpdateIntegration(ctx context.Context, id string, fn func(*Integration) error) (Integration, error)
	DeleteIntegration(ctx context.Context, id string) (Integration, error)
}

// ErrBranchAlreadyIntegrated builds the exact message of the reference page.
func ErrBranchAlreadyIntegrated(branchID string) *Error {
	return Errorf(KindConflict, CodeBranchAlreadyIntegrated,
		"Não foi possível prosseguir. A filial ID %s já possui uma integração vinculada.", branchID).
		WithDetails(map[string]any{"branchId": branchID})
}

// ErrIntegrationHasActiveNegativations refuses deleting an integration that
// still has live negativations, in the reference page's words: a pending
// record (or one still being submitted) counts as active, since the bureau
// holds it or may. The stores add the count in details.liveNegativations.
var ErrIntegrationHasActiveNegativations = NewError(KindConflict, CodeIntegrationHasActiveNegativation,
	"Não é possível excluir integrações com negativações ativas.")

// ErrIntegrationAccountInUse refuses moving an integration to another
// bureau account (environment, login or branch) while it has live
// negativations: a sync would ask the new account, hear "not found" and
// fail them, and they could no longer be removed. The count goes in
// details.liveNegativations.
func ErrIntegrationAccountInUse(live int64) *Error {
	return NewError(KindConflict, CodeIntegrationHasActiveNegativation,
		"Não é possível alterar o ambiente, o login ou a filial de uma integração com negativações ativas.").
		WithDetails(map[string]any{"liveNegativations": live, "fields": []string{"environment", "login", "branchId"}})
}

// SameAccount reports whether i and o name the same bureau account: the
// same environment, login and branch.
func (i Integration) SameAccount(o Integration) bool {
	return i.Environment == o.Environment && i.Login == o.Login && i.BranchID == o.BranchID
}

// ErrBranchWithoutIntegration is answered when a branch has no integration.
func ErrBranchWithoutIntegration(branchID string) *Error {
	return Errorf(KindUnprocessable, CodeBranchWithoutIntegration,
		"A filial ID %s não possui integração de análise de crédito vinculada.", branchID).
		WithDetails(map[string]any{"branchId": branchID})
}
