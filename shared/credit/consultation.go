package credit

import (
	"context"
	"time"
)

// ConsultationStatus tells a consultation the bureau answered from one it did
// not. Both are recorded: the consultation center shows failures too.
type ConsultationStatus string

const (
	ConsultationSucceeded ConsultationStatus = "succeeded"
	ConsultationFailed    ConsultationStatus = "failed"
)

// Valid reports whether s is a known status.
func (s ConsultationStatus) Valid() bool {
	return s == ConsultationSucceeded || s == ConsultationFailed
}

// Error codes of the consultations area.
const (
	CodeUFRequired             = "uf_required"
	CodePlanRequired           = "plan_required"
	CodeInvalidPlan            = "invalid_plan"
	CodeRepeatConsultation     = "repeat_consultation"
	CodeConsultationInProgress = "consultation_in_progress"
	CodeReportUnavailable      = "report_unavailable"
	CodeReportExpired          = "report_expired"
)

// Codes of the warnings a consultation may carry.
const (
	// WarningDeprecatedPlan: the plan still works but the partner announced
	// its end.
	WarningDeprecatedPlan = "deprecated_plan"
	// WarningRepeatConfirmed: the document was consulted inside the interval
	// and the caller confirmed a new (charged) consultation.
	WarningRepeatConfirmed = "repeat_confirmed"
	// WarningReportNotKept: the bureau answered and the consultation is
	// recorded, but its report could not be stored; the answer carries it
	// this once.
	WarningReportNotKept = "report_not_kept"
)

// Warning is a note on a consultation that did not stop it.
type Warning struct {
	Code    string
	Message string
}

// PartyRef names the customer, lead or prospect a consultation was made for.
type PartyRef struct {
	Kind PartyKind
	ID   string
}

// Consultation is one credit consultation as the consultation center ("Central
// de consultas") records it, whether the bureau answered or not.
type Consultation struct {
	ID        string
	CreatedAt time.Time
	Status    ConsultationStatus
	// ErrorCode and ErrorMessage say why a failed consultation failed (the
	// bureau's error, e.g. bureau_unavailable, bureau_rejected).
	ErrorCode    string
	ErrorMessage string
	// Document is stored normalized; every answer shows it masked.
	Document Document
	// UF is the state sent to the bureau (required for a CPF).
	UF            string
	Plan          Plan
	IntegrationID string
	BranchID      string
	Environment   Environment
	// Party is set when the consultation was made for a registered party.
	Party       *PartyRef
	RequestedBy Actor
	// Overview summarizes the report for lists; zero for a failure.
	Overview ReportOverview
	// Report is the normalized report of a success. Lists leave it nil;
	// GetConsultation fills it.
	Report *Report
	// PDFKey is where the report's PDF lives in the report store: random,
	// never derived from the document, never shown to callers.
	PDFKey string
	// ReportKey is where the full report lives in the report archive; empty
	// when the record holds the report itself or has none.
	ReportKey string
	// Protocol is the bureau's number for a success, kept even when the
	// report could not be: the charge is reconciled by it.
	Protocol string
	Warnings []Warning
	// ReportExpiresAt is when the retention period of the report (body, raw
	// answer, PDF) ends: CreatedAt plus the retention in force when it was
	// recorded; zero when reports are kept with the record.
	ReportExpiresAt time.Time
	// ReportErasedAt is when the report was erased at the holder's request
	// (PartyErasure) before its retention ended; ReportExpiresAt is then no
	// later. Zero otherwise.
	ReportErasedAt time.Time
}

// ReportExpired reports whether c's report is past its retention at now.
func (c Consultation) ReportExpired(now time.Time) bool {
	return !c.ReportExpiresAt.IsZero() && !now.Before(c.ReportExpiresAt)
}

// Minimal is what stays of c once its report has expired, for the audit
// period: who consulted which document (shown masked), when, with which plan
// and through which integration, the bureau's protocol and the outcome.
// Nothing of the report, not even its overview, since the overview names the
// person; no party link, no UF, no warnings.
func (c Consultation) Minimal() Consultation {
	return Consultation{ID: c.ID, CreatedAt: c.CreatedAt, Status: c.Status, Document: c.Document, Plan: c.Plan,
		IntegrationID: c.IntegrationID, BranchID: c.BranchID, Environment: c.Environment,
		Protocol: c.Protocol, RequestedBy: c.RequestedBy, ReportExpiresAt: c.ReportExpiresAt, ReportErasedAt: c.ReportErasedAt}
}

