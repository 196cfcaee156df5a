package credit_test

import (
	"context"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var eraser = credit.Actor{Subject: "admin-1", Name: "Adm", Roles: []credit.Role{credit.RoleAdmin}}

// erasureFixture is the consultation fixture with an archive, and the
// erasure service on the same fakes.
type erasureFixture struct {
	*consultFixture
	archive *memory.Reports
	erasure *credit.ErasureService
}

func newErasureFixture(t *testing.T) *erasureFixture {
	f := &erasureFixture{consultFixture: newConsultFixture(t), archive: memory.NewReports()}
	f.svc.Archive = f.archive
	f.svc.ReportRetention = 90 * 24 * time.Hour
	f.erasure = &credit.ErasureService{Parties: f.store, Consultations: f.consultations, Negativations: f.store,
		Reports: f.reports, Archive: f.archive, Now: f.clock}
	return f
}

func (f *erasureFixture) consult(t *testing.T, req credit.ConsultationRequest) credit.Consultation {
	t.Helper()
	req.ConfirmRepeat = true
	out, err := f.svc.Consult(analystCtx(), req)
	require.NoError(t, err)
	// Downloaded once, so that its PDF is stored.
	_, err = f.svc.ReportURL(analystCtx(), out.Consultation.ID)
	require.NoError(t, err)
	return out.Consultation
}

func (f *erasureFixture) pdfStored(key string) bool {
	ok, _ := f.reports.Exists(context.Background(), key)
	return ok
}

// TestErasePartyForgetsThePersonAndKeepsTheMinimalRecords: the party and
// the reports and PDFs of every consultation of its document go; the
// records stay, with no name, and read as expired ones; another
// document's consultation is untouched; a second erasure answers the
// first again.
func TestErasePartyForgetsThePersonAndKeepsTheMinimalRecords(t *testing.T) {
	f := newErasureFixture(t)
	ctx := credit.WithActor(context.Background(), eraser)
	byParty := f.consult(t, credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}})
	f.advance(time.Hour)
	byDoc := f.consult(t, byDocument(testCPF, "SP"))
	f.advance(time.Hour)
	other := f.consult(t, byDocument(testCNPJ, ""))
	for _, c := range []credit.Consultation{byParty, byDoc, other} {
		require.True(t, f.pdfStored(c.PDFKey))
	}
	f.advance(time.Hour)
	erasedAt := f.clock()

	e, err := f.erasure.Erase(ctx, credit.PartyCustomer, "c1")
	require.NoError(t, err)
	assert.Equal(t, credit.PartyErasure{Kind: credit.PartyCustomer, ID: "c1", ErasedAt: erasedAt,
		ErasedBy: credit.Actor{Subject: "admin-1", Name: "Adm"}, Consultations: 2}, e)

	_, err = f.store.GetParty(ctx, credit.PartyCustomer, "c1")
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "the party is gone")
	for _, c := range []credit.Consultation{byParty, byDoc} {
		got, err := f.svc.Get(ctx, c.ID)
		require.NoError(t, err)
		assert.Nil(t, got.Report, "no report")
		assert.Empty(t, got.Overview.Name, "no name")
		assert.Nil(t, got.Party)
		assert.Equal(t, c.Protocol, got.Protocol, "the minimal record stays")
		assert.Equal(t, c.Document, got.Document)
		assert.Equal(t, c.RequestedBy, got.RequestedBy)
		assert.Equal(t, erasedAt, got.ReportErasedAt)
		assert.Equal(t, erasedAt, got.ReportExpiresAt, "it reads as an expired report")
		assert.False(t, f.pdfStored(c.PDFKey), "the PDF is deleted")
		_, err = f.archive.GetReport(ctx, c.ReportKey)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "the archived report is deleted")

		_, err = f.svc.ReportURL(ctx, c.ID)
		e := errorOf(t, err)
		assert.Equal(t, credit.KindGone, e.Kind)
		assert.Equal(t, credit.CodeReportExpired, e.Code)
		assert.Contains(t, e.Message, "a pedido do titular")
		assert.False(t, f.pdfStored(c.PDFKey), "never rendered again")
	}
	listed, _, err := f.svc.List(ctx, credit.ConsultationFilter{}, credit.Page{})
	require.NoError(t, err)
	require.Len(t, listed, 3, "every record stays in the center")
	for _, c := range listed {
		if c.ID == other.ID {
			assert.NotEmpty(t, c.Overview.Name, "another document keeps its report")
			continue
		}
		assert.Empty(t, c.Overview.Name)
	}
	kept, err := f.svc.Get(ctx, other.ID)
	require.NoError(t, err)
	assert.NotNil(t, kept.Report)
	assert.True(t, f.pdfStored(other.PDFKey))

	f.advance(time.Hour)
	again, err := f.erasure.Erase(ctx, credit.PartyCustomer, "c1")
	require.NoError(t, err)
	assert.Equal(t, e, again, "a second erasure answers the first")
}

func TestEraseUnknownParty(t *testing.T) {
	f := newErasureFixture(t)
	_, err := f.erasure.Erase(credit.WithActor(context.Background(), eraser), credit.PartyLead, "nobody")
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
}

