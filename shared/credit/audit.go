package credit

import (
	"context"
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

// AuditOutcome is how the call ended: its HTTP status and, for a refusal,
// the error code.
type AuditOutcome struct {
	Status int
	Code   string
}

// AuditFilter narrows a read of the trail. From and To bound At (To
// exclusive); Actor is a subject, Action an exact action, TargetID an
// event's TargetID.
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
