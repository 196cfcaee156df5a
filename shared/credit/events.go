package credit

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// Domain events: what the service tells the ERP after a record is
// committed. The records' own changes are the outbox: the table's change
// stream carries every committed write, and a publisher turns the changes
// below into events, so an event exists only for a committed record and a
// request never waits for it. Delivery is at least once; ID is the same for
// every delivery of one fact, and consumers dedupe on it.

// EventSource is the source of every event the service publishes.
const EventSource = "creditanalysis"

// EventType is an event's detail-type.
type EventType string

const (
	// EventConsultationRecorded: a consultation (success or failure) was
	// recorded.
	EventConsultationRecorded EventType = "Consultation Recorded"
	// EventNegativationStatusChanged: a negativation reached one of
	// PublishedNegativationStatuses.
	EventNegativationStatusChanged EventType = "Negativation Status Changed"
	// EventNegativationRemovalOverdue: a record is still registered past
	// the removal deadline of its paid or cancelled invoice; once per
	// record.
	EventNegativationRemovalOverdue EventType = "Negativation Removal Overdue"
	// EventBillingRunFinished: a billing run ended (finished, stopped at
	// its deadline, or failed), with its counts.
	EventBillingRunFinished EventType = "Billing Rule Run Finished"
)

// EventTypes lists every event type.
var EventTypes = []EventType{EventConsultationRecorded, EventNegativationStatusChanged,
	EventNegativationRemovalOverdue, EventBillingRunFinished}

// PublishedNegativationStatuses are the statuses a Negativation Status
// Changed event is published for; submitting and removing are the
// service's own steps in between and tell the ERP nothing.
var PublishedNegativationStatuses = []NegativationStatus{
	NegativationPending, NegativationActive, NegativationRejected, NegativationRemoved, NegativationFailed,
}

// DomainEvent is one fact about a committed record. Exactly one of the
// record fields is set, the one its Type names. Publishers show only ids,
// branch, integration, statuses with their times and the masked document:
// never a name, a full document or a report.
type DomainEvent struct {
	// ID is deterministic: the same fact always has the same ID.
	ID   string
	Type EventType
	// At is when the fact happened.
	At time.Time

	Consultation *Consultation
	Negativation *Negativation
	// PreviousStatus is the negativation's status before the change; empty
	// for a new record.
	PreviousStatus NegativationStatus
	RemovalOverdue *RemovalOverdue
	BillingRun     *BillingRun
}

// EventPublisher delivers events to their bus. It returns an error when
// any event was not accepted, so that the caller retries the batch.
type EventPublisher interface {
	Publish(ctx context.Context, events []DomainEvent) error
}

// ConsultationRecorded is the event of a newly recorded consultation.
func ConsultationRecorded(c Consultation) DomainEvent {
	return DomainEvent{ID: "consultation/" + c.ID, Type: EventConsultationRecorded, At: c.CreatedAt, Consultation: &c}
}

// NegativationStatusChanged is the event of n's write, given the record
// before it (nil for a new record); false when the write changed no
// published status.
func NegativationStatusChanged(before *Negativation, n Negativation) (DomainEvent, bool) {
	if !slices.Contains(PublishedNegativationStatuses, n.Status) {
		return DomainEvent{}, false
	}
	var prev NegativationStatus
	if before != nil {
		if before.Status == n.Status {
			return DomainEvent{}, false
		}
		prev = before.Status
	}
	at := n.UpdatedAt
	if len(n.History) > 0 {
		at = n.History[len(n.History)-1].At
	}
	return DomainEvent{
		ID:   fmt.Sprintf("negativation/%s/%s/%d", n.ID, n.Status, n.Version),
		Type: EventNegativationStatusChanged, At: at, Negativation: &n, PreviousStatus: prev,
	}, true
}

// BillingRunFinishedEvent is the event of r's write, given the run before
// it (nil for a new run); false unless the write ended the run.
func BillingRunFinishedEvent(before *BillingRun, r BillingRun) (DomainEvent, bool) {
	if r.Status == BillingRunRunning || (before != nil && before.Status == r.Status) {
		return DomainEvent{}, false
	}
	at := r.FinishedAt
	if at.IsZero() {
		at = r.StartedAt
	}
	return DomainEvent{
		ID:   fmt.Sprintf("billing-run/%s/%s/%d", r.ID, r.Status, r.Version),
		Type: EventBillingRunFinished, At: at, BillingRun: &r,
	}, true
}

// RemovalOverdue is a record found still registered past its removal
// deadline. It is recorded once per negativation (the record of it is the
// event's outbox entry), the first time a check finds it late.
type RemovalOverdue struct {
	NegativationID string
	IntegrationID  string
	BranchID       string
	CustomerID     string
	InvoiceID      string
	Document       Document
	Status         NegativationStatus
	InvoiceStatus  InvoiceStatus
	SettledOn      Date
	Deadline       Date
	DetectedAt     time.Time
}

// RemovalOverdueEvent is the event of a recorded overdue removal; its ID
// names the negativation alone, as it happens once per record.
func RemovalOverdueEvent(o RemovalOverdue) DomainEvent {
	return DomainEvent{ID: "negativation/" + o.NegativationID + "/removal-overdue", Type: EventNegativationRemovalOverdue,
		At: o.DetectedAt, RemovalOverdue: &o}
}

// OverdueRemovalStore records overdue removals, once per negativation.
type OverdueRemovalStore interface {
	// RecordRemovalOverdue records o unless its negativation already has
	// one; it says whether it recorded it. Errors: internal.
	RecordRemovalOverdue(ctx context.Context, o RemovalOverdue) (bool, error)
}

// OverdueRemovals is the outcome of a check for overdue removals.
type OverdueRemovals struct {
	// Overdue counts the records past their deadline now.
	Overdue int
	// Recorded counts those found late for the first time.
	Recorded int
}

// CheckOverdueRemovals records every pending removal past its deadline
// that was not recorded yet; each recording publishes one Negativation
// Removal Overdue event.
func (s *NegativationService) CheckOverdueRemovals(ctx context.Context, store OverdueRemovalStore) (OverdueRemovals, error) {
	pending, err := s.PendingRemovals(ctx, "")
	if err != nil {
		return OverdueRemovals{}, err
	}
	var out OverdueRemovals
	now := s.Now.Now()
	for _, p := range pending {
		if !p.Late {
			continue
		}
		out.Overdue++
		n := p.Negativation
		recorded, err := store.RecordRemovalOverdue(ctx, RemovalOverdue{
			NegativationID: n.ID, IntegrationID: n.IntegrationID, BranchID: n.BranchID, CustomerID: n.CustomerID,
			InvoiceID: n.InvoiceID, Document: n.Document, Status: n.Status, InvoiceStatus: p.InvoiceStatus,
			SettledOn: p.SettledOn, Deadline: p.Deadline, DetectedAt: now,
		})
		if err != nil {
			return out, err
		}
		if recorded {
			out.Recorded++
		}
	}
	return out, nil
}
