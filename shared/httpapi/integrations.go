package httpapi

import (
	"context"
	"net/http"
	"slices"
	"time"

	"creditanalysis/shared/credit"
)

// IntegrationsHandler serves the integrations area: per-branch configuration
// of the bureau.
type IntegrationsHandler struct {
	Service *credit.IntegrationService
}

func (h *IntegrationsHandler) Routes() []Route {
	return []Route{
		{"POST", "/integrations", h.create},
		{"GET", "/integrations", h.list},
		{"GET", "/integrations/{id}", h.get},
		{"PUT", "/integrations/{id}", h.update},
		{"PATCH", "/integrations/{id}", h.patch},
		{"DELETE", "/integrations/{id}", h.delete},
		{"GET", "/branches/{branchId}/integration", h.byBranch},
		{"GET", "/integrations/{id}/plans", h.plans},
		{"GET", "/integrations/{id}/restriction-codes", h.restrictionCodes},
		{"GET", "/integrations/{id}/removal-codes", h.removalCodes},
		{"POST", "/integrations/{id}/connection-test", h.connectionTest},
	}
}

// integrationView is an integration as callers see it: no secret reference,
// no password, the responsible CPF masked, and whether each password is set.
type integrationView struct {
	ID                      string         `json:"id"`
	Intermediary            string         `json:"intermediary"`
	BranchID                string         `json:"branchId"`
	Environment             string         `json:"environment"`
	Login                   string         `json:"login"`
	DefaultPlan             string         `json:"defaultPlan"`
	SendSMSOnInclusion      bool           `json:"sendSmsOnInclusion"`
	ResponsibleCPF          string         `json:"responsibleCpf"`
	Automation              automationView `json:"automation"`
	ConsultationPasswordSet bool           `json:"consultationPasswordSet"`
	PEFINPasswordSet        bool           `json:"pefinPasswordSet"`
	CreatedAt               time.Time      `json:"createdAt"`
	UpdatedAt               time.Time      `json:"updatedAt"`
	CreatedBy               actorView      `json:"createdBy"`
	UpdatedBy               actorView      `json:"updatedBy"`
}

// automationView is the integration's billing-rule settings, the same both
// ways.
type automationView struct {
	Enabled         bool   `json:"enabled"`
	RestrictionCode string `json:"restrictionCode"`
	RemovalCode     string `json:"removalCode"`
	DaysAfterDue    int    `json:"daysAfterDue"`
}

func viewIntegration(i credit.Integration) integrationView {
	return integrationView{
		ID: i.ID, Intermediary: string(i.Intermediary), BranchID: i.BranchID, Environment: string(i.Environment),
		Login: i.Login, DefaultPlan: string(i.DefaultPlan), SendSMSOnInclusion: i.SendSMSOnInclusion,
		ResponsibleCPF: i.ResponsibleCPF.Masked(), Automation: automationView(i.Automation),
		// Both passwords are required at creation and live in the secret the
		// record points to.
		ConsultationPasswordSet: i.SecretRef != "", PEFINPasswordSet: i.SecretRef != "",
		CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt, CreatedBy: viewActor(i.CreatedBy), UpdatedBy: viewActor(i.UpdatedBy),
	}
}

type integrationSettingsRequest struct {
	Intermediary       string         `json:"intermediary"`
	BranchID           string         `json:"branchId"`
	Environment        string         `json:"environment"`
	Login              string         `json:"login"`
	DefaultPlan        string         `json:"defaultPlan"`
	SendSMSOnInclusion bool           `json:"sendSmsOnInclusion"`
	ResponsibleCPF     string         `json:"responsibleCpf"`
	Automation         automationView `json:"automation"`
}

