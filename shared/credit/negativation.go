package credit

import (
	"context"
	"errors"
	"strings"
	"time"
)

// NegativationStatus is where a negativation (registration of a debt with
// the bureau, PEFIN) stands in its life:
//
//	submitting ──▶ pending ──▶ active ──▶ removing ──▶ removed
//	    │  ▲          │                      │
//	    ▼  │          ▼                      ▼ (bureau fault: back to pending/active)
//	   failed      rejected
//
// Every state is definite: a record is written (submitting) before the
// bureau is called with the record's id as the idempotency reference, so a
// fault or a crash at any point leaves a record that a retry or the sync
// settles by asking the bureau about that reference, never a second
// registration of the debt.
type NegativationStatus string

const (
	// NegativationSubmitting: written, the inclusion is on its way to the
	// bureau. One left behind by a crash is taken over after
	// NegativationStaleAfter by a retry or the sync.
	NegativationSubmitting NegativationStatus = "submitting"
	// NegativationFailed: the inclusion did not go through; it may be
	// retried (the same record, the same reference). OutcomeUnknown tells
	// whether the bureau may have registered it anyway (a timeout, a lost or
	// garbled answer) or certainly did not (a refusal).
	NegativationFailed NegativationStatus = "failed"
	// NegativationPending: received by the bureau, not yet visible (the
	// notice letter, carta comunicado, is on its way).
	NegativationPending NegativationStatus = "pending"
	// NegativationActive: visible to whoever consults the debtor.
	NegativationActive NegativationStatus = "active"
	// NegativationRejected: refused by the bureau after processing; final.
	NegativationRejected NegativationStatus = "rejected"
	// NegativationRemoving: the removal (baixa) is on its way to the bureau.
	NegativationRemoving NegativationStatus = "removing"
	// NegativationRemoved: taken off the bureau; final, history kept.
	NegativationRemoved NegativationStatus = "removed"
)

// NegativationStatuses lists every status, in the order of the life cycle.
var NegativationStatuses = []NegativationStatus{
	NegativationSubmitting, NegativationFailed, NegativationPending, NegativationActive,
	NegativationRejected, NegativationRemoving, NegativationRemoved,
}

// Valid reports whether s is a known status.
func (s NegativationStatus) Valid() bool {
	for _, k := range NegativationStatuses {
		if s == k {
			return true
		}
	}
	return false
}

// Name is the status's Portuguese name, for messages.
func (s NegativationStatus) Name() string {
	switch s {
	case NegativationSubmitting:
		return "em envio"
	case NegativationFailed:
		return "com falha"
	case NegativationPending:
		return "pendente"
	case NegativationActive:
		return "ativa"
	case NegativationRejected:
		return "rejeitada"
	case NegativationRemoving:
		return "em baixa"
	case NegativationRemoved:
		return "baixada"
	}
	return string(s)
}

// NegativationStaleAfter is how long a submitting or removing record may
// wait for its bureau call before a retry or the sync takes it over: far
// beyond any request's deadline, so a call still in flight is never raced.
const NegativationStaleAfter = 2 * time.Minute

// Origin tells a negativation asked for by a person from one made by the
// billing rule.
type Origin string

const (
	OriginManual    Origin = "manual"
	OriginAutomatic Origin = "automatic"
)

// NegativationEvent is one entry of a negativation's history.
type NegativationEvent struct {
	Status NegativationStatus
	At     time.Time
	By     Actor
	// RunID names the billing-rule run that acted, if any.
	RunID   string
	Message string
	// ErrorCode is set on the entries that record a failure.
	ErrorCode string
}

// NegativationError is the last failure of a bureau call on the record.
type NegativationError struct {
	Code    string
	Message string
}

// MaxNegativationHistory bounds the history kept on a record (the first
// entry and the latest ones), so that a record retried for years stays
// small.
const MaxNegativationHistory = 100

// Negativation is one overdue invoice registered (or being registered) with
// the bureau. Its ID is the reference the bureau knows it by.
type Negativation struct {
	ID            string
	Status        NegativationStatus
	CustomerID    string
	InvoiceID     string
	IntegrationID string
	BranchID      string
	// Document and DebtorName are the debtor's as sent to the bureau.
	Document        Document
	DebtorName      string
	AmountCents     Cents
	DueDate         Date
	ContractNumber  string
	DocumentNumber  string
	RestrictionCode string
	RemovalCode     string
	Origin          Origin
	RequestedBy     Actor
	// RunID is the billing-rule run that created an automatic negativation.
	RunID string
	// Protocol and BureauMessage are the bureau's, from its last answer.
	Protocol      string
	BureauMessage string
	// OutcomeUnknown is set on a failed record whose inclusion may have
	// reached the bureau: it still counts as live until the sync or a retry
	// learns the truth.
	OutcomeUnknown bool
	// Attempts counts the inclusions sent (retries of a failed record).
	Attempts  int
	CreatedAt time.Time
	UpdatedAt time.Time
	RemovedAt time.Time
	RemovedBy Actor
	History   []NegativationEvent
	LastError *NegativationError
	// StatusBeforeRemoval is where a removing record goes back to when the
	// bureau refuses or fails the removal.
	StatusBeforeRemoval NegativationStatus
	// Version increases with every write; stores use it for optimistic
	// concurrency.
	Version int64
}

