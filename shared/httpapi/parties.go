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
	BranchID         string      `json:"branchId"`
	Document         string      `json:"document"`
	Name             string      `json:"name"`
	Gender           string      `json:"gender"`
	BirthDate        string      `json:"birthDate"`
	MobilePhone      string      `json:"mobilePhone"`
	Address          addressView `json:"address"`
	AutoNegativation string      `json:"autoNegativation"`
}

func (r partyRequest) input() credit.PartyInput {
	return credit.PartyInput{
		BranchID: r.BranchID, Document: r.Document, Name: r.Name, Gender: r.Gender, BirthDate: r.BirthDate,
		MobilePhone: r.MobilePhone, Address: r.Address.address(), AutoNegativation: r.AutoNegativation,
	}
}

// addressView is a postal address, the same both ways.
type addressView struct {
	CEP          string `json:"cep"`
	Street       string `json:"street"`
	Number       string `json:"number"`
	Complement   string `json:"complement"`
	Neighborhood string `json:"neighborhood"`
	City         string `json:"city"`
	UF           string `json:"uf"`
}

func viewAddress(a credit.Address) addressView { return addressView(a) }

func (v addressView) address() credit.Address { return credit.Address(v) }

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
	Address          addressView             `json:"address"`
	AutoNegativation credit.AutoNegativation `json:"autoNegativation"`
	CreatedAt        time.Time               `json:"createdAt"`
	UpdatedAt        time.Time               `json:"updatedAt"`
	UpdatedBy        actorView               `json:"updatedBy"`
}

func viewParty(p credit.Party, a credit.Actor) partyView {
	doc := p.Document.Masked()
	if a.Has(credit.RoleAdmin) || a.Has(credit.RoleAnalyst) || a.Has(credit.RoleCollector) {
		doc = p.Document.Number()
	}
	return partyView{
		Kind: p.Kind, ID: p.ID, BranchID: p.BranchID, Document: doc, DocumentType: p.Document.Kind(), Name: p.Name,
		Gender: p.Gender, BirthDate: p.BirthDate, MobilePhone: p.MobilePhone, Address: viewAddress(p.Address),
		AutoNegativation: p.AutoNegativation, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, UpdatedBy: viewActor(p.UpdatedBy),
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
	p, created, err := h.Service.Put(r.Context(), kind, id, req.input())
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

// invoiceView is a customer's invoice as callers see it.
type invoiceView struct {
	CustomerID     string               `json:"customerId"`
	ID             string               `json:"id"`
	BranchID       string               `json:"branchId"`
	AmountCents    credit.Cents         `json:"amountCents"`
	DueDate        credit.Date          `json:"dueDate"`
	Status         credit.InvoiceStatus `json:"status"`
	PaidAt         credit.Date          `json:"paidAt"`
	ContractNumber string               `json:"contractNumber"`
	DocumentNumber string               `json:"documentNumber"`
	SettledOn      credit.Date          `json:"settledOn"`
	UpdatedAt      time.Time            `json:"updatedAt"`
	UpdatedBy      actorView            `json:"updatedBy"`
}

func viewInvoice(inv credit.Invoice) invoiceView {
	return invoiceView{
		CustomerID: inv.CustomerID, ID: inv.ID, BranchID: inv.BranchID, AmountCents: inv.AmountCents, DueDate: inv.DueDate,
		Status: inv.Status, PaidAt: inv.PaidAt, ContractNumber: inv.ContractNumber, DocumentNumber: inv.DocumentNumber,
		SettledOn: inv.SettledOn, UpdatedAt: inv.UpdatedAt, UpdatedBy: viewActor(inv.UpdatedBy),
	}
}

type invoiceRequest struct {
	AmountCents    *int64 `json:"amountCents"`
	DueDate        string `json:"dueDate"`
	Status         string `json:"status"`
	PaidAt         string `json:"paidAt"`
	ContractNumber string `json:"contractNumber"`
	DocumentNumber string `json:"documentNumber"`
}

func (r invoiceRequest) input() credit.InvoiceInput {
	return credit.InvoiceInput{
		AmountCents: r.AmountCents, DueDate: r.DueDate, Status: r.Status, PaidAt: r.PaidAt,
		ContractNumber: r.ContractNumber, DocumentNumber: r.DocumentNumber,
	}
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
	inv, err := h.Service.PutInvoice(r.Context(), customerID, invoiceID, req.input())
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewInvoice(inv))
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
	WriteJSON(w, http.StatusOK, NewList(viewAll(items, viewInvoice), next))
	return nil
}
