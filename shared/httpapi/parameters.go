package httpapi

import (
	"net/http"

	"creditanalysis/shared/credit"
)

// ParametersHandler serves the parameters area and the health check.
type ParametersHandler struct {
	Service *credit.ParametersService
}

func (h *ParametersHandler) Routes() []Route {
	return []Route{
		{"GET", "/health", h.health},
		{"GET", "/parameters", h.get},
		{"PUT", "/parameters", h.put},
	}
}

func (h *ParametersHandler) health(w http.ResponseWriter, r *http.Request) error {
	WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (h *ParametersHandler) get(w http.ResponseWriter, r *http.Request) error {
	p, err := h.Service.Get(r.Context())
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewParameters(p))
	return nil
}

// parametersView is the service-wide settings as callers see them.
type parametersView struct {
	CreditAnalysisEnabled          bool `json:"creditAnalysisEnabled"`
	RepeatConsultationIntervalDays int  `json:"repeatConsultationIntervalDays"`
}

func viewParameters(p credit.Parameters) parametersView {
	return parametersView{CreditAnalysisEnabled: p.CreditAnalysisEnabled, RepeatConsultationIntervalDays: p.RepeatConsultationIntervalDays}
}

type parametersRequest struct {
	CreditAnalysisEnabled          *bool `json:"creditAnalysisEnabled"`
	RepeatConsultationIntervalDays *int  `json:"repeatConsultationIntervalDays"`
}

func (h *ParametersHandler) put(w http.ResponseWriter, r *http.Request) error {
	var req parametersRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	var fe credit.FieldErrors
	if req.CreditAnalysisEnabled == nil {
		fe.Add("creditAnalysisEnabled", "obrigatório")
	}
	if req.RepeatConsultationIntervalDays == nil {
		fe.Add("repeatConsultationIntervalDays", "obrigatório")
	}
	if err := fe.Err(); err != nil {
		return err
	}
	p, err := h.Service.Put(r.Context(), credit.Parameters{
		CreditAnalysisEnabled:          *req.CreditAnalysisEnabled,
		RepeatConsultationIntervalDays: *req.RepeatConsultationIntervalDays,
	})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewParameters(p))
	return nil
}