// Live reports whether the record is, or may be, registered with the
// bureau: pending, active, on its way in or out (submitting, removing), or
// failed with an unknown outcome. Live records count against their
// integration, which cannot be deleted while any exists (rule 4): a debt
// that might be registered must stay answerable through its integration.
func (n Negativation) Live() bool {
	switch n.Status {
	case NegativationSubmitting, NegativationPending, NegativationActive, NegativationRemoving:
		return true
	case NegativationFailed:
		return n.OutcomeUnknown
	}
	return false
}

// stale reports whether a submitting or removing record has waited for its
// bureau call longer than NegativationStaleAfter.
func (n Negativation) stale(now time.Time) bool {
	return now.Sub(n.UpdatedAt) > NegativationStaleAfter
}

// retryable reports whether an inclusion may be sent again for n.
func (n Negativation) retryable(now time.Time) bool {
	return n.Status == NegativationFailed || (n.Status == NegativationSubmitting && n.stale(now))
}

// removable reports whether a removal may be sent for n.
func (n Negativation) removable(now time.Time) bool {
	return n.Status == NegativationPending || n.Status == NegativationActive ||
		(n.Status == NegativationRemoving && n.stale(now))
}

// record appends an event to the history, keeping the first entry and the
// latest ones within MaxNegativationHistory.
func (n *Negativation) record(e NegativationEvent) {
	n.History = append(n.History, e)
	if len(n.History) > MaxNegativationHistory {
		n.History = append(n.History[:1], n.History[len(n.History)-MaxNegativationHistory+1:]...)
	}
}

// Error codes of the negativations area.
const (
	CodeAlreadyNegativated       = "already_negativated"
	CodeMissingCustomerFields    = "missing_customer_fields"
	CodeInvoiceNotOpen           = "invoice_not_open"
	CodeInvoiceWithoutAmount     = "invoice_without_amount"
	CodeInvoiceNotOverdue        = "invoice_not_overdue"
	CodeDebtTooOld               = "debt_too_old"
	CodeDebtorUnderage           = "debtor_underage"
	CodeRestrictionCodeRequired  = "restriction_code_required"
	CodeRemovalCodeRequired      = "removal_code_required"
	CodeInvalidStatus            = "invalid_status"
	CodeAutomationDisabled       = "automation_disabled"
	CodeInvoiceNotSettled        = "invoice_not_settled"
	CodeNegativationDataRejected = "negativation_data_invalid"
)

// MaxDebtAgeYears is how long after its due date a debt may be registered
// (CDC art. 43 §1).
const MaxDebtAgeYears = 5

// MinDebtorAge is the age a CPF debtor must have reached.
const MinDebtorAge = 18

// ErrAlreadyNegativated is the answer for an invoice that has a negativation.
func ErrAlreadyNegativated(n Negativation) *Error {
	return Errorf(KindConflict, CodeAlreadyNegativated, "A fatura %s já possui negativação (ID %s, situação: %s).", n.InvoiceID, n.ID, n.Status.Name()).
		WithDetails(map[string]any{"id": n.ID, "status": string(n.Status)})
}

// ErrInvalidStatus is the answer for an operation the record's status does
// not allow.
func ErrInvalidStatus(n Negativation, operation string) *Error {
	return Errorf(KindConflict, CodeInvalidStatus, "Não é possível %s uma negativação com situação \"%s\".", operation, n.Status.Name()).
		WithDetails(map[string]any{"id": n.ID, "status": string(n.Status)})
}

// ErrNoChange, returned by an UpdateNegativation function, ends the update
// without writing and without error.
var ErrNoChange = errors.New("credit: no change")

// NegativationFilter narrows a list. Zero fields do not filter; From and To
// are creation days in São Paulo, both inclusive.
type NegativationFilter struct {
	Status        NegativationStatus
	IntegrationID string
	CustomerID    string
	From, To      Date
	// Origin keeps manual or automatic records; RunID those a billing
	// run created ("what did last night's run negativate?").
	Origin Origin
	RunID  string
	// Branches keeps the list to some branches (nil: every branch); stores
	// decide it by their keys, never by dropping what they read.
	Branches Branches
}

