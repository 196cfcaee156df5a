package credit

import (
	"context"
	"slices"
	"time"
)

// BillingTrigger tells what started a billing-rule run.
type BillingTrigger string

const (
	// TriggerSchedule: the daily EventBridge schedule (06:00, São Paulo).
	TriggerSchedule BillingTrigger = "schedule"
	// TriggerManual: an admin asked for a run now.
	TriggerManual BillingTrigger = "manual"
)

// BillingRuleActor is who the history of a scheduled run's changes names.
var BillingRuleActor = Actor{Subject: "billing-rule", Name: "Régua de cobrança"}

// BillingRunStatus is where a run stands.
type BillingRunStatus string

const (
	// BillingRunRunning: queued or working; LeaseUntil tells whether an
	// invocation still holds it.
	BillingRunRunning BillingRunStatus = "running"
	// BillingRunFinished: every integration with automation was gone
	// through (item failures are in the counts and errors).
	BillingRunFinished BillingRunStatus = "finished"
	// BillingRunStoppedAtDeadline: it stopped taking work before its
	// function's deadline; Position says where the next run picks up.
	BillingRunStoppedAtDeadline BillingRunStatus = "stopped_at_deadline"
	// BillingRunFailed: it could not go on (the table unreachable, the
	// invocation lost); Position, when set, is where the next run resumes.
	BillingRunFailed BillingRunStatus = "failed"
)

// Skip reasons counted in BillingCounts.Skipped besides the negativation
// service's refusal codes (already_negativated, invoice_not_open, ...),
// which are counted under their own code.
const (
	// SkipCustomerOptedOut: the customer's autoNegativation is "no".
	SkipCustomerOptedOut = "customer_opted_out"
	// SkipCustomerNotFound: the invoice's customer is not registered.
	SkipCustomerNotFound = "customer_not_found"
	// SkipIntegrationAborted: the integration's work stopped early (the
	// bureau refused its credentials).
	SkipIntegrationAborted = "integration_aborted"
)

// Error codes of the billing rule.
const (
	CodeBillingRunInProgress = "billing_run_in_progress"
	CodeBillingRunNotStarted = "billing_run_not_started"
	CodeBillingRunLost       = "billing_run_interrupted"
)

// MaxBillingRunErrors bounds the errors kept on a run: the first ones say
// what went wrong; the counts say how often.
const MaxBillingRunErrors = 20

// BillingCounts is what a run did. Examined counts the open invoices
// considered for inclusion and the settled negativations considered for
// removal; Synced, the pending records whose status was read from the
// bureau.
type BillingCounts struct {
	Examined int
	Included int
	Removed  int
	Synced   int
	Skipped  map[string]int
	Failed   int
}

func (c *BillingCounts) skip(reason string) {
	if c.Skipped == nil {
		c.Skipped = map[string]int{}
	}
	c.Skipped[reason]++
}

// clone copies the map, so that a snapshot does not share it.
func (c BillingCounts) clone() BillingCounts {
	if c.Skipped != nil {
		m := make(map[string]int, len(c.Skipped))
		for k, v := range c.Skipped {
			m[k] = v
		}
		c.Skipped = m
	}
	return c
}

// BillingRunError is one failure of a run: what it was working on and the
// error's code and message (never a CPF/CNPJ).
type BillingRunError struct {
	At             time.Time
	IntegrationID  string
	CustomerID     string
	InvoiceID      string
	NegativationID string
	Code           string
	Message        string
}

// InvoiceKey orders a branch's open invoices the way the billing rule
// walks them: by due date, then customer, then invoice.
type InvoiceKey struct {
	DueDate    Date
	CustomerID string
	InvoiceID  string
}

// KeyOf is inv's place in the walk.
func KeyOf(inv Invoice) InvoiceKey {
	return InvoiceKey{DueDate: inv.DueDate, CustomerID: inv.CustomerID, InvoiceID: inv.ID}
}

// BillingPosition is how far a run got: the integrations it finished, and
// those it had started, each with the last open invoice it took (nil while
// it was still removing and syncing). A run that resumes from it does
// neither twice.
type BillingPosition struct {
	Done    []string
	Partial []IntegrationPosition
}

// IntegrationPosition is how far a run got in one integration.
type IntegrationPosition struct {
	IntegrationID string
	After         *InvoiceKey
}

func (p BillingPosition) clone() BillingPosition {
	p.Done = slices.Clone(p.Done)
	p.Partial = slices.Clone(p.Partial)
	for k, ip := range p.Partial {
		if ip.After != nil {
			a := *ip.After
			p.Partial[k].After = &a
		}
	}
	return p
}

// after is where the run resumes in integration id: found false when it
// starts it afresh.
func (p BillingPosition) after(id string) (after *InvoiceKey, found bool) {
	for _, ip := range p.Partial {
		if ip.IntegrationID == id {
			return ip.After, true
		}
	}
	return nil, false
}

