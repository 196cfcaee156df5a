package httpapi

import (
	"net/http"
	"strings"
	"time"

	"creditanalysis/shared/credit"
)

// ConsultationsHandler serves the consultation center: consulting a
// document or a party, reading what was consulted, and the report's PDF;
// and a party's erasure, which deletes the reports it serves.
type ConsultationsHandler struct {
	Service *credit.ConsultationService
	Erasure *credit.ErasureService
}

func (h *ConsultationsHandler) Routes() []Route {
	return []Route{
		{"POST", "/consultations", h.create},
		{"GET", "/consultations", h.list},
		{"GET", "/consultations/{id}", h.get},
		{"GET", "/parties/{kind}/{id}/consultations", h.listByParty},
		{"POST", "/parties/{kind}/{id}/erasure", h.erase},
	}
}

type consultationRequest struct {
	Party *struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
	} `json:"party"`
	Document      string `json:"document"`
	BranchID      string `json:"branchId"`
	UF            string `json:"uf"`
	Plan          string `json:"plan"`
	ConfirmRepeat bool   `json:"confirmRepeat"`
}

// consultationView is a consultation as callers see it: the document
// masked, the report without the bureau's raw answer, no storage key.
type consultationView struct {
	ID            string                    `json:"id"`
	CreatedAt     time.Time                 `json:"createdAt"`
	Status        credit.ConsultationStatus `json:"status"`
	ErrorCode     string                    `json:"errorCode,omitempty"`
	ErrorMessage  string                    `json:"errorMessage,omitempty"`
	Document      string                    `json:"document"`
	DocumentType  credit.DocumentKind       `json:"documentType"`
	UF            string                    `json:"uf,omitempty"`
	Plan          credit.Plan               `json:"plan"`
	PlanName      string                    `json:"planName"`
	IntegrationID string                    `json:"integrationId"`
	BranchID      string                    `json:"branchId"`
	Environment   credit.Environment        `json:"environment"`
	Party         *partyRefView             `json:"party,omitempty"`
	RequestedBy   actorView                 `json:"requestedBy"`
	Warnings      []warningView             `json:"warnings"`
	// Overview is an *overviewView, or for a caller who does not read
	// reports an *overviewCountsView; nil without a report.
	Overview any `json:"overview"`
	// Protocol is the bureau's number of a success.
	Protocol string `json:"protocol,omitempty"`
	// ReportExpiresAt ends the report's retention; past it the record has
	// neither report nor overview.
	ReportExpiresAt *time.Time `json:"reportExpiresAt,omitempty"`
	// ReportErasedAt is when the report was erased at the holder's request.
	ReportErasedAt *time.Time `json:"reportErasedAt,omitempty"`
	// Report is absent from lists and null for a failed consultation.
	Report *reportView `json:"report,omitempty"`
}

// partyRefView names the party a consultation was made for.
type partyRefView struct {
	Kind credit.PartyKind `json:"kind"`
	ID   string           `json:"id"`
}

// warningView is a note on a consultation that did not stop it.
type warningView struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// overviewView is what a list shows of a consultation's report.
type overviewView struct {
	Name            string       `json:"name"`
	Score           *int         `json:"score"`
	ScoreClass      string       `json:"scoreClass,omitempty"`
	Occurrences     int          `json:"occurrences"`
	NothingRecorded bool         `json:"nothingRecorded"`
	PendenciesTotal credit.Cents `json:"pendenciesTotalCents"`
}

// overviewCountsView is the overview without what identifies or rates the
// person (name, score): what a caller who does not read reports sees.
type overviewCountsView struct {
	Occurrences     int          `json:"occurrences"`
	NothingRecorded bool         `json:"nothingRecorded"`
	PendenciesTotal credit.Cents `json:"pendenciesTotalCents"`
}

// reportAccess is how much of a consultation's report a view holds.
type reportAccess int

const (
	// noReport: the record, the overview's counts and totals only (a
	// caller who does not read reports).
	noReport reportAccess = iota
	// overviewOnly: the record and the whole overview (lists).
	overviewOnly
	// fullReport: the record, the overview and the report.
	fullReport
)

// accessFor is what the caller of r may see of a report: want, or less
// when the caller does not read reports.
func accessFor(r *http.Request, want reportAccess) reportAccess {
	if !ReadsReports(Actor(r.Context())) {
		return noReport
	}
	return want
}

// viewConsultation maps c, holding of its report what access allows.
func viewConsultation(c credit.Consultation, access reportAccess) consultationView {
	v := consultationView{
		ID: c.ID, CreatedAt: c.CreatedAt, Status: c.Status, ErrorCode: c.ErrorCode, ErrorMessage: c.ErrorMessage,
		Document: c.Document.Masked(), DocumentType: c.Document.Kind(), UF: c.UF, Plan: c.Plan, PlanName: c.Plan.Name(),
		IntegrationID: c.IntegrationID, BranchID: c.BranchID, Environment: c.Environment,
		RequestedBy: viewActor(c.RequestedBy), Protocol: c.Protocol,
		Warnings: viewAll(c.Warnings, func(w credit.Warning) warningView { return warningView(w) }),
	}
	if c.Party != nil {
		v.Party = &partyRefView{Kind: c.Party.Kind, ID: c.Party.ID}
	}
	if !c.ReportExpiresAt.IsZero() {
		exp := c.ReportExpiresAt.UTC()
		v.ReportExpiresAt = &exp
	}
	if !c.ReportErasedAt.IsZero() {
		at := c.ReportErasedAt.UTC()
		v.ReportErasedAt = &at
	}
	// A record past its report's retention has no overview left to show.
	if c.Status == credit.ConsultationSucceeded && c.Overview != (credit.ReportOverview{}) {
		if access == noReport {
			v.Overview = &overviewCountsView{Occurrences: c.Overview.Occurrences, NothingRecorded: c.Overview.NothingRecorded, PendenciesTotal: c.Overview.PendenciesTotal}
		} else {
			o := overviewView(c.Overview)
			v.Overview = &o
		}
	}
	if access == fullReport && c.Report != nil {
		r := viewReport(*c.Report)
		v.Report = &r
	}
	return v
}

