package emf

import (
	"slices"

	"creditanalysis/shared/credit"
)

// Names of the metrics of the domain's facts. The alarms and the dashboard
// in template.yaml read them by these names.
const (
	MetricConsultations        = "Consultations"
	MetricInclusions           = "NegativationInclusions"
	MetricRemovals             = "NegativationRemovals"
	MetricNegativationFailures = "NegativationFailures"
	MetricBillingRunsFinished  = "BillingRunsFinished"
	MetricBillingRunsFailed    = "BillingRunsFailed"
	MetricBillingRunDuration   = "BillingRunDuration"
	MetricBillingRunExamined   = "BillingRunExamined"
	MetricBillingRunIncluded   = "BillingRunIncluded"
	MetricBillingRunRemoved    = "BillingRunRemoved"
	MetricBillingRunFailed     = "BillingRunFailedItems"
	MetricRemovalsOverdueFound = "RemovalsOverdueFound"
	// MetricRemovalsOverdue is how many records are past their removal
	// deadline now, written by the daily check.
	MetricRemovalsOverdue = "RemovalsOverdue"
)

var live = []credit.NegativationStatus{credit.NegativationPending, credit.NegativationActive}

// EventBlocks are the metrics of one published event: consultations by
// outcome and plan; inclusions, removals and failures; a billing run's
// duration and counts; overdue removals found.
func EventBlocks(namespace string, e credit.DomainEvent) []Block {
	switch {
	case e.Consultation != nil:
		return []Block{{Namespace: namespace,
			Dims:    map[string]string{"Outcome": string(e.Consultation.Status), "Plan": string(e.Consultation.Plan)},
			Metrics: []Metric{{MetricConsultations, Count, 1}}}}
	case e.Negativation != nil:
		var name string
		switch st := e.Negativation.Status; {
		case slices.Contains(live, st) && !slices.Contains(live, e.PreviousStatus):
			name = MetricInclusions
		case st == credit.NegativationRemoved:
			name = MetricRemovals
		case st == credit.NegativationFailed || st == credit.NegativationRejected:
			name = MetricNegativationFailures
		default:
			return nil // pending to active: the same inclusion, confirmed
		}
		return []Block{{Namespace: namespace,
			Dims:    map[string]string{"Origin": string(e.Negativation.Origin)},
			Metrics: []Metric{{name, Count, 1}}}}
	case e.BillingRun != nil:
		r := e.BillingRun
		if r.DryRun {
			return nil // it did nothing: neither a run for the alarms nor counts
		}
		failed := 0.0
		if r.Status == credit.BillingRunFailed {
			failed = 1
		}
		return []Block{{Namespace: namespace,
			Metrics: []Metric{
				{MetricBillingRunsFinished, Count, 1},
				{MetricBillingRunsFailed, Count, failed},
				{MetricBillingRunDuration, Seconds, e.At.Sub(r.StartedAt).Seconds()},
				{MetricBillingRunExamined, Count, float64(r.Counts.Examined)},
				{MetricBillingRunIncluded, Count, float64(r.Counts.Included)},
				{MetricBillingRunRemoved, Count, float64(r.Counts.Removed)},
				{MetricBillingRunFailed, Count, float64(r.Counts.Failed)},
			}}}
	case e.RemovalOverdue != nil:
		return []Block{{Namespace: namespace,
			Metrics: []Metric{{MetricRemovalsOverdueFound, Count, 1}}}}
	}
	return nil
}

// OverdueBlock is the daily check's gauge of records past their deadline.
func OverdueBlock(namespace string, o credit.OverdueRemovals) Block {
	return Block{Namespace: namespace,
		Metrics: []Metric{{MetricRemovalsOverdue, Count, float64(o.Overdue)}}}
}
