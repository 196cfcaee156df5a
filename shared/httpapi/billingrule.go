package httpapi

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"time"

	"creditanalysis/shared/credit"
)

// BillingRuleHandler serves the billing rule's runs: the list the
// collections team follows, one run, and an admin's "run it now".
type BillingRuleHandler struct {
	Rule *credit.BillingRule
}

func (h *BillingRuleHandler) Routes() []Route {
	return []Route{
		{"GET", "/billing-rule/runs", h.list},
		{"GET", "/billing-rule/runs/{id}", h.get},
		{"POST", "/billing-rule/runs", h.start},
	}
}

// billingCountsView never answers a null skipped.
type billingCountsView struct {
	Examined int            `json:"examined"`
	Included int            `json:"included"`
	Removed  int            `json:"removed"`
	Synced   int            `json:"synced"`
	Skipped  map[string]int `json:"skipped"`
	Failed   int            `json:"failed"`
}

// billingPositionView is how far a run got.
type billingPositionView struct {
	IntegrationsDone []string                  `json:"integrationsDone"`
	InProgress       []integrationPositionView `json:"inProgress"`
}

type integrationPositionView struct {
	IntegrationID string          `json:"integrationId"`
	AfterInvoice  *invoiceKeyView `json:"afterInvoice,omitempty"`
}

// invoiceKeyView is an open invoice's place in the walk.
type invoiceKeyView struct {
	DueDate    credit.Date `json:"dueDate"`
	CustomerID string      `json:"customerId"`
	InvoiceID  string      `json:"invoiceId"`
}

// billingRunErrorView is one failure of a run.
type billingRunErrorView struct {
	At             time.Time `json:"at"`
	IntegrationID  string    `json:"integrationId,omitempty"`
	CustomerID     string    `json:"customerId,omitempty"`
	InvoiceID      string    `json:"invoiceId,omitempty"`
	NegativationID string    `json:"negativationId,omitempty"`
	Code           string    `json:"code"`
	Message        string    `json:"message"`
}

// billingRunView is a run as callers see it; the lease is bookkeeping.
type billingRunView struct {
	ID          string                  `json:"id"`
	Trigger     credit.BillingTrigger   `json:"trigger"`
	RequestedBy *actorView              `json:"requestedBy,omitempty"`
	Status      credit.BillingRunStatus `json:"status"`
	Day         credit.Date             `json:"day"`
	StartedAt   time.Time               `json:"startedAt"`
	FinishedAt  *time.Time              `json:"finishedAt"`
	Counts      billingCountsView       `json:"counts"`
	Errors      []billingRunErrorView   `json:"errors"`
	Position    billingPositionView     `json:"position"`
	ResumedFrom string                  `json:"resumedFrom,omitempty"`
	DryRun      bool                    `json:"dryRun"`
	Preview     *billingPreviewView     `json:"preview,omitempty"`
	Links       *billingRunLinksView    `json:"links,omitempty"`
}

// billingRunLinksView points at what a run did: the negativations it
// created (its inclusions, whatever became of them).
type billingRunLinksView struct {
	Negativations string `json:"negativations"`
}

// billingPreviewView is what a dry run would do: the first items of each
// list (the counts have them all).
type billingPreviewView struct {
	Include []billingPreviewItemView `json:"include"`
	Remove  []billingPreviewItemView `json:"remove"`
	Skip    []billingPreviewItemView `json:"skip"`
}

type billingPreviewItemView struct {
	IntegrationID  string       `json:"integrationId"`
	CustomerID     string       `json:"customerId"`
	InvoiceID      string       `json:"invoiceId"`
	NegativationID string       `json:"negativationId,omitempty"`
	Document       string       `json:"document,omitempty"`
	AmountCents    credit.Cents `json:"amountCents"`
	DueDate        credit.Date  `json:"dueDate"`
	Reason         string       `json:"reason,omitempty"`
}

func viewBillingPreview(p credit.BillingPreview) *billingPreviewView {
	item := func(it credit.BillingPreviewItem) billingPreviewItemView {
		return billingPreviewItemView{IntegrationID: it.IntegrationID, CustomerID: it.CustomerID, InvoiceID: it.InvoiceID,
			NegativationID: it.NegativationID, Document: it.MaskedDocument, AmountCents: it.AmountCents, DueDate: it.DueDate, Reason: it.Reason}
	}
	return &billingPreviewView{Include: viewAll(p.Include, item), Remove: viewAll(p.Remove, item), Skip: viewAll(p.Skip, item)}
}

