package eventbridge_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/eventbridgelocal"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/eventbridge"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const bus = "creditanalysis-test"

var (
	at  = time.Date(2026, 10, 5, 9, 30, 0, 0, time.UTC)
	doc = credit.MustParseDocument("529.982.247-25")
)

func startStandIn(t *testing.T) (*eventbridgelocal.Server, *eventbridge.Publisher) {
	t.Helper()
	srv, err := eventbridgelocal.New(t.TempDir(), bus)
	require.NoError(t, err)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, &eventbridge.Publisher{Client: eventbridgelocal.Client(hs.URL), Bus: bus, Backoff: time.Millisecond}
}

func schema(t *testing.T) *eventbridgelocal.Schema {
	t.Helper()
	s, err := eventbridgelocal.LoadSchema(filepath.Join("..", "..", "events.schema.json"))
	require.NoError(t, err)
	return s
}

// oneOfEach is an event of every type, on records carrying a name and a
// full document that no detail may show.
func oneOfEach() []credit.DomainEvent {
	c := credit.Consultation{ID: "con-1", CreatedAt: at, Status: credit.ConsultationSucceeded, Document: doc, Plan: credit.PlanReportScore,
		IntegrationID: "int-1", BranchID: "filial-1", Environment: credit.EnvironmentHomologation,
		Party: &credit.PartyRef{Kind: credit.PartyCustomer, ID: "cli-1"}, Overview: credit.ReportOverview{Name: "MARIA DA SILVA"}}
	n := credit.Negativation{ID: "neg-1", Status: credit.NegativationActive, CustomerID: "cli-1", InvoiceID: "fat-1", IntegrationID: "int-1",
		BranchID: "filial-1", Document: doc, DebtorName: "MARIA DA SILVA", Origin: credit.OriginAutomatic, RunID: "run-1", Version: 3,
		History: []credit.NegativationEvent{{Status: credit.NegativationSubmitting, At: at}, {Status: credit.NegativationPending, At: at.Add(time.Second)},
			{Status: credit.NegativationActive, At: at.Add(time.Hour)}}}
	before := n
	before.Status = credit.NegativationPending
	changed, _ := credit.NegativationStatusChanged(&before, n)
	r := credit.BillingRun{ID: "run-1", Trigger: credit.TriggerSchedule, Status: credit.BillingRunFinished, Day: credit.NewDate(2026, 10, 5),
		StartedAt: at, FinishedAt: at.Add(3 * time.Minute), Counts: credit.BillingCounts{Examined: 10, Included: 2, Removed: 1,
			Skipped: map[string]int{"automation_disabled": 7}}, Position: credit.BillingPosition{Done: []string{"int-1"}}, Version: 9}
	running := r
	running.Status = credit.BillingRunRunning
	finished, _ := credit.BillingRunFinishedEvent(&running, r)
	return []credit.DomainEvent{
		credit.ConsultationRecorded(c),
		changed,
		credit.RemovalOverdueEvent(credit.RemovalOverdue{NegativationID: "neg-1", IntegrationID: "int-1", BranchID: "filial-1",
			CustomerID: "cli-1", InvoiceID: "fat-1", Document: doc, Status: credit.NegativationActive, InvoiceStatus: credit.InvoicePaid,
			SettledOn: credit.NewDate(2026, 9, 1), Deadline: credit.NewDate(2026, 9, 8), DetectedAt: at}),
		finished,
	}
}