// WithoutReport is c recorded without its report, when the report could
// not be kept: what reconciling the charge needs (id, protocol, status,
// document) and whom and what it was for, with no overview, report or PDF
// to point at.
func (c Consultation) WithoutReport() Consultation {
	return Consultation{ID: c.ID, CreatedAt: c.CreatedAt, Status: c.Status, Document: c.Document, UF: c.UF, Plan: c.Plan,
		IntegrationID: c.IntegrationID, BranchID: c.BranchID, Environment: c.Environment, Party: c.Party,
		RequestedBy: c.RequestedBy, Protocol: c.Protocol, ReportExpiresAt: c.ReportExpiresAt}
}

// Erased is c's minimal record once its report is erased at the holder's
// request at the instant at: it reads as an expired one, plus when.
// Erasing again keeps the first instant.
func (c Consultation) Erased(at time.Time) Consultation {
	if !c.ReportErasedAt.IsZero() {
		at = c.ReportErasedAt
	}
	m := c.Minimal()
	m.ReportErasedAt = at
	if m.ReportExpiresAt.IsZero() || at.Before(m.ReportExpiresAt) {
		m.ReportExpiresAt = at
	}
	return m
}

// ConsultationRef points at a recorded consultation.
type ConsultationRef struct {
	ID        string
	CreatedAt time.Time
}

// ReportOverview is what the consultation center lists of a report, so that a
// list does not carry whole reports.
type ReportOverview struct {
	Name string
	// Score is nil when the plan gives none.
	Score       *int
	ScoreClass  string
	Occurrences int
	// NothingRecorded is "nada consta".
	NothingRecorded bool
	PendenciesTotal Cents
}

// Overview summarizes r for lists.
func (r Report) Overview() ReportOverview {
	o := ReportOverview{
		Name: r.Identity.Name, Occurrences: r.Occurrences, NothingRecorded: r.NothingRecorded(),
		PendenciesTotal: r.Pendencies.Summary.Total,
	}
	if r.Score != nil {
		v := r.Score.Value
		o.Score, o.ScoreClass = &v, r.Score.Class
	}
	return o
}

// ConsultationFilter narrows the consultation center's list. Zero fields do
// not filter.
type ConsultationFilter struct {
	// From and To are calendar days in America/Sao_Paulo, both included.
	From, To      Date
	IntegrationID string
	Plan          Plan
	Document      Document
	Status        ConsultationStatus
	// Branches keeps the list to some branches (nil: every branch), by the
	// stores' keys.
	Branches Branches
}

// Range is the filter's period as instants: [from, until). A zero bound is
// open.
func (f ConsultationFilter) Range() (from, until time.Time) {
	if !f.From.IsZero() {
		from = saoPauloMidnight(f.From)
	}
	if !f.To.IsZero() {
		until = saoPauloMidnight(f.To.AddDays(1))
	}
	return from, until
}

func saoPauloMidnight(d Date) time.Time {
	t := d.Time()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, SaoPaulo()).UTC()
}

// Matches reports whether c passes the filter; stores use it for what their
// indexes do not decide.
func (f ConsultationFilter) Matches(c Consultation) bool {
	from, until := f.Range()
	switch {
	case !from.IsZero() && c.CreatedAt.Before(from),
		!until.IsZero() && !c.CreatedAt.Before(until),
		f.IntegrationID != "" && c.IntegrationID != f.IntegrationID,
		f.Plan != "" && c.Plan != f.Plan,
		!f.Document.IsZero() && c.Document != f.Document,
		f.Status != "" && c.Status != f.Status,
		!f.Branches.Allows(c.BranchID):
		return false
	}
	return true
}

