package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"creditanalysis/infra/apispec"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPartyErasure drives POST /parties/{kind}/{id}/erasure through its
// fixtures: admin only, 200 with what was done and the same again on a
// repeat, the consultation left minimal with no name and its PDF 410,
// audited with the party as target, and 409 while a debt is live.
func TestPartyErasure(t *testing.T) {
	var logs bytes.Buffer
	svc, reports, _ := consultationsService(t, &logs)
	svc.ReportRetention = 90 * 24 * time.Hour
	erasedAt := consultationNow.Add(time.Hour)
	store := svc.Parties.(*memory.Store)
	audit := memory.NewAudit()
	h := httpapi.NewServer(httpapi.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Audit: audit},
		&httpapi.ConsultationsHandler{Service: svc, Erasure: &credit.ErasureService{
			Parties: store, Consultations: svc.Store, Negativations: store, Reports: reports,
			Now: func() time.Time { return erasedAt },
		}}, &httpapi.ReportsHandler{Service: svc})
	spec := apispec.Load(t)
	type body = map[string]any
	call := func(t *testing.T, fixture string) (int, body) {
		t.Helper()
		e := consultationEvent(t, fixture)
		resp := invoke(t, h, e)
		header := http.Header{}
		for k, v := range resp.Headers {
			header.Set(k, v)
		}
		spec.ValidateResponse(t, e.RequestContext.HTTP.Method, e.RawPath, resp.StatusCode, header, []byte(resp.Body))
		var b body
		require.NoError(t, json.Unmarshal([]byte(resp.Body), &b), fixture)
		return resp.StatusCode, b
	}
	errorCode := func(b body) any { return b["error"].(body)["code"] }

	status, b := call(t, "create-consultation-party")
	require.Equal(t, 201, status, b)
	require.Equal(t, "cons-0001", b["id"], "get-consultation reads this one")
	status, b = call(t, "get-consultation-pdf-json")
	require.Equal(t, 200, status, b)
	require.Len(t, reports.objects, 1, "the PDF is stored once downloaded")

	status, b = call(t, "erase-party-analyst-forbidden")
	assert.Equal(t, 403, status)
	assert.Equal(t, httpapi.CodeForbidden, errorCode(b))

	ctx := context.Background()
	require.NoError(t, store.CreateNegativation(ctx, credit.Negativation{ID: "neg-1", Status: credit.NegativationActive,
		CustomerID: "cli-1001", InvoiceID: "inv-1", IntegrationID: "int-7", BranchID: "filial-7"}))
	status, b = call(t, "erase-party")
	require.Equal(t, 409, status, b)
	assert.Equal(t, credit.CodePartyHasLiveNegativations, errorCode(b))
	assert.Contains(t, b["error"].(body)["message"], "CDC art. 43")
	_, err := store.GetParty(ctx, credit.PartyCustomer, "cli-1001")
	require.NoError(t, err, "nothing erased")
	require.Len(t, reports.objects, 1)

	_, err = store.UpdateNegativation(ctx, "neg-1", func(n *credit.Negativation) error {
		n.Status = credit.NegativationRemoved
		return nil
	})
	require.NoError(t, err)
	status, first := call(t, "erase-party")
	require.Equal(t, 200, status, first)
	assert.Equal(t, body{"kind": "customer", "id": "cli-1001", "erasedAt": "2026-11-26T13:00:00Z",
		"erasedBy": body{"sub": "3c8e5f21-7a4b-4d6e-9f10-2b3c4d5e6f70", "name": "Carla Admin"}, "consultations": 1.0}, first)
	assert.Empty(t, reports.objects, "the PDF is deleted")
	_, err = store.GetParty(ctx, credit.PartyCustomer, "cli-1001")
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))

	status, got := call(t, "get-consultation")
	require.Equal(t, 200, status)
	assert.NotContains(t, got, "report")
	assert.Nil(t, got["overview"], "no name")
	assert.NotContains(t, got, "party")
	assert.Equal(t, "2026-11-26T13:00:00Z", got["reportErasedAt"])
	assert.Equal(t, "2026-11-26T13:00:00Z", got["reportExpiresAt"])
	assert.NotEmpty(t, got["protocol"])

	status, b = call(t, "get-consultation-pdf-json")
	require.Equal(t, 410, status)
	assert.Equal(t, credit.CodeReportExpired, errorCode(b))
	assert.Equal(t, "2026-11-26T13:00:00Z", b["error"].(body)["details"].(body)["reportErasedAt"])
	assert.Empty(t, reports.objects, "never rendered again")

	status, again := call(t, "erase-party")
	require.Equal(t, 200, status)
	assert.Equal(t, first, again, "a repeat answers the same")

	events, _, err := audit.ListAudit(ctx, credit.AuditFilter{Action: "POST /parties/{kind}/{id}/erasure"}, credit.Page{})
	require.NoError(t, err)
	var outcomes []int
	for _, e := range events {
		assert.Equal(t, map[string]string{"kind": "customers", "id": "cli-1001"}, e.Target, "the audit names the party")
		outcomes = append(outcomes, e.Outcome.Status)
	}
	assert.ElementsMatch(t, []int{403, 409, 200, 200}, outcomes)
}
