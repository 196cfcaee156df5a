package httpapi

import (
	"net/http"
	"time"

	"creditanalysis/shared/credit"
)

// ReportsHandler serves a consultation's report as a PDF: rendered on its
// first download, handed out through a link that expires within
// credit.ReportURLTTL. It is its own function, so that the consultations
// function links no PDF renderer and this one no bureau credentials.
type ReportsHandler struct {
	Service *credit.ConsultationService
}

func (h *ReportsHandler) Routes() []Route {
	return []Route{
		{"GET", "/consultations/{id}/pdf", h.pdf},
	}
}

// pdfLinkView is a short-lived link to a report's PDF.
type pdfLinkView struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expiresAt"`
}

func (h *ReportsHandler) pdf(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	format := r.URL.Query().Get("format")
	if format != "" && format != "json" {
		return invalidParam("format", `deve ser "json" ou omitido`)
	}
	u, err := h.Service.ReportURL(r.Context(), id)
	if err != nil {
		return err
	}
	link := pdfLinkView(u)
	if format == "json" {
		WriteJSON(w, http.StatusOK, link)
		return nil
	}
	w.Header().Set("Location", u.URL)
	WriteJSON(w, http.StatusSeeOther, link)
	return nil
}