func (r integrationSettingsRequest) settings() credit.IntegrationSettings {
	return credit.IntegrationSettings{
		Intermediary: credit.Intermediary(r.Intermediary), BranchID: r.BranchID,
		Environment: credit.Environment(r.Environment), Login: r.Login, DefaultPlan: credit.Plan(r.DefaultPlan),
		SendSMSOnInclusion: r.SendSMSOnInclusion, ResponsibleCPF: r.ResponsibleCPF,
		Automation: credit.Automation(r.Automation),
	}
}

type createIntegrationRequest struct {
	integrationSettingsRequest
	ConsultationPassword string `json:"consultationPassword"`
	PEFINPassword        string `json:"pefinPassword"`
}

type updateIntegrationRequest struct {
	integrationSettingsRequest
	// Present only to refuse them with a clear message: passwords change
	// through the password-change flow.
	ConsultationPassword *string `json:"consultationPassword"`
	PEFINPassword        *string `json:"pefinPassword"`
}

func (h *IntegrationsHandler) create(w http.ResponseWriter, r *http.Request) error {
	var req createIntegrationRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	i, err := h.Service.Create(r.Context(), credit.NewIntegration{
		IntegrationSettings:  req.settings(),
		ConsultationPassword: req.ConsultationPassword,
		PEFINPassword:        req.PEFINPassword,
	})
	if err != nil {
		return err
	}
	AuditTarget(r, "integrationId", i.ID)
	AuditTarget(r, "branchId", i.BranchID)
	w.Header().Set("Location", "/integrations/"+i.ID)
	WriteJSON(w, http.StatusCreated, viewIntegration(i))
	return nil
}

func (h *IntegrationsHandler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	items, next, err := h.Service.List(r.Context(), p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewAll(items, viewIntegration), next))
	return nil
}

func (h *IntegrationsHandler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	i, err := h.Service.Get(r.Context(), id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewIntegration(i))
	return nil
}

func (h *IntegrationsHandler) byBranch(w http.ResponseWriter, r *http.Request) error {
	branch := r.PathValue("branchId")
	if !credit.ValidBranchID(branch) {
		return invalidParam("branchId", "identificador de filial inválido")
	}
	i, err := h.Service.GetByBranch(r.Context(), branch)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewIntegration(i))
	return nil
}

func (h *IntegrationsHandler) update(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var req updateIntegrationRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	if req.ConsultationPassword != nil || req.PEFINPassword != nil {
		return errPasswordsNotChangedHere
	}
	i, err := h.Service.Update(r.Context(), id, req.settings())
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewIntegration(i))
	return nil
}

// patchIntegrationRequest is a merge patch of the settings: each member
// given changes that field, the automation field by field.
type patchIntegrationRequest struct {
	Intermediary       *string                 `json:"intermediary"`
	BranchID           *string                 `json:"branchId"`
	Environment        *string                 `json:"environment"`
	Login              *string                 `json:"login"`
	DefaultPlan        *string                 `json:"defaultPlan"`
	SendSMSOnInclusion *bool                   `json:"sendSmsOnInclusion"`
	ResponsibleCPF     *string                 `json:"responsibleCpf"`
	Automation         *automationPatchRequest `json:"automation"`
	// Present only to refuse them, as PUT does.
	ConsultationPassword *string `json:"consultationPassword"`
	PEFINPassword        *string `json:"pefinPassword"`
}

type automationPatchRequest struct {
	Enabled         *bool   `json:"enabled"`
	RestrictionCode *string `json:"restrictionCode"`
	RemovalCode     *string `json:"removalCode"`
	DaysAfterDue    *int    `json:"daysAfterDue"`
}

func (r patchIntegrationRequest) patch(removed []string) credit.IntegrationPatch {
	p := credit.IntegrationPatch{
		Intermediary: (*credit.Intermediary)(r.Intermediary), BranchID: r.BranchID,
		Environment: (*credit.Environment)(r.Environment), Login: r.Login, DefaultPlan: (*credit.Plan)(r.DefaultPlan),
		SendSMSOnInclusion: r.SendSMSOnInclusion, ResponsibleCPF: r.ResponsibleCPF, Removed: removed,
	}
	if a := r.Automation; a != nil {
		p.Automation = credit.AutomationPatch{Enabled: a.Enabled, RestrictionCode: a.RestrictionCode, RemovalCode: a.RemovalCode, DaysAfterDue: a.DaysAfterDue}
	}
	return p
}

