package httpapi

import (
	"net/http"
	"time"

	"creditanalysis/shared/credit"
)

// PartiesHandler serves what the ERP pushes: customers, leads, prospects and
// customers' invoices.
type PartiesHandler struct {
	Service *credit.PartyService
}

func (h *PartiesHandler) Routes() []Route {
	return []Route{
		{"PUT", "/parties/{kind}/{id}", h.put},
		{"GET", "/parties/{kind}/{id}", h.get},
		{"PUT", "/parties/customers/{id}/invoices/{invoiceId}", h.putInvoice},
		{"GET", "/parties/customers/{id}/invoices", h.listInvoices},
	}
}

type partyRequest struct {
	BranchID         string         `json:"branchId"`
	Document         string         `json:"document"`
	Name             string         `json:"name"`
	Gender           string         `json:"gender"`
	BirthDate        string         `json:"birthDate"`
	MobilePhone      string         `json:"mobilePhone"`
	Address          credit.Address `json:"address"`
	AutoNegativation string         `json:"autoNegativation"`
}

// partyView shows the full document only to the roles that write parties;
// a viewer sees it masked.
type partyView struct {
	Kind             credit.PartyKind        `json:"kind"`
	ID               string                  `json:"id"`
	BranchID         string                  `json:"branchId"`
	Document         string                  `json:"document"`
	DocumentType     credit.DocumentKind     `json:"documentType"`
	Name             string                  `json:"name"`
	Gender           credit.Gender           `json:"gender,omitempty"`
	BirthDate        credit.Date             `json:"birthDate"`
	MobilePhone      string                  `json:"mobilePhone,omitempty"`
	Address          credit.Address          `json:"address"`
	AutoNegativation credit.AutoNegativation `json:"autoNegativation"`
	CreatedAt        time.Time               `json:"createdAt"`
	UpdatedAt        time.Time               `json:"updatedAt"`
	UpdatedBy        credit.Actor            `json:"updatedBy"`
}

func viewParty(p credit.Party, a credit.Actor) partyView {
	doc := p.Document.Masked()
	if a.Has(credit.RoleAdmin) || a.Has(credit.RoleAnalyst) || a.Has(credit.RoleCollector) {
		doc = p.Document.Number()
	}
	return partyView{
		Kind: p.Kind, ID: p.ID, BranchID: p.BranchID, Document: doc, DocumentType: p.Document.Kind(), Name: p.Name,
		Gender: p.Gender, BirthDate: p.BirthDate, MobilePhone: p.MobilePhone, Address: p.Address,
		AutoNegativation: p.AutoNegativation, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, UpdatedBy: p.UpdatedBy,
	}
}

func partyPath(r *http.Request) (credit.PartyKind, string, error) {
	kind, ok := credit.PartyKindFromPath(r.PathValue("kind"))
	if !ok {
		return "", "", invalidParam("kind", `deve ser "customers", "leads" ou "prospects"`)
	}
	id, err := PathID(r, "id")
	return kind, id, err
}

func (h *PartiesHandler) put(w http.ResponseWriter, r *http.Request) error {
	kind, id, err := partyPath(r)
	if err != nil {
		return err
	}
	var req partyRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	p, created, err := h.Service.Put(r.Context(), kind, id, credit.PartyInput(req))
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	WriteJSON(w, status, viewParty(p, Actor(r.Context())))
	return nil
}

func (h *PartiesHandler) get(w http.ResponseWriter, r *http.Request) error {
	kind, id, err := partyPath(r)
	if err != nil {
		return err
	}
	p, err := h.Service.Get(r.Context(), kind, id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewParty(p, Actor(r.Context())))
	return nil
}

type invoiceRequest struct {
	AmountCents    *int64 `json:"amountCents"`
	DueDate        string `json:"dueDate"`
	Status         string `json:"status"`
	PaidAt         string `json:"paidAt"`
	ContractNumber string `json:"contractNumber"`
	DocumentNumber string `json:"documentNumber"`
}

func (h *PartiesHandler) putInvoice(w http.ResponseWriter, r *http.Request) error {
	customerID, err := PathID(r, "id")
	if err != nil {
		return err
	}
	invoiceID, err := PathID(r, "invoiceId")
	if err != nil {
		return err
	}
	var req invoiceRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	inv, err := h.Service.PutInvoice(r.Context(), customerID, invoiceID, credit.InvoiceInput(req))
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, inv)
	return nil
}

func (h *PartiesHandler) listInvoices(w http.ResponseWriter, r *http.Request) error {
	customerID, err := PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	items, next, err := h.Service.ListInvoices(r.Context(), customerID, p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(items, next))
	return nil
}
