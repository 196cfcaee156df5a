package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"strconv"
	"time"

	"creditanalysis/shared/credit"
)

// NegativationsHandler serves the negativations area: including a debtor
// with the bureau, following the record, removing it.
type NegativationsHandler struct {
	Service *credit.NegativationService
}

func (h *NegativationsHandler) Routes() []Route {
	return []Route{
		{"POST", "/negativations", h.include},
		{"GET", "/negativations", h.list},
		{"GET", "/negativations/pending-removals", h.pendingRemovals},
		{"GET", "/negativations/{id}", h.get},
		{"POST", "/negativations/{id}/removal", h.remove},
		{"POST", "/negativations/sync", h.sync},
		{"GET", "/parties/customers/{id}/negativations", h.byCustomer},
	}
}

// negativationView is a negativation as callers see it: the debtor's
// document masked, the internal bookkeeping left out.
type negativationView struct {
	ID              string                    `json:"id"`
	Status          credit.NegativationStatus `json:"status"`
	CustomerID      string                    `json:"customerId"`
	InvoiceID       string                    `json:"invoiceId"`
	IntegrationID   string                    `json:"integrationId"`
	BranchID        string                    `json:"branchId"`
	Document        string                    `json:"document"`
	DocumentType    credit.DocumentKind       `json:"documentType"`
	DebtorName      string                    `json:"debtorName"`
	AmountCents     credit.Cents              `json:"amountCents"`
	DueDate         credit.Date               `json:"dueDate"`
	ContractNumber  string                    `json:"contractNumber"`
	DocumentNumber  string                    `json:"documentNumber"`
	RestrictionCode string                    `json:"restrictionCode"`
	RemovalCode     string                    `json:"removalCode,omitempty"`
	Origin          credit.Origin             `json:"origin"`
	RequestedBy     actorView                 `json:"requestedBy"`
	RunID           string                    `json:"runId,omitempty"`
	Protocol        string                    `json:"protocol,omitempty"`
	BureauMessage   string                    `json:"bureauMessage,omitempty"`
	OutcomeUnknown  bool                      `json:"outcomeUnknown"`
	Attempts        int                       `json:"attempts"`
	CreatedAt       time.Time                 `json:"createdAt"`
	UpdatedAt       time.Time                 `json:"updatedAt"`
	RemovedAt       *time.Time                `json:"removedAt,omitempty"`
	RemovedBy       *actorView                `json:"removedBy,omitempty"`
	History         []negativationEventView   `json:"history"`
	LastError       *negativationErrorView    `json:"lastError,omitempty"`
}

// negativationEventView is one entry of a negativation's history.
type negativationEventView struct {
	Status    credit.NegativationStatus `json:"status"`
	At        time.Time                 `json:"at"`
	By        actorView                 `json:"by"`
	RunID     string                    `json:"runId,omitempty"`
	Message   string                    `json:"message,omitempty"`
	ErrorCode string                    `json:"errorCode,omitempty"`
}

func viewNegativationEvent(e credit.NegativationEvent) negativationEventView {
	return negativationEventView{Status: e.Status, At: e.At, By: viewActor(e.By), RunID: e.RunID, Message: e.Message, ErrorCode: e.ErrorCode}
}

// negativationErrorView is the last failure of a bureau call on the record.
type negativationErrorView struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func viewNegativation(n credit.Negativation) negativationView {
	v := negativationView{
		ID: n.ID, Status: n.Status, CustomerID: n.CustomerID, InvoiceID: n.InvoiceID, IntegrationID: n.IntegrationID,
		BranchID: n.BranchID, Document: n.Document.Masked(), DocumentType: n.Document.Kind(), DebtorName: n.DebtorName,
		AmountCents: n.AmountCents, DueDate: n.DueDate, ContractNumber: n.ContractNumber, DocumentNumber: n.DocumentNumber,
		RestrictionCode: n.RestrictionCode, RemovalCode: n.RemovalCode, Origin: n.Origin, RequestedBy: viewActor(n.RequestedBy),
		RunID: n.RunID, Protocol: n.Protocol, BureauMessage: n.BureauMessage, OutcomeUnknown: n.OutcomeUnknown,
		Attempts: n.Attempts, CreatedAt: n.CreatedAt, UpdatedAt: n.UpdatedAt, History: viewAll(n.History, viewNegativationEvent),
	}
	if n.LastError != nil {
		v.LastError = &negativationErrorView{Code: n.LastError.Code, Message: n.LastError.Message}
	}
	if !n.RemovedAt.IsZero() {
		at, by := n.RemovedAt, viewActor(n.RemovedBy)
		v.RemovedAt, v.RemovedBy = &at, &by
	}
	return v
}

func viewNegativations(ns []credit.Negativation) []negativationView {
	return viewAll(ns, viewNegativation)
}

type includeRequest struct {
	CustomerID      string `json:"customerId"`
	InvoiceID       string `json:"invoiceId"`
	RestrictionCode string `json:"restrictionCode"`
}

