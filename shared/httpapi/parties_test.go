package httpapi_test

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPartiesFixtures(t *testing.T) {
	svc := &credit.PartyService{Store: memory.New(), Now: func() time.Time { return time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC) }}
	h := httpapi.NewServer(httpapi.Config{Logger: discardLogger()}, &httpapi.PartiesHandler{Service: svc})
	steps := []struct {
		fixture string
		status  int
		code    string
		check   func(t *testing.T, body map[string]any)
	}{
		{"put-customer", 201, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "52998224725", b["document"], "stored normalized, shown in full to its writer")
			assert.Equal(t, "11987654321", b["mobilePhone"])
			assert.Equal(t, "01310100", b["address"].(map[string]any)["cep"])
			assert.Equal(t, "Daniela Cobrança", b["updatedBy"].(map[string]any)["name"])
		}},
		{"put-customer", 200, "", nil},
		{"get-customer", 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "52998224725", b["document"])
			assert.Equal(t, "1985-03-14", b["birthDate"])
		}},
		{"get-customer-viewer", 200, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "***.982.247-**", b["document"], "a viewer sees the document masked")
		}},
		{"put-lead", 201, "", func(t *testing.T, b map[string]any) {
			assert.Equal(t, "cnpj", b["documentType"])
			assert.Equal(t, "default", b["autoNegativation"])
		}},
		{"put-customer-invalid-document", 400, credit.CodeInvalidDocument, func(t *testing.T, b map[string]any) {
			fields := b["error"].(map[string]any)["details"].(map[string]any)["fields"]
			assert.ElementsMatch(t, []any{"document", "mobilePhone"}, fields)
		}},
		{"put-party-unknown-kind", 400, httpapi.CodeInvalidParameter, nil},
		{"put-invoice", 200, "", func(t *testing.T, b map[string]any) {
			assert.EqualValues(t, 12990, b["amountCents"])
			assert.Equal(t, "filial-7", b["branchId"], "the invoice takes its customer's branch")
		}},
		{"put-invoice-unknown-customer", 404, credit.CodeNotFound, nil},
		{"put-invoice-analyst-forbidden", 403, httpapi.CodeForbidden, nil},
		{"list-invoices", 200, "", func(t *testing.T, b map[string]any) {
			assert.Len(t, b["items"], 1)
			assert.Nil(t, b["nextCursor"])
		}},
	}
	for _, s := range steps {
		resp := invoke(t, h, loadEvent(t, filepath.Join(eventsDir, "parties", s.fixture+".json")))
		require.Equal(t, s.status, resp.StatusCode, "%s: %s", s.fixture, resp.Body)
		if s.code != "" {
			assert.Equal(t, s.code, errorBody(t, resp.Body).Error.Code, s.fixture)
		}
		if s.check != nil {
			var body map[string]any
			require.NoError(t, json.Unmarshal([]byte(resp.Body), &body))
			s.check(t, body)
		}
	}
	_, err := svc.Get(t.Context(), credit.PartyCustomer, "cli-1002")
	assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "a refused party is not written")
}
