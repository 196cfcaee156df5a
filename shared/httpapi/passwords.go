package httpapi

import (
	"net/http"
	"time"

	"creditanalysis/shared/credit"
)

// PasswordsHandler serves the password changes of an integration
// ("Alteração de Senhas"): the consultation and PEFIN passwords, changed at
// the bureau and in the secret store together, and their history.
type PasswordsHandler struct {
	Service *credit.PasswordService
}

func (h *PasswordsHandler) Routes() []Route {
	return []Route{
		{"POST", "/integrations/{id}/consultation-password", h.change(credit.CredentialConsultation)},
		{"POST", "/integrations/{id}/pefin-password", h.change(credit.CredentialPEFIN)},
		{"GET", "/integrations/{id}/password-changes", h.history},
	}
}

// passwordChangeRequest is the form of "Alterar Senha": the new password
// and its confirmation.
type passwordChangeRequest struct {
	NewPassword  string `json:"newPassword"`
	Confirmation string `json:"confirmation"`
}

func (h *PasswordsHandler) change(kind credit.CredentialKind) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := PathID(r, "id")
		if err != nil {
			return err
		}
		var req passwordChangeRequest
		if err := Decode(r, &req); err != nil {
			return err
		}
		err = h.Service.Change(r.Context(), credit.PasswordChangeRequest{
			IntegrationID: id, Kind: kind, NewPassword: req.NewPassword, Confirmation: req.Confirmation,
			RequestID: RequestID(r.Context()),
		})
		if err != nil {
			return err
		}
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
}

// passwordChangeView is one change as callers see it: who, when, which
// password, how it ended; never a password or a hash.
type passwordChangeView struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Outcome    string     `json:"outcome"`
	ErrorCode  string     `json:"errorCode,omitempty"`
	Recovered  bool       `json:"recovered"`
	Actor      actorView  `json:"actor"`
	RequestID  string     `json:"requestId,omitempty"`
	StartedAt  time.Time  `json:"startedAt"`
	FinishedAt *time.Time `json:"finishedAt"`
}

func viewPasswordChange(c credit.PasswordChange) passwordChangeView {
	v := passwordChangeView{
		ID: c.ID, Kind: string(c.Kind), Outcome: string(c.Outcome), ErrorCode: c.ErrorCode, Recovered: c.Recovered,
		Actor: viewActor(c.Actor), RequestID: c.RequestID, StartedAt: c.StartedAt,
	}
	if !c.FinishedAt.IsZero() {
		finished := c.FinishedAt
		v.FinishedAt = &finished
	}
	return v
}

func (h *PasswordsHandler) history(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	changes, next, err := h.Service.History(r.Context(), id, p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewAll(changes, viewPasswordChange), next))
	return nil
}