func (h *NegativationsHandler) include(w http.ResponseWriter, r *http.Request) error {
	var req includeRequest
	if err := Decode(r, &req); err != nil {
		return err
	}
	n, err := h.Service.Include(r.Context(), credit.IncludeRequest{
		CustomerID: req.CustomerID, InvoiceID: req.InvoiceID, RestrictionCode: req.RestrictionCode, Origin: credit.OriginManual,
	})
	if err != nil {
		return err
	}
	v := viewNegativation(n)
	AuditTarget(r, "negativationId", v.ID)
	AuditTarget(r, "document", v.Document)
	w.Header().Set("Location", "/negativations/"+n.ID)
	WriteJSON(w, http.StatusCreated, v)
	return nil
}

func (h *NegativationsHandler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	f := credit.NegativationFilter{
		Status: credit.NegativationStatus(q.Get("status")), IntegrationID: q.Get("integrationId"), CustomerID: q.Get("customerId"),
		Origin: credit.Origin(q.Get("origin")), RunID: q.Get("runId"),
	}
	if f.From, err = dateParam(r, "from"); err != nil {
		return err
	}
	if f.To, err = dateParam(r, "to"); err != nil {
		return err
	}
	items, next, err := h.Service.List(r.Context(), f, p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewNegativations(items), next))
	return nil
}

func dateParam(r *http.Request, name string) (credit.Date, error) {
	t, err := DateParam(r, name)
	if err != nil || t.IsZero() {
		return credit.Date{}, err
	}
	return credit.NewDate(t.Date()), nil
}

func (h *NegativationsHandler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	n, err := h.Service.Get(r.Context(), id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewNegativation(n))
	return nil
}

type removalRequest struct {
	RemovalCode string `json:"removalCode"`
}

func (h *NegativationsHandler) remove(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	var req removalRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	n, err := h.Service.Remove(r.Context(), id, credit.RemoveRequest{RemovalCode: req.RemovalCode, Origin: credit.OriginManual})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewNegativation(n))
	return nil
}

type syncRequest struct {
	IntegrationID string `json:"integrationId"`
}

func (h *NegativationsHandler) sync(w http.ResponseWriter, r *http.Request) error {
	var req syncRequest
	if err := decodeOptional(r, &req); err != nil {
		return err
	}
	res, err := h.Service.Sync(r.Context(), credit.SyncRequest{IntegrationID: req.IntegrationID})
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewSyncResult(res))
	return nil
}

// syncResultView counts what a sync saw and did.
type syncResultView struct {
	Integrations int                               `json:"integrations"`
	Examined     int                               `json:"examined"`
	Changed      int                               `json:"changed"`
	ByStatus     map[credit.NegativationStatus]int `json:"byStatus"`
	Errors       []syncErrorView                   `json:"errors"`
}

// syncErrorView is a failure of one integration's sync.
type syncErrorView struct {
	IntegrationID string `json:"integrationId"`
	Code          string `json:"code"`
	Message       string `json:"message"`
}

func viewSyncResult(r credit.SyncResult) syncResultView {
	return syncResultView{
		Integrations: r.Integrations, Examined: r.Examined, Changed: r.Changed, ByStatus: r.ByStatus,
		Errors: mapKeepingNil(r.Errors, func(e credit.SyncError) syncErrorView { return syncErrorView(e) }),
	}
}

// pendingRemovalView is a record the collector must remove, with the age of
// the payment in business days.
type pendingRemovalView struct {
	Negativation        negativationView     `json:"negativation"`
	InvoiceStatus       credit.InvoiceStatus `json:"invoiceStatus"`
	SettledOn           credit.Date          `json:"settledOn"`
	BusinessDaysElapsed int                  `json:"businessDaysElapsed"`
	Deadline            credit.Date          `json:"deadline"`
	Late                bool                 `json:"late"`
}

func viewPendingRemoval(p credit.PendingRemoval) pendingRemovalView {
	return pendingRemovalView{Negativation: viewNegativation(p.Negativation), InvoiceStatus: p.InvoiceStatus,
		SettledOn: p.SettledOn, BusinessDaysElapsed: p.BusinessDaysElapsed, Deadline: p.Deadline, Late: p.Late}
}

// pendingRemovals pages through the list the service computes whole (it
// must be sorted by payment date): the cursor is the offset of the next
// page.
func (h *NegativationsHandler) pendingRemovals(w http.ResponseWriter, r *http.Request) error {
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	start := 0
	if p.Cursor != "" {
		if start, err = strconv.Atoi(p.Cursor); err != nil || start < 0 {
			return credit.ErrInvalidCursor
		}
	}
	list, err := h.Service.PendingRemovals(r.Context(), r.URL.Query().Get("integrationId"))
	if err != nil {
		return err
	}
	if start > len(list) {
		return credit.ErrInvalidCursor
	}
	end := min(start+p.Limit, len(list))
	views := make([]pendingRemovalView, 0, end-start)
	for _, p := range list[start:end] {
		views = append(views, viewPendingRemoval(p))
	}
	next := ""
	if end < len(list) {
		next = strconv.Itoa(end)
	}
	WriteJSON(w, http.StatusOK, NewList(views, next))
	return nil
}

func (h *NegativationsHandler) byCustomer(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	items, next, err := h.Service.ListByCustomer(r.Context(), id, p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewNegativations(items), next))
	return nil
}

// decodeOptional is Decode for a body that may be left out entirely: no
// body means every field at its default.
func decodeOptional(r *http.Request, v any) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return credit.NewError(credit.KindInvalid, CodeInvalidJSON, "Não foi possível ler o corpo da requisição.").WithCause(err)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	return Decode(r, v)
}