// ConsultationStore keeps consultations, newest first in every list.
//
//   - CreateConsultation stores a new record; a success also becomes the
//     document's latest success (LastSucceededConsultation) in the same
//     write. Errors: internal only.
//   - GetConsultation returns the full record, report included: not_found
//     (404).
//   - ListConsultations and ListPartyConsultations return records without
//     their Report (Overview carries what a list shows). A page may hold
//     fewer than Limit items while nextCursor is set: follow it until it is
//     empty. A cursor from another query, or one never issued: invalid_cursor
//     (400).
//   - LastSucceededConsultation is the newest success of doc, read
//     consistently: it reflects every CreateConsultation that returned.
//     found is false when there is none.
//   - LockDocument marks doc as being consulted by owner until ttl passes,
//     so that two requests cannot both charge a consultation the interval
//     rule would refuse: consultation_in_progress (409) while another owner
//     holds an unexpired mark. In the same write it reads what
//     LastSucceededConsultation would answer, so the interval rule costs no
//     further round trip. UnlockDocument removes owner's mark only.
//   - EraseConsultationReport replaces the record by c.Erased(at) and takes
//     it off its party's list; the document's latest success is kept (the
//     interval rule still holds). Running it again changes nothing.
//     not_found when there is no such record.
//   - DropConsultationReport replaces the record written for c, and its
//     copy on the party's list, by c.WithoutReport(): the report it points
//     at could not be archived. not_found when there is no such record.
//   - CreateConsultationUnlocking is CreateConsultation and UnlockDocument
//     of c's document in one write; when the mark is no longer owner's, the
//     record is written and the mark left alone. It may write the call's
//     offered audit event (AuditNote) in the same write, and then marks it
//     written.
type ConsultationStore interface {
	CreateConsultation(ctx context.Context, c Consultation) error
	CreateConsultationUnlocking(ctx context.Context, c Consultation, owner string) error
	GetConsultation(ctx context.Context, id string) (Consultation, error)
	ListConsultations(ctx context.Context, f ConsultationFilter, p Page) ([]Consultation, string, error)
	ListPartyConsultations(ctx context.Context, party PartyRef, p Page) ([]Consultation, string, error)
	LastSucceededConsultation(ctx context.Context, doc Document) (ConsultationRef, bool, error)
	LockDocument(ctx context.Context, doc Document, owner string, ttl time.Duration) (last ConsultationRef, found bool, err error)
	UnlockDocument(ctx context.Context, doc Document, owner string) error
	EraseConsultationReport(ctx context.Context, id string, at time.Time) error
	DropConsultationReport(ctx context.Context, c Consultation) error
}

// ErrConsultationInProgress is LockDocument's refusal.
var ErrConsultationInProgress = NewError(KindConflict, CodeConsultationInProgress,
	"Já existe uma consulta deste CPF/CNPJ em andamento. Aguarde a conclusão e tente novamente.")

// ReportStore keeps report PDFs, private and encrypted at rest.
//
//   - Put stores pdf under key, replacing what was there.
//   - Exists reports whether key holds a PDF (the bucket's lifecycle
//     expires old ones).
//   - PresignGet returns a URL that downloads key without credentials until
//     expiresAt, ttl from now.
//   - Delete removes key's PDF; deleting a missing one is no error.
//
// Errors: internal only.
type ReportStore interface {
	Put(ctx context.Context, key string, pdf []byte) error
	Delete(ctx context.Context, key string) error
	Exists(ctx context.Context, key string) (bool, error)
	PresignGet(ctx context.Context, key string, ttl time.Duration) (url string, expiresAt time.Time, err error)
}

// ReportArchive keeps a consultation's full report, the bureau's raw answer
// included, beside its PDF: private, encrypted at rest and expired with it.
// A report may be megabytes (thousands of pendencies), more than a table
// item holds.
//
//   - PutReport stores r under key, replacing what was there.
//   - GetReport reads it back; not_found when key holds none (never stored,
//     expired or deleted).
//   - DeleteReport removes it; deleting a missing one is no error.
//
// Errors: not_found from GetReport, internal otherwise.
type ReportArchive interface {
	PutReport(ctx context.Context, key string, r Report) error
	GetReport(ctx context.Context, key string) (Report, error)
	DeleteReport(ctx context.Context, key string) error
}

// ReportDocument is what a report PDF shows: the consultation (with its
// report, branch, environment, plan and protocol) and when the PDF was made.
type ReportDocument struct {
	Consultation Consultation
	GeneratedAt  time.Time
}

// ReportRenderer turns a consultation's report into a printable PDF.
// Errors: internal only.
type ReportRenderer interface {
	Render(doc ReportDocument) ([]byte, error)
}

// PresignedURL is a short-lived download link.
type PresignedURL struct {
	URL       string
	ExpiresAt time.Time
}
