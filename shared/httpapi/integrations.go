package httpapi

import (
	"context"
	"net/http"
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
	ID                      string            `json:"id"`
	Intermediary            string            `json:"intermediary"`
	BranchID                string            `json:"branchId"`
	Environment             string            `json:"environment"`
	Login                   string            `json:"login"`
	DefaultPlan             string            `json:"defaultPlan"`
	SendSMSOnInclusion      bool              `json:"sendSmsOnInclusion"`
	ResponsibleCPF          string            `json:"responsibleCpf"`
	Automation              credit.Automation `json:"automation"`
	ConsultationPasswordSet bool              `json:"consultationPasswordSet"`
	PEFINPasswordSet        bool              `json:"pefinPasswordSet"`
	CreatedAt               time.Time         `json:"createdAt"`
	UpdatedAt               time.Time         `json:"updatedAt"`
	CreatedBy               credit.Actor      `json:"createdBy"`
	UpdatedBy               credit.Actor      `json:"updatedBy"`
}

func viewIntegration(i credit.Integration) integrationView {
	return integrationView{
		ID: i.ID, Intermediary: string(i.Intermediary), BranchID: i.BranchID, Environment: string(i.Environment),
		Login: i.Login, DefaultPlan: string(i.DefaultPlan), SendSMSOnInclusion: i.SendSMSOnInclusion,
		ResponsibleCPF: i.ResponsibleCPF.Masked(), Automation: i.Automation,
		// Both passwords are required at creation and live in the secret the
		// record points to.
		ConsultationPasswordSet: i.SecretRef != "", PEFINPasswordSet: i.SecretRef != "",
		CreatedAt: i.CreatedAt, UpdatedAt: i.UpdatedAt, CreatedBy: i.CreatedBy, UpdatedBy: i.UpdatedBy,
	}
}

type automationRequest struct {
	Enabled         bool   `json:"enabled"`
	RestrictionCode string `json:"restrictionCode"`
	RemovalCode     string `json:"removalCode"`
	DaysAfterDue    int    `json:"daysAfterDue"`
}

type integrationSettingsRequest struct {
	Intermediary       string            `json:"intermediary"`
	BranchID           string            `json:"branchId"`
	Environment        string            `json:"environment"`
	Login              string            `json:"login"`
	DefaultPlan        string            `json:"defaultPlan"`
	SendSMSOnInclusion bool              `json:"sendSmsOnInclusion"`
	ResponsibleCPF     string            `json:"responsibleCpf"`
	Automation         automationRequest `json:"automation"`
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
	views := make([]integrationView, len(items))
	for i, it := range items {
		views[i] = viewIntegration(it)
	}
	WriteJSON(w, http.StatusOK, NewList(views, next))
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
		return credit.NewError(credit.KindInvalid, credit.CodePasswordsNotChangedHere,
			"As senhas não são alteradas por aqui: use Alterar Senha Consulta ou Alterar Senha PEFIN.")
	}
	i, err := h.Service.Update(r.Context(), id, req.settings())
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewIntegration(i))
	return nil
}

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

func (h *IntegrationsHandler) plans(w http.ResponseWriter, r *http.Request) error {
	return listOfIntegration(w, r, h.Service.Plans)
}

func (h *IntegrationsHandler) restrictionCodes(w http.ResponseWriter, r *http.Request) error {
	return listOfIntegration(w, r, h.Service.RestrictionCodes)
}

func (h *IntegrationsHandler) removalCodes(w http.ResponseWriter, r *http.Request) error {
	return listOfIntegration(w, r, h.Service.RemovalCodes)
}

// listOfIntegration answers a list the bureau gives for the integration in
// the path. Such lists are short: one page holds them all, whatever the
// limit, but limit and cursor are still checked like any list's.
func listOfIntegration[T any](w http.ResponseWriter, r *http.Request, fetch func(context.Context, string) ([]T, error)) error {
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
	WriteJSON(w, http.StatusOK, NewList(items, ""))
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
	WriteJSON(w, http.StatusOK, t)
	return nil
}