// TestErasureRefusedWhileADebtIsLive: a customer whose negativation is, or
// may be, at the bureau keeps everything; the others may be erased.
func TestErasureRefusedWhileADebtIsLive(t *testing.T) {
	for _, tt := range []struct {
		status  credit.NegativationStatus
		unknown bool
		refused bool
	}{
		{credit.NegativationPending, false, true},
		{credit.NegativationActive, false, true},
		{credit.NegativationSubmitting, false, true},
		{credit.NegativationRemoving, false, true},
		{credit.NegativationFailed, true, true},
		{credit.NegativationFailed, false, false},
		{credit.NegativationRejected, false, false},
		{credit.NegativationRemoved, false, false},
	} {
		name := string(tt.status)
		if tt.unknown {
			name += " outcome unknown"
		}
		t.Run(name, func(t *testing.T) {
			f := newErasureFixture(t)
			ctx := credit.WithActor(context.Background(), eraser)
			c := f.consult(t, credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}})
			require.NoError(t, f.store.CreateNegativation(ctx, credit.Negativation{ID: "n1", Status: tt.status, OutcomeUnknown: tt.unknown,
				CustomerID: "c1", InvoiceID: "i1", IntegrationID: f.integration.ID, BranchID: "b1", Document: c.Document}))

			_, err := f.erasure.Erase(ctx, credit.PartyCustomer, "c1")
			if !tt.refused {
				require.NoError(t, err)
				return
			}
			e := errorOf(t, err)
			assert.Equal(t, credit.KindConflict, e.Kind)
			assert.Equal(t, credit.CodePartyHasLiveNegativations, e.Code)
			assert.Contains(t, e.Message, "CDC art. 43")
			assert.Equal(t, 1, e.Details["liveNegativations"])
			_, err = f.store.GetParty(ctx, credit.PartyCustomer, "c1")
			assert.NoError(t, err, "nothing is erased")
			got, err := f.svc.Get(ctx, c.ID)
			require.NoError(t, err)
			assert.NotNil(t, got.Report)
			assert.True(t, f.pdfStored(c.PDFKey))
		})
	}
}

// TestErasureWaitsForAConsultationInProgress: while a consultation of the
// document is in flight, the erasure is refused and erases nothing, so no
// report is recorded after its predecessors were erased.
func TestErasureWaitsForAConsultationInProgress(t *testing.T) {
	f := newErasureFixture(t)
	ctx := credit.WithActor(context.Background(), eraser)
	c := f.consult(t, credit.ConsultationRequest{Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "c1"}})
	_, _, err := f.consultations.LockDocument(ctx, c.Document, "in-flight", time.Minute)
	require.NoError(t, err)

	_, err = f.erasure.Erase(ctx, credit.PartyCustomer, "c1")
	assert.Equal(t, credit.CodeConsultationInProgress, credit.ErrorCode(err))
	_, err = f.store.GetParty(ctx, credit.PartyCustomer, "c1")
	assert.NoError(t, err, "nothing erased")
	assert.True(t, f.pdfStored(c.PDFKey))

	require.NoError(t, f.consultations.UnlockDocument(ctx, c.Document, "in-flight"))
	_, err = f.erasure.Erase(ctx, credit.PartyCustomer, "c1")
	require.NoError(t, err)
	// The erasure took its mark away: the document may be consulted again.
	f.consult(t, byDocument(testCPF, "SP"))
}

// laggingDocumentList is a consultation store whose list by document has
// not yet seen the consultations recorded at or after since, as a
// store's eventually consistent index may not have.
type laggingDocumentList struct {
	credit.ConsultationStore
	since time.Time
}

func (l laggingDocumentList) ListConsultations(ctx context.Context, f credit.ConsultationFilter, p credit.Page) ([]credit.Consultation, string, error) {
	items, next, err := l.ConsultationStore.ListConsultations(ctx, f, p)
	if f.Document.IsZero() {
		return items, next, err
	}
	var seen []credit.Consultation
	for _, c := range items {
		if c.CreatedAt.Before(l.since) {
			seen = append(seen, c)
		}
	}
	return seen, next, err
}

// TestErasureReachesTheLatestConsultationBeforeTheIndexDoes: a
// consultation by document recorded a moment before the erasure, not yet
// in the document's list, loses its report all the same: the document's
// mark names it.
func TestErasureReachesTheLatestConsultationBeforeTheIndexDoes(t *testing.T) {
	f := newErasureFixture(t)
	ctx := credit.WithActor(context.Background(), eraser)
	older := f.consult(t, byDocument(testCPF, "SP"))
	f.advance(time.Hour)
	latest := f.consult(t, byDocument(testCPF, "SP"))
	f.erasure.Consultations = laggingDocumentList{ConsultationStore: f.consultations, since: latest.CreatedAt}

	e, err := f.erasure.Erase(ctx, credit.PartyCustomer, "c1")
	require.NoError(t, err)
	assert.Equal(t, 2, e.Consultations)
	for _, c := range []credit.Consultation{older, latest} {
		got, err := f.svc.Get(ctx, c.ID)
		require.NoError(t, err)
		assert.Nil(t, got.Report, "no report left")
		assert.False(t, f.pdfStored(c.PDFKey), "no PDF left")
	}
}