func (h *IntegrationsHandler) patch(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var req patchIntegrationRequest
	body, err := DecodeMergePatch(r, &req)
	if err != nil {
		return err
	}
	removed := nullMembers(body)
	if req.ConsultationPassword != nil || req.PEFINPassword != nil || slices.Contains(removed, "consultationPassword") || slices.Contains(removed, "pefinPassword") {
		return errPasswordsNotChangedHere
	}
	i, err := h.Service.Patch(r.Context(), id, req.patch(removed))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewIntegration(i))
	return nil
}

var errPasswordsNotChangedHere = credit.NewError(credit.KindInvalid, credit.CodePasswordsNotChangedHere,
	"As senhas não são alteradas por aqui: use Alterar Senha Consulta ou Alterar Senha PEFIN.")

func (h *IntegrationsHandler) delete(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if err := h.Service.Delete(r.Context(), id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// planView is a plan the integration's account may consult with.
type planView struct {
	Code           credit.Plan `json:"code"`
	Name           string      `json:"name"`
	ProductCode    string      `json:"productCode"`
	Deprecated     bool        `json:"deprecated"`
	Recommendation string      `json:"recommendation,omitempty"`
}

func viewPlan(p credit.PlanInfo) planView {
	return planView{Code: p.Code, Name: p.Name, ProductCode: p.ProductCode, Deprecated: p.Deprecated, Recommendation: p.Recommendation}
}

// bureauCodeView is one of the bureau's restriction or removal codes.
type bureauCodeView struct {
	Code        string `json:"code"`
	Description string `json:"description"`
}

func viewBureauCode(c credit.BureauCode) bureauCodeView {
	return bureauCodeView{Code: c.Code, Description: c.Description}
}

func (h *IntegrationsHandler) plans(w http.ResponseWriter, r *http.Request) error {
	return listOfIntegration(w, r, h.Service.Plans, viewPlan)
}

func (h *IntegrationsHandler) restrictionCodes(w http.ResponseWriter, r *http.Request) error {
	return listOfIntegration(w, r, h.Service.RestrictionCodes, viewBureauCode)
}

func (h *IntegrationsHandler) removalCodes(w http.ResponseWriter, r *http.Request) error {
	return listOfIntegration(w, r, h.Service.RemovalCodes, viewBureauCode)
}

// listOfIntegration answers a list the bureau gives for the integration in
// the path. Such lists are short: one page holds them all, whatever the
// limit, but limit and cursor are still checked like any list's.
func listOfIntegration[T, V any](w http.ResponseWriter, r *http.Request, fetch func(context.Context, string) ([]T, error), view func(T) V) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	if _, err := PageOf(r); err != nil {
		return err
	}
	items, err := fetch(r.Context(), id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewAll(items, view), ""))
	return nil
}

func (h *IntegrationsHandler) connectionTest(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	t, err := h.Service.TestConnection(r.Context(), id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewConnectionTest(t))
	return nil
}

// connectionTestView says whether the bureau accepted each password.
type connectionTestView struct {
	OK           bool   `json:"ok"`
	LatencyMs    int64  `json:"latencyMs"`
	Message      string `json:"message"`
	Consultation bool   `json:"consultationPasswordAccepted"`
	PEFIN        bool   `json:"pefinPasswordAccepted"`
}

func viewConnectionTest(t credit.ConnectionTest) connectionTestView {
	return connectionTestView{OK: t.OK, LatencyMs: t.LatencyMs, Message: t.Message, Consultation: t.Consultation, PEFIN: t.PEFIN}
}