// Validate checks the filter, naming every bad parameter.
func (f NegativationFilter) Validate() error {
	var fe FieldErrors
	if f.Status != "" && !f.Status.Valid() {
		fe.Add("status", "situação desconhecida")
	}
	if f.IntegrationID != "" && !ValidID(f.IntegrationID) {
		fe.Add("integrationId", "identificador inválido")
	}
	if f.CustomerID != "" && !ValidID(f.CustomerID) {
		fe.Add("customerId", "identificador inválido")
	}
	if f.Origin != "" && f.Origin != OriginManual && f.Origin != OriginAutomatic {
		fe.Add("origin", `deve ser "manual" ou "automatic"`)
	}
	if f.RunID != "" && !ValidID(f.RunID) {
		fe.Add("runId", "identificador inválido")
	}
	if f.RunID != "" && f.Status != "" {
		fe.Add("status", "não se combina com runId: a lista da execução traz a situação de cada registro")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Before(f.From) {
		fe.Add("to", "deve ser igual ou posterior a from")
	}
	return fe.Err()
}

// CreatedBounds are the instants [from, to) the filter's days cover; zero
// when open.
func (f NegativationFilter) CreatedBounds() (from, to time.Time) {
	if !f.From.IsZero() {
		from = dayStart(f.From)
	}
	if !f.To.IsZero() {
		to = dayStart(f.To.AddDays(1))
	}
	return from, to
}

// dayStart is midnight of d in São Paulo.
func dayStart(d Date) time.Time {
	y, m, day := d.Time().Date()
	return time.Date(y, m, day, 0, 0, 0, 0, SaoPaulo()).UTC()
}

// Matches reports whether n passes the filter (for adapters that filter
// after reading).
func (f NegativationFilter) Matches(n Negativation) bool {
	if f.Status != "" && n.Status != f.Status {
		return false
	}
	if f.IntegrationID != "" && n.IntegrationID != f.IntegrationID {
		return false
	}
	if f.CustomerID != "" && n.CustomerID != f.CustomerID {
		return false
	}
	if f.Origin != "" && n.Origin != f.Origin {
		return false
	}
	if f.RunID != "" && n.RunID != f.RunID {
		return false
	}
	if !f.Branches.Allows(n.BranchID) {
		return false
	}
	from, to := f.CreatedBounds()
	if !from.IsZero() && n.CreatedAt.Before(from) {
		return false
	}
	if !to.IsZero() && !n.CreatedAt.Before(to) {
		return false
	}
	return true
}

// ValidID reports whether id can name an entity in a path or a body: the
// pattern of the path parameters.
func ValidID(id string) bool { return ValidIdentifier(id) }

// SettledNegativation is a live negativation whose invoice is paid or
// cancelled, with that invoice.
type SettledNegativation struct {
	Negativation Negativation
	Invoice      Invoice
}

// NegativationStore keeps negativations, at most one per invoice, and each
// integration's count of live ones, which guards the integration's delete:
// every write that changes Live() adjusts the count in the same transaction.
//
//   - CreateNegativation: writes n, the invoice's marker and (n being live)
//     +1 on its integration's count, atomically. already_negativated (409,
//     Details["id"]) when the invoice has a negativation: of many concurrent
//     creates for one invoice exactly one wins. not_found when the
//     integration no longer exists (its delete won).
//   - GetNegativation, GetNegativationByInvoice: not_found.
//   - UpdateNegativation: applies fn to the stored record and writes it
//     back only if nobody wrote it meanwhile, calling fn again on a fresh
//     read when somebody did; concurrent_update (409) when that keeps
//     happening. fn returning ErrNoChange ends without writing and returns
//     the stored record; any other error aborts and is returned. Version
//     and the identity fields are the store's. not_found when the record is
//     missing, or when it would become live again for an integration that
//     no longer exists.
//   - ListNegativations: newest first, only f.Branches' records, a page
//     full while more match; invalid_cursor. A record's branch is its
//     integration's branch when it was created.
//   - ListSettledNegativations: the pending, active and removing records
//     of branches (nil: every branch)
//     (of one integration, or all when integrationID is empty) whose invoice
//     is paid or cancelled, in no particular order.
type NegativationStore interface {
	CreateNegativation(ctx context.Context, n Negativation) error
	GetNegativation(ctx context.Context, id string) (Negativation, error)
	GetNegativationByInvoice(ctx context.Context, customerID, invoiceID string) (Negativation, error)
	UpdateNegativation(ctx context.Context, id string, fn func(*Negativation) error) (Negativation, error)
	ListNegativations(ctx context.Context, f NegativationFilter, p Page) ([]Negativation, string, error)
	ListSettledNegativations(ctx context.Context, integrationID string, branches Branches) ([]SettledNegativation, error)
}

// ErrNegativationConcurrentUpdate is the store's answer when a record keeps
// changing under an update.
var ErrNegativationConcurrentUpdate = NewError(KindConflict, CodeConcurrentUpdate, "A negativação foi alterada por outra requisição; tente novamente.")

// trimCode normalizes a bureau code typed by a person.
func trimCode(s string) string { return strings.TrimSpace(s) }