func (h *ConsultationsHandler) create(w http.ResponseWriter, r *http.Request) error {
	var req consultationRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	in := credit.ConsultationRequest{Document: req.Document, BranchID: req.BranchID, UF: req.UF, Plan: req.Plan, ConfirmRepeat: req.ConfirmRepeat}
	if req.Party != nil {
		in.Party = &credit.PartyRef{Kind: credit.PartyKind(req.Party.Kind), ID: req.Party.ID}
	}
	out, err := h.Service.Consult(r.Context(), in)
	if err != nil {
		return err
	}
	// The service named the consultation and its document on the audit
	// event, which its record's write carries.
	v := viewConsultation(out.Consultation, fullReport)
	w.Header().Set("Location", "/consultations/"+v.ID)
	WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (h *ConsultationsHandler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	c, err := h.Service.Get(r.Context(), id)
	if err != nil {
		return err
	}
	v := viewConsultation(c, accessFor(r, fullReport))
	if v.Report != nil {
		AuditRead(r)
		AuditTarget(r, "document", v.Document)
	}
	WriteJSON(w, http.StatusOK, v)
	return nil
}

// consultationFilter reads the center's filters from the query string.
func consultationFilter(r *http.Request) (credit.ConsultationFilter, error) {
	q := r.URL.Query()
	var f credit.ConsultationFilter
	for name, dst := range map[string]*credit.Date{"from": &f.From, "to": &f.To} {
		t, err := DateParam(r, name)
		if err != nil {
			return f, err
		}
		if !t.IsZero() {
			*dst = credit.DateOf(t, time.UTC)
		}
	}
	if v := q.Get("integrationId"); v != "" {
		if !credit.ValidIdentifier(v) {
			return f, invalidParam("integrationId", "identificador inválido")
		}
		f.IntegrationID = v
	}
	if v := q.Get("document"); v != "" {
		doc, err := credit.ParseDocument(v)
		if err != nil {
			return f, credit.NewError(credit.KindInvalid, credit.CodeInvalidDocument, "CPF/CNPJ inválido.").
				WithDetails(map[string]any{"parameter": "document"})
		}
		f.Document = doc
	}
	f.Plan = credit.Plan(q.Get("plan"))
	f.Status = credit.ConsultationStatus(q.Get("status"))
	return f, nil
}

func (h *ConsultationsHandler) list(w http.ResponseWriter, r *http.Request) error {
	f, err := consultationFilter(r)
	if err != nil {
		return err
	}
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	items, next, err := h.Service.List(r.Context(), f, p)
	if err != nil {
		return err
	}
	views := viewConsultations(r, items)
	if !f.Document.IsZero() {
		AuditTarget(r, "document", f.Document.Masked())
	}
	WriteJSON(w, http.StatusOK, NewList(views, next))
	return nil
}

func (h *ConsultationsHandler) listByParty(w http.ResponseWriter, r *http.Request) error {
	kind, id, err := partyPath(r)
	if err != nil {
		return err
	}
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	items, next, err := h.Service.ListByParty(r.Context(), credit.PartyRef{Kind: kind, ID: id}, p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewConsultations(r, items), next))
	return nil
}

// viewConsultations maps a page of the center. A page that shows a
// report's contents (an overview's name and score) goes on the audit trail,
// naming the consultations it showed.
func viewConsultations(r *http.Request, items []credit.Consultation) []consultationView {
	access := accessFor(r, overviewOnly)
	views := make([]consultationView, len(items))
	var shown []string
	for i, c := range items {
		views[i] = viewConsultation(c, access)
		if _, ok := views[i].Overview.(*overviewView); ok {
			shown = append(shown, c.ID)
		}
	}
	if len(shown) > 0 {
		AuditRead(r)
		AuditTarget(r, credit.AuditTargetConsultationIDs, strings.Join(shown, ","))
	}
	return views
}

// pdf redirects to a short-lived link to the report's PDF (303, so that a
// browser or `curl -L` downloads it); ?format=json answers the link instead.
// erasureView is what an erasure did: the party's data and its invoices are
// gone, and so many consultations keep only their minimal record.
type erasureView struct {
	Kind          credit.PartyKind `json:"kind"`
	ID            string           `json:"id"`
	ErasedAt      time.Time        `json:"erasedAt"`
	ErasedBy      actorView        `json:"erasedBy"`
	Consultations int              `json:"consultations"`
}

func (h *ConsultationsHandler) erase(w http.ResponseWriter, r *http.Request) error {
	kind, id, err := partyPath(r)
	if err != nil {
		return err
	}
	e, err := h.Erasure.Erase(r.Context(), kind, id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, erasureView{Kind: e.Kind, ID: e.ID, ErasedAt: e.ErasedAt.UTC(), ErasedBy: viewActor(e.ErasedBy),
		Consultations: e.Consultations})
	return nil
}
