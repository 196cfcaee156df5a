package emf_test

import (
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/emf"

	"github.com/stretchr/testify/assert"
)

// TestEventBlocks: which metrics each event counts; a dry run counts none,
// so that it neither stands for the day's run in the alarms nor adds to the
// counts of what was done.
func TestEventBlocks(t *testing.T) {
	at := time.Date(2026, 11, 26, 9, 5, 0, 0, time.UTC)
	run := credit.BillingRun{ID: "run-1", Status: credit.BillingRunFinished, StartedAt: at.Add(-5 * time.Minute),
		Counts: credit.BillingCounts{Examined: 3, Included: 2}}
	dry := run
	dry.DryRun = true
	neg := func(status, previous credit.NegativationStatus) credit.DomainEvent {
		return credit.DomainEvent{At: at, PreviousStatus: previous,
			Negativation: &credit.Negativation{ID: "n1", Status: status, Origin: credit.OriginAutomatic}}
	}
	names := func(blocks []emf.Block) []string {
		var out []string
		for _, b := range blocks {
			for _, m := range b.Metrics {
				out = append(out, m.Name)
			}
		}
		return out
	}
	tests := []struct {
		name  string
		event credit.DomainEvent
		want  []string
	}{
		{"a run that ended", credit.DomainEvent{At: at, BillingRun: &run}, []string{emf.MetricBillingRunsFinished,
			emf.MetricBillingRunsFailed, emf.MetricBillingRunDuration, emf.MetricBillingRunExamined, emf.MetricBillingRunIncluded,
			emf.MetricBillingRunRemoved, emf.MetricBillingRunFailed}},
		{"a dry run that ended", credit.DomainEvent{At: at, BillingRun: &dry}, nil},
		{"an inclusion", neg(credit.NegativationPending, credit.NegativationSubmitting), []string{emf.MetricInclusions}},
		{"pending to active: the same inclusion", neg(credit.NegativationActive, credit.NegativationPending), nil},
		{"a removal", neg(credit.NegativationRemoved, credit.NegativationRemoving), []string{emf.MetricRemovals}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, names(emf.EventBlocks("CreditAnalysis/test", tt.event)))
		})
	}
}
