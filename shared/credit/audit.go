package credit

import (
	"context"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// AuditEvent is one entry of the audit trail: who did what to which target,
// when, under which request, and how it ended. It never carries a secret,
// and documents in it are masked.
type AuditEvent struct {
	ID        string
	At        time.Time
	Actor     Actor
	Action    string
	Target    map[string]string
	RequestID string
	Outcome   AuditOutcome
}

// auditTargetIDs are the target's names that identify a record, in the
// order TargetID looks for one: what a creation made, then the path's id.
var auditTargetIDs = []string{"consultationId", "negativationId", "integrationId", "runId", "id"}

// TargetID is the id of the record the event touched: the id a creation
// made, else the path's id; "" when there is none (a list, a change of the
// parameters). The trail is searchable by it.
func (e AuditEvent) TargetID() string {
	for _, name := range auditTargetIDs {
		if v := e.Target[name]; v != "" {
			return v
		}
	}
	return ""
}

// AuditTargetConsultationIDs names, on a read's event, the consultations
// whose reports' contents a list showed, comma-separated.
const AuditTargetConsultationIDs = "consultationIds"

// auditTargetLists are the target's names that list, comma-separated, the
// records a call showed.
var auditTargetLists = []string{AuditTargetConsultationIDs}

// TargetIDs are every id the trail finds the event by: its TargetID, then
// each record a list showed, each once.
func (e AuditEvent) TargetIDs() []string {
	var ids []string
	add := func(id string) {
		if id != "" && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	add(e.TargetID())
	for _, name := range auditTargetLists {
		for id := range strings.SplitSeq(e.Target[name], ",") {
			add(strings.TrimSpace(id))
		}
	}
	return ids
}

// AuditOutcome is how the call ended: its HTTP status and, for a refusal,
// the error code.
type AuditOutcome struct {
	Status int
	Code   string
}

// AuditFilter narrows a read of the trail. From and To bound At (To
// exclusive); Actor is a subject, Action an exact action, TargetID one of
// an event's TargetIDs.
type AuditFilter struct {
	From, To time.Time
	Actor    string
	Action   string
	TargetID string
}

// MaxAuditWindow is the longest period one read of the trail may span.
const MaxAuditWindow = 366 * 24 * time.Hour

// Validate checks the filter's period.
func (f AuditFilter) Validate() error {
	var fe FieldErrors
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		fe.Add("from", "deve ser anterior a to")
	}
	if !f.From.IsZero() && !f.To.IsZero() && f.To.Sub(f.From) > MaxAuditWindow {
		fe.Add("to", "o período não pode passar de 366 dias")
	}
	return fe.Err()
}

// AuditLog keeps the trail. Append never fails the caller's operation; a
// failure is logged by whoever appends. ListAudit answers newest first;
// errors: invalid_cursor.
type AuditLog interface {
	AppendAudit(ctx context.Context, e AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter, p Page) ([]AuditEvent, string, error)
}

// AuditNote is what a call tells its audit event while it runs: the records
// it touched beyond the path's ids (Target), whether it handed out a
// report's contents (Read) and, for a call that creates a record, the event
// as it stands once that record is written (Offer).
//
// A store that writes the created record may write the offered event in the
// same write (Offered, then Written): the trail then never holds a creation
// without its event, and the call pays no further round trip for it. The
// layer that ends the call appends the event itself unless it was written
// with the outcome the call answers.
type AuditNote struct {
	mu      sync.Mutex
	read    bool
	target  map[string]string
	offer   *AuditEvent
	clock   func() time.Time
	written bool
}

type auditNoteKey struct{}

// WithAuditNote returns ctx carrying n.
func WithAuditNote(ctx context.Context, n *AuditNote) context.Context {
	return context.WithValue(ctx, auditNoteKey{}, n)
}

// AuditNoteFrom returns the call's note, nil outside an audited call.
func AuditNoteFrom(ctx context.Context) *AuditNote {
	n, _ := ctx.Value(auditNoteKey{}).(*AuditNote)
	return n
}

// NameAuditTarget names, on the call's event, a record the call touched:
// the id it created (consultationId, ...), the masked document it
// concerned. Outside an audited call it does nothing.
func NameAuditTarget(ctx context.Context, name, value string) {
	if n := AuditNoteFrom(ctx); n != nil {
		n.Target(name, value)
	}
}

// Target names a record the call touched; an empty value names nothing.
func (n *AuditNote) Target(name, value string) {
	if value == "" {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.target == nil {
		n.target = map[string]string{}
	}
	n.target[name] = value
}

// Read marks the call as handing out a report's contents.
func (n *AuditNote) Read() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.read = true
}

// Reads reports whether the call handed out a report's contents.
func (n *AuditNote) Reads() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.read
}

// Targets returns a copy of the records named so far.
func (n *AuditNote) Targets() map[string]string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return maps.Clone(n.target)
}

// Offer sets the event the call answers once its record is written: e's
// outcome is that answer; its target is completed by what the call names,
// and its time is now's when the store takes it.
func (n *AuditNote) Offer(e AuditEvent, now func() time.Time) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.offer, n.clock = &e, now
}

// Offered returns the offered event with the targets named so far, for a
// store to write with the created record; false when none is offered or it
// was already written.
func (n *AuditNote) Offered() (AuditEvent, bool) {
	if n == nil {
		return AuditEvent{}, false
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.offer == nil || n.written {
		return AuditEvent{}, false
	}
	e := *n.offer
	e.At = n.clock().UTC()
	e.Target = maps.Clone(e.Target)
	if e.Target == nil && len(n.target) > 0 {
		e.Target = map[string]string{}
	}
	maps.Copy(e.Target, n.target)
	return e, true
}

// Written records that the offered event was written with the record.
func (n *AuditNote) Written() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.written = true
}

// WrittenAs reports whether the offered event was written, and with which
// outcome.
func (n *AuditNote) WrittenAs() (AuditOutcome, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.written || n.offer == nil {
		return AuditOutcome{}, false
	}
	return n.offer.Outcome, true
}
