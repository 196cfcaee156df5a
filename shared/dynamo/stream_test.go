package dynamo

import (
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestStreamChangesOfRunsAndConsultations: a run's write that ends it is
// one event, its later writes none; a consultation's insertion is one.
func TestStreamChangesOfRunsAndConsultations(t *testing.T) {
	at := time.Date(2026, 10, 5, 9, 0, 0, 0, time.UTC)
	run := credit.BillingRun{ID: "run-1", Trigger: credit.TriggerSchedule, Status: credit.BillingRunRunning, Day: credit.NewDate(2026, 10, 5),
		StartedAt: at, Version: 4}
	ended := run
	ended.Status, ended.FinishedAt, ended.Version = credit.BillingRunFinished, at.Add(2*time.Minute), 5
	ended.Counts.Included = 3
	before, err := billingRunAV(run)
	require.NoError(t, err)
	after, err := billingRunAV(ended)
	require.NoError(t, err)

	c := credit.Consultation{ID: "con-1", CreatedAt: at, Status: credit.ConsultationFailed, ErrorCode: "bureau_unavailable",
		Document: credit.MustParseDocument("529.982.247-25"), Plan: credit.PlanReportScore, IntegrationID: "int-1", BranchID: "b-1",
		Environment: credit.EnvironmentProduction}
	ci, err := toConsultationItem(c)
	require.NoError(t, err)
	consultation, err := marshal(ci, map[string]string{attrPK: consultationPK(c.ID), attrSK: consultationSK})
	require.NoError(t, err)

	evs, err := DomainEvents([]StreamRecord{
		{EventName: "INSERT", NewImage: before},                  // a run starts: nothing
		{EventName: "MODIFY", OldImage: before, NewImage: after}, // it ends: one event
		{EventName: "MODIFY", OldImage: after, NewImage: after},  // written again: nothing
		{EventName: "INSERT", NewImage: consultation},
		{EventName: "REMOVE", OldImage: consultation}, // TTL or deletion: nothing
	})
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, credit.EventBillingRunFinished, evs[0].Type)
	assert.Equal(t, "billing-run/run-1/finished/5", evs[0].ID)
	assert.Equal(t, 3, evs[0].BillingRun.Counts.Included)
	assert.Equal(t, at.Add(2*time.Minute), evs[0].At)
	assert.Equal(t, credit.EventConsultationRecorded, evs[1].Type)
	assert.Equal(t, "consultation/con-1", evs[1].ID)
	assert.Equal(t, "bureau_unavailable", evs[1].Consultation.ErrorCode)
}
