package httpapi

import (
	"net/http"
	"time"

	"creditanalysis/shared/credit"
)

// AuditHandler serves the audit trail to admins.
type AuditHandler struct {
	Log credit.AuditLog
}

func (h *AuditHandler) Routes() []Route {
	return []Route{{"GET", "/audit", h.list}}
}

// list reads GET /audit?from&to&actor&action&targetId&limit&cursor; from
// and to are dates (YYYY-MM-DD, São Paulo days; to inclusive) or RFC 3339
// instants; targetId is the id of a record touched, created or shown.
func (h *AuditHandler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := credit.AuditFilter{Actor: q.Get("actor"), Action: q.Get("action"), TargetID: q.Get("targetId")}
	if f.From, err = instantParam(r, "from", false); err != nil {
		return err
	}
	if f.To, err = instantParam(r, "to", true); err != nil {
		return err
	}
	if len(f.Actor) > 128 {
		return invalidParam("actor", "até 128 caracteres")
	}
	if f.TargetID != "" && !credit.ValidIdentifier(f.TargetID) {
		return invalidParam("targetId", "identificador inválido")
	}
	if f.Action != "" {
		if _, known := Access[f.Action]; !known {
			return invalidParam("action", `deve ser uma rota da API, como "PUT /parameters"`)
		}
	}
	if err := f.Validate(); err != nil {
		return err
	}
	items, next, err := h.Log.ListAudit(r.Context(), f, p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewAll(items, viewAuditEvent), next))
	return nil
}

// auditEventView is one entry of the trail as admins read it.
type auditEventView struct {
	ID        string            `json:"id"`
	At        time.Time         `json:"at"`
	Actor     actorView         `json:"actor"`
	Action    string            `json:"action"`
	Target    map[string]string `json:"target,omitempty"`
	RequestID string            `json:"requestId"`
	Outcome   auditOutcomeView  `json:"outcome"`
}

type auditOutcomeView struct {
	Status int    `json:"status"`
	Code   string `json:"code,omitempty"`
}

func viewAuditEvent(e credit.AuditEvent) auditEventView {
	return auditEventView{
		ID: e.ID, At: e.At, Actor: viewActor(e.Actor), Action: e.Action, Target: e.Target, RequestID: e.RequestID,
		Outcome: auditOutcomeView{Status: e.Outcome.Status, Code: e.Outcome.Code},
	}
}

// instantParam reads a date or an RFC 3339 instant. A date names a whole São
// Paulo day: its start, or when endOfDay, the start of the next one.
func instantParam(r *http.Request, name string, endOfDay bool) (time.Time, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, credit.SaoPaulo())
	if err != nil {
		return time.Time{}, invalidParam(name, "deve ser uma data AAAA-MM-DD ou um instante RFC 3339")
	}
	if endOfDay {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}
