package eventbridge

import (
	"maps"
	"slices"
	"time"

	"creditanalysis/shared/credit"
)

// The details, one type per event; events.schema.json documents them and a
// test holds the two equal.

// StatusAt is a status and when it was reached.
type StatusAt struct {
	Status string    `json:"status"`
	At     time.Time `json:"at"`
}

// ConsultationDetail is the detail of Consultation Recorded.
type ConsultationDetail struct {
	EventID        string `json:"eventId"`
	ConsultationID string `json:"consultationId"`
	BranchID       string `json:"branchId"`
	IntegrationID  string `json:"integrationId"`
	// Outcome is succeeded or failed; ErrorCode says why a failure failed.
	Outcome     string    `json:"outcome"`
	ErrorCode   string    `json:"errorCode,omitempty"`
	Plan        string    `json:"plan"`
	Environment string    `json:"environment"`
	Document    string    `json:"document"`
	PartyKind   string    `json:"partyKind,omitempty"`
	PartyID     string    `json:"partyId,omitempty"`
	RecordedAt  time.Time `json:"recordedAt"`
}

// NegativationDetail is the detail of Negativation Status Changed.
type NegativationDetail struct {
	EventID        string     `json:"eventId"`
	NegativationID string     `json:"negativationId"`
	BranchID       string     `json:"branchId"`
	IntegrationID  string     `json:"integrationId"`
	CustomerID     string     `json:"customerId"`
	InvoiceID      string     `json:"invoiceId"`
	Origin         string     `json:"origin"`
	RunID          string     `json:"runId,omitempty"`
	Document       string     `json:"document"`
	Status         string     `json:"status"`
	PreviousStatus string     `json:"previousStatus,omitempty"`
	ChangedAt      time.Time  `json:"changedAt"`
	ErrorCode      string     `json:"errorCode,omitempty"`
	History        []StatusAt `json:"history"`
}

// RemovalOverdueDetail is the detail of Negativation Removal Overdue.
type RemovalOverdueDetail struct {
	EventID        string    `json:"eventId"`
	NegativationID string    `json:"negativationId"`
	BranchID       string    `json:"branchId"`
	IntegrationID  string    `json:"integrationId"`
	CustomerID     string    `json:"customerId"`
	InvoiceID      string    `json:"invoiceId"`
	Document       string    `json:"document"`
	Status         string    `json:"status"`
	InvoiceStatus  string    `json:"invoiceStatus"`
	SettledOn      string    `json:"settledOn"`
	Deadline       string    `json:"deadline"`
	DetectedAt     time.Time `json:"detectedAt"`
}

// BillingRunCounts are a run's counts.
type BillingRunCounts struct {
	Examined int            `json:"examined"`
	Included int            `json:"included"`
	Removed  int            `json:"removed"`
	Synced   int            `json:"synced"`
	Failed   int            `json:"failed"`
	Skipped  map[string]int `json:"skipped"`
}

// BillingRunDetail is the detail of Billing Rule Run Finished.
type BillingRunDetail struct {
	EventID     string    `json:"eventId"`
	RunID       string    `json:"runId"`
	Trigger     string    `json:"trigger"`
	Status      string    `json:"status"`
	Day         string    `json:"day"`
	StartedAt   time.Time `json:"startedAt"`
	FinishedAt  time.Time `json:"finishedAt"`
	ResumedFrom string    `json:"resumedFrom,omitempty"`
	// DryRun: the counts say what a run would have done; it did nothing.
	DryRun bool             `json:"dryRun"`
	Counts BillingRunCounts `json:"counts"`
	// IntegrationIDs are the integrations the run went through.
	IntegrationIDs []string `json:"integrationIds"`
}

// Detail is e's detail.
func Detail(e credit.DomainEvent) any {
	switch {
	case e.Consultation != nil:
		c := e.Consultation
		d := ConsultationDetail{EventID: e.ID, ConsultationID: c.ID, BranchID: c.BranchID, IntegrationID: c.IntegrationID,
			Outcome: string(c.Status), ErrorCode: c.ErrorCode, Plan: string(c.Plan), Environment: string(c.Environment),
			Document: c.Document.Masked(), RecordedAt: c.CreatedAt.UTC()}
		if c.Party != nil {
			d.PartyKind, d.PartyID = string(c.Party.Kind), c.Party.ID
		}
		return d
	case e.Negativation != nil:
		n := e.Negativation
		d := NegativationDetail{EventID: e.ID, NegativationID: n.ID, BranchID: n.BranchID, IntegrationID: n.IntegrationID,
			CustomerID: n.CustomerID, InvoiceID: n.InvoiceID, Origin: string(n.Origin), RunID: n.RunID,
			Document: n.Document.Masked(), Status: string(n.Status), PreviousStatus: string(e.PreviousStatus),
			ChangedAt: e.At.UTC(), History: make([]StatusAt, 0, len(n.History))}
		if n.LastError != nil && n.Status == credit.NegativationFailed {
			d.ErrorCode = n.LastError.Code
		}
		for _, h := range n.History {
			d.History = append(d.History, StatusAt{Status: string(h.Status), At: h.At.UTC()})
		}
		return d
	case e.RemovalOverdue != nil:
		o := e.RemovalOverdue
		return RemovalOverdueDetail{EventID: e.ID, NegativationID: o.NegativationID, BranchID: o.BranchID,
			IntegrationID: o.IntegrationID, CustomerID: o.CustomerID, InvoiceID: o.InvoiceID, Document: o.Document.Masked(),
			Status: string(o.Status), InvoiceStatus: string(o.InvoiceStatus), SettledOn: o.SettledOn.String(),
			Deadline: o.Deadline.String(), DetectedAt: o.DetectedAt.UTC()}
	case e.BillingRun != nil:
		r := e.BillingRun
		skipped := maps.Clone(r.Counts.Skipped)
		if skipped == nil {
			skipped = map[string]int{}
		}
		ids := slices.Clone(r.Position.Done)
		if ids == nil {
			ids = []string{}
		}
		return BillingRunDetail{EventID: e.ID, RunID: r.ID, Trigger: string(r.Trigger), Status: string(r.Status),
			Day: r.Day.String(), StartedAt: r.StartedAt.UTC(), FinishedAt: e.At.UTC(), ResumedFrom: r.ResumedFrom, DryRun: r.DryRun,
			Counts: BillingRunCounts{Examined: r.Counts.Examined, Included: r.Counts.Included, Removed: r.Counts.Removed,
				Synced: r.Counts.Synced, Failed: r.Counts.Failed, Skipped: skipped},
			IntegrationIDs: ids}
	}
	return map[string]string{"eventId": e.ID}
}