// BillingRun is one run of the billing rule (régua de cobrança).
type BillingRun struct {
	ID      string
	Trigger BillingTrigger
	// RequestedBy is the admin of a manual run; zero for the schedule.
	RequestedBy Actor
	Status      BillingRunStatus
	// Day is the São Paulo calendar day the run works for: invoices due
	// daysAfterDue days before it are included.
	Day        Date
	StartedAt  time.Time
	FinishedAt time.Time
	Counts     BillingCounts
	Errors     []BillingRunError
	// Position is how far it got, kept up to date while it runs.
	Position BillingPosition
	// ResumedFrom names the unfinished run of the same day it continues.
	ResumedFrom string
	// LeaseUntil is when the invocation executing it gives up (its
	// deadline); zero while a manual run waits for its invocation.
	LeaseUntil time.Time
	// DryRun: the run only computes what it would do (Preview and the
	// counts); it calls no bureau and writes no negativation.
	DryRun  bool
	Preview BillingPreview
	// Version increases with every write; stores use it for optimistic
	// concurrency.
	Version int64
}

// MaxBillingPreviewItems bounds each list of a dry run's preview; the
// counts have every item.
const MaxBillingPreviewItems = 100

// BillingPreview is what a dry run found it would do, in the order it met
// the items: the first MaxBillingPreviewItems inclusions, removals and
// skips.
type BillingPreview struct {
	Include []BillingPreviewItem
	Remove  []BillingPreviewItem
	Skip    []BillingPreviewItem
}

// BillingPreviewItem is one invoice a dry run would include, one
// negativation it would remove, or one invoice it would skip, with the
// reason.
type BillingPreviewItem struct {
	IntegrationID  string
	CustomerID     string
	InvoiceID      string
	NegativationID string
	// MaskedDocument is the debtor's CPF/CNPJ as Document.Masked shows
	// it: the preview keeps no full document.
	MaskedDocument string
	AmountCents    Cents
	DueDate        Date
	Reason         string
}

func (p BillingPreview) clone() BillingPreview {
	return BillingPreview{Include: slices.Clone(p.Include), Remove: slices.Clone(p.Remove), Skip: slices.Clone(p.Skip)}
}

// keep adds item to list unless the list is full.
func keep(list *[]BillingPreviewItem, item BillingPreviewItem) {
	if len(*list) < MaxBillingPreviewItems {
		*list = append(*list, item)
	}
}

// billingRunPickupTimeout is how long a manual run may wait for its
// asynchronous invocation before it is taken for lost.
const billingRunPickupTimeout = 15 * time.Minute

// billingLeaseGrace is added to a lease before it is taken for expired:
// the platform stops an invocation at its deadline, give or take.
const billingLeaseGrace = time.Minute

// Abandoned reports whether a running run's invocation is gone: its lease
// (deadline) is over, or a manual run was never picked up.
func (r BillingRun) Abandoned(now time.Time) bool {
	if r.Status != BillingRunRunning {
		return false
	}
	if r.LeaseUntil.IsZero() {
		return now.Sub(r.StartedAt) > billingRunPickupTimeout
	}
	return now.After(r.LeaseUntil.Add(billingLeaseGrace))
}

// Unfinished reports whether another run may pick up where r stopped.
func (r BillingRun) Unfinished(now time.Time) bool {
	switch r.Status {
	case BillingRunStoppedAtDeadline, BillingRunFailed:
		return true
	case BillingRunRunning:
		return r.Abandoned(now)
	}
	return false
}

func (r *BillingRun) addError(e BillingRunError) {
	if len(r.Errors) < MaxBillingRunErrors {
		r.Errors = append(r.Errors, e)
	}
}

// OpenInvoiceQuery asks for one page of a branch's open invoices due from
// From to To (both inclusive), in InvoiceKey order, after After when set.
type OpenInvoiceQuery struct {
	BranchID string
	From, To Date
	After    *InvoiceKey
	Limit    int
}

// BillingStore keeps the runs and reads what the rule works on, without
// scanning.
//
//   - CreateBillingRun: an internal error when the id exists.
//   - GetBillingRun: not_found (404).
//   - UpdateBillingRun: applies fn to the stored run and writes it back
//     only if nobody wrote it meanwhile, calling fn again on a fresh read
//     when somebody did; concurrent_update (409) when that keeps happening.
//     fn's error aborts and is returned; ErrNoChange ends without writing.
//     not_found when the run is missing.
//   - ListBillingRuns: newest first (StartedAt, then ID); invalid_cursor.
//   - OpenInvoicesDue: one page, and whether the walk is over; invoices
//     paid or cancelled are never listed.
//   - GetCustomers: the customers that exist among ids, by id, in as few
//     calls as the store allows.
type BillingStore interface {
	CreateBillingRun(ctx context.Context, r BillingRun) error
	GetBillingRun(ctx context.Context, id string) (BillingRun, error)
	UpdateBillingRun(ctx context.Context, id string, fn func(*BillingRun) error) (BillingRun, error)
	ListBillingRuns(ctx context.Context, p Page) ([]BillingRun, string, error)
	OpenInvoicesDue(ctx context.Context, q OpenInvoiceQuery) (invoices []Invoice, done bool, err error)
	GetCustomers(ctx context.Context, ids []string) (map[string]Party, error)
}

// BillingRunStarter has a run, already recorded, executed apart from the
// request that asked for it: in AWS by invoking the billing-rule function
// asynchronously; locally in the same process. Errors: internal, or
// bureau-like unavailable (503) when the invocation was refused.
type BillingRunStarter interface {
	StartBillingRun(ctx context.Context, runID string) error
}

// ErrBillingRunConcurrentUpdate is the store's answer when a run keeps
// changing under an update.
var ErrBillingRunConcurrentUpdate = NewError(KindConflict, CodeConcurrentUpdate, "A execução da régua foi alterada por outra requisição; tente novamente.")