// TestEveryEventMatchesItsSchema publishes an event of each type through
// the real SDK to the stand-in and checks what a rule's target would get
// against events.schema.json: the detail-type, the deterministic eventId,
// the masked document, and nothing the schema does not name.
func TestEveryEventMatchesItsSchema(t *testing.T) {
	srv, pub := startStandIn(t)
	evs := oneOfEach()
	require.NoError(t, pub.Publish(context.Background(), evs))

	got, err := eventbridgelocal.ReadEvents(srv.Path())
	require.NoError(t, err)
	require.Len(t, got, len(evs))
	s := schema(t)
	for i, e := range got {
		assert.NoError(t, s.Validate(e), "%s", e.Detail)
		assert.Equal(t, string(evs[i].Type), e.DetailType)
		assert.Equal(t, credit.EventSource, e.Source)
		assert.Contains(t, string(e.Detail), fmt.Sprintf(`"eventId":%q`, evs[i].ID))
		if evs[i].BillingRun == nil { // a run names no person
			assert.Contains(t, string(e.Detail), doc.Masked())
		}
		for _, never := range []string{doc.Number(), doc.Formatted(), "MARIA"} {
			assert.NotContains(t, string(e.Detail), never)
		}
	}
	assert.Contains(t, string(got[1].Detail), `"status":"active","previousStatus":"pending"`)
	assert.Contains(t, string(got[3].Detail), `"included":2`)
}

// TestSchemaRefusesWhatADetailMustNotCarry keeps the schema honest.
func TestSchemaRefusesWhatADetailMustNotCarry(t *testing.T) {
	srv, pub := startStandIn(t)
	require.NoError(t, pub.Publish(context.Background(), oneOfEach()[:1]))
	got, err := eventbridgelocal.ReadEvents(srv.Path())
	require.NoError(t, err)
	s := schema(t)
	for name, edit := range map[string]func(string) string{
		"a name":            func(d string) string { return strings.Replace(d, "{", `{"debtorName":"MARIA",`, 1) },
		"the full document": func(d string) string { return strings.Replace(d, doc.Masked(), doc.Formatted(), 1) },
		"an unknown status": func(d string) string { return strings.Replace(d, `"succeeded"`, `"maybe"`, 1) },
		"no eventId":        func(d string) string { return strings.Replace(d, `"eventId"`, `"eventID"`, 1) },
	} {
		e := got[0]
		e.Detail = []byte(edit(string(e.Detail)))
		assert.Error(t, s.Validate(e), name)
	}
}

func TestRefusedEntriesAreRetried(t *testing.T) {
	srv, pub := startStandIn(t)
	evs := oneOfEach()
	srv.FailNextEntries(2)
	require.NoError(t, pub.Publish(context.Background(), evs))
	got, err := eventbridgelocal.ReadEvents(srv.Path())
	require.NoError(t, err)
	var ids []string
	for _, e := range got {
		ids = append(ids, e.DetailType)
	}
	assert.Len(t, got, len(evs), "each event once: only the refused entries went again")
	assert.ElementsMatch(t, []string{string(credit.EventConsultationRecorded), string(credit.EventNegativationStatusChanged),
		string(credit.EventNegativationRemovalOverdue), string(credit.EventBillingRunFinished)}, ids)
}

func TestPublishFailsWhenEntriesStayRefused(t *testing.T) {
	srv, pub := startStandIn(t)
	pub.Attempts = 2
	srv.FailNextEntries(100)
	err := pub.Publish(context.Background(), oneOfEach())
	assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))

	_, other := startStandIn(t)
	other.Bus = "no-such-bus"
	assert.Error(t, other.Publish(context.Background(), oneOfEach()[:1]), "a bus that does not exist")
}

func TestBatchesOfTen(t *testing.T) {
	srv, pub := startStandIn(t)
	var evs []credit.DomainEvent
	for i := range 23 {
		evs = append(evs, credit.ConsultationRecorded(credit.Consultation{ID: fmt.Sprintf("con-%02d", i), CreatedAt: at,
			Status: credit.ConsultationFailed, ErrorCode: "bureau_unavailable", Document: doc, Plan: credit.PlanReportScore,
			IntegrationID: "int-1", BranchID: "filial-1", Environment: credit.EnvironmentProduction}))
	}
	require.NoError(t, pub.Publish(context.Background(), evs))
	got, err := eventbridgelocal.ReadEvents(srv.Path())
	require.NoError(t, err)
	require.Len(t, got, 23)
	for i, e := range got {
		assert.Contains(t, string(e.Detail), fmt.Sprintf(`"consultationId":"con-%02d"`, i), "in order")
	}
}