func viewBillingRun(r credit.BillingRun) billingRunView {
	c := r.Counts
	v := billingRunView{
		ID: r.ID, Trigger: r.Trigger, Status: r.Status, Day: r.Day, StartedAt: r.StartedAt,
		Counts: billingCountsView{Examined: c.Examined, Included: c.Included, Removed: c.Removed, Synced: c.Synced,
			Skipped: c.Skipped, Failed: c.Failed},
		Errors:      viewAll(r.Errors, func(e credit.BillingRunError) billingRunErrorView { return billingRunErrorView(e) }),
		Position:    billingPositionView{IntegrationsDone: r.Position.Done, InProgress: []integrationPositionView{}},
		ResumedFrom: r.ResumedFrom,
		DryRun:      r.DryRun,
	}
	if r.DryRun {
		v.Preview = viewBillingPreview(r.Preview)
	} else {
		v.Links = &billingRunLinksView{Negativations: "/negativations?runId=" + url.QueryEscape(r.ID)}
	}
	if r.Trigger == credit.TriggerManual {
		by := viewActor(r.RequestedBy)
		v.RequestedBy = &by
	}
	if !r.FinishedAt.IsZero() {
		at := r.FinishedAt
		v.FinishedAt = &at
	}
	if v.Counts.Skipped == nil {
		v.Counts.Skipped = map[string]int{}
	}
	if v.Position.IntegrationsDone == nil {
		v.Position.IntegrationsDone = []string{}
	}
	for _, ip := range r.Position.Partial {
		pv := integrationPositionView{IntegrationID: ip.IntegrationID}
		if ip.After != nil {
			after := invoiceKeyView(*ip.After)
			pv.AfterInvoice = &after
		}
		v.Position.InProgress = append(v.Position.InProgress, pv)
	}
	return v
}

func (h *BillingRuleHandler) list(w http.ResponseWriter, r *http.Request) error {
	p, err := PageOf(r)
	if err != nil {
		return err
	}
	runs, next, err := h.Rule.List(r.Context(), p)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, NewList(viewAll(runs, viewBillingRun), next))
	return nil
}

func (h *BillingRuleHandler) get(w http.ResponseWriter, r *http.Request) error {
	id, err := PathID(r, "id")
	if err != nil {
		return err
	}
	run, err := h.Rule.Get(r.Context(), id)
	if err != nil {
		return err
	}
	WriteJSON(w, http.StatusOK, viewBillingRun(run))
	return nil
}

// startRequest is the optional body of a manual run.
type startRequest struct {
	DryRun *bool `json:"dryRun"`
}

// start takes an optional body: none, an empty object, or {"dryRun": true}
// for a dry run; anything else is refused like any unknown field.
func (h *BillingRuleHandler) start(w http.ResponseWriter, r *http.Request) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return credit.NewError(credit.KindInvalid, CodeInvalidJSON, "Não foi possível ler o corpo da requisição.").WithCause(err)
	}
	var req startRequest
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 {
		if len(body) > MaxBodyBytes {
			return errBodyTooLarge
		}
		if err := DecodeBytes(body, &req); err != nil {
			return err
		}
		if trimmed[0] != '{' {
			return credit.NewError(credit.KindInvalid, CodeInvalidType, `O corpo da requisição, quando enviado, deve ser um objeto JSON: {} ou {"dryRun": true}.`)
		}
	}
	run, err := h.Rule.Start(r.Context(), credit.StartRequest{DryRun: req.DryRun != nil && *req.DryRun})
	if err != nil {
		return err
	}
	AuditTarget(r, "runId", run.ID)
	w.Header().Set("Location", "/billing-rule/runs/"+run.ID)
	WriteJSON(w, http.StatusAccepted, startedView{ID: run.ID, Status: run.Status, DryRun: run.DryRun})
	return nil
}

// startedView answers a run just recorded: where to follow it.
type startedView struct {
	ID     string                  `json:"id"`
	Status credit.BillingRunStatus `json:"status"`
	DryRun bool                    `json:"dryRun"`
}
