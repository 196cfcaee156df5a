package dynamo_test

import (
	"context"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConsultationRecordCarriesTheCallsAuditEvent: the event a call offers
// is written in the record's transaction and marked written; a record
// written without releasing a mark (after a failure) leaves the event to
// the caller, and nothing is written when the transaction fails.
func TestConsultationRecordCarriesTheCallsAuditEvent(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	at := time.Now().UTC().Truncate(time.Millisecond)
	offer := func() (context.Context, *credit.AuditNote) {
		note := &credit.AuditNote{}
		note.Offer(credit.AuditEvent{ID: "ev-" + time.Now().Format("150405.000000000"), Actor: credit.Actor{Subject: "u-analyst", Name: "Analista"},
			Action: "POST /consultations", RequestID: "req-1", Outcome: credit.AuditOutcome{Status: 201}}, func() time.Time { return at })
		return credit.WithAuditNote(ctx, note), note
	}
	events := func(id string) []credit.AuditEvent {
		t.Helper()
		got, _, err := s.ListAudit(ctx, credit.AuditFilter{TargetID: id}, credit.Page{})
		require.NoError(t, err)
		return got
	}

	c := credittest.NewTestConsultation("audited-1", at, "529.982.247-25")
	callCtx, note := offer()
	credit.NameAuditTarget(callCtx, "consultationId", c.ID)
	credit.NameAuditTarget(callCtx, "document", c.Document.Masked())
	_, _, err := s.LockDocument(callCtx, c.Document, "owner-1", time.Minute)
	require.NoError(t, err)
	require.NoError(t, s.CreateConsultationUnlocking(callCtx, c, "owner-1"))
	outcome, written := note.WrittenAs()
	require.True(t, written)
	assert.Equal(t, 201, outcome.Status)
	got := events(c.ID)
	require.Len(t, got, 1, "the event is in the trail, once")
	assert.Equal(t, map[string]string{"consultationId": c.ID, "document": c.Document.Masked()}, got[0].Target)
	assert.Equal(t, "u-analyst", got[0].Actor.Subject)
	assert.Equal(t, at, got[0].At)
	_, again := note.Offered()
	assert.False(t, again, "an event is written once")

	failed := credittest.NewTestConsultation("audited-2", at, "529.982.247-25")
	callCtx, note = offer()
	credit.NameAuditTarget(callCtx, "consultationId", failed.ID)
	require.NoError(t, s.CreateConsultation(callCtx, failed.WithoutReport()))
	_, written = note.WrittenAs()
	assert.False(t, written, "a record written after a failure leaves the event to the caller")
	assert.Empty(t, events(failed.ID))

	callCtx, note = offer()
	credit.NameAuditTarget(callCtx, "consultationId", c.ID)
	err = s.CreateConsultationUnlocking(callCtx, c, "owner-2")
	require.Error(t, err, "the record exists: the transaction fails")
	_, written = note.WrittenAs()
	assert.False(t, written)
	assert.Len(t, events(c.ID), 1, "no event without its record")
}
