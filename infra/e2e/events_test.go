package e2e_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/eventbridgelocal"
	"creditanalysis/infra/localauth"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/emf/emftest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventsFollowANegativation runs `make run`'s runner and follows one
// negativation from its inclusion to its removal through the events the
// ERP would receive: the runner reads DynamoDB Local's stream, the
// publisher puts the events on the EventBridge stand-in, which appends
// them to $LOCAL_DATA_DIR/events.jsonl. Every event matches
// events.schema.json and shows the document masked; every metrics line the
// runner wrote is an EMF block CloudWatch accepts.
func TestEventsFollowANegativation(t *testing.T) {
	root := moduleRoot(t)
	dataDir := t.TempDir()
	r := startRunner(t, root, runnerBinary(t, root), dataDir)

	key, err := localauth.LoadKey(dataDir)
	require.NoError(t, err)
	tok := func(role credit.Role) string {
		s, err := localauth.DevToken(key, role, time.Hour)
		require.NoError(t, err)
		return s
	}
	admin, analyst, collector := tok(credit.RoleAdmin), tok(credit.RoleAnalyst), tok(credit.RoleCollector)
	call := func(token, method, path string, body any, want int) map[string]any {
		t.Helper()
		b := ""
		if body != nil {
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			b = string(raw)
		}
		resp, raw := httpDo(t, method, r.base+path, token, b)
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
		out := map[string]any{}
		_ = json.Unmarshal(raw, &out)
		return out
	}

	const cpf = "529.982.247-25"
	call(admin, "PUT", "/parameters", map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": 0}, 200)
	integ := call(admin, "POST", "/integrations", map[string]any{
		"intermediary": "connect", "branchId": "matriz", "environment": "homologation",
		"login": sandboxtest.Account().Credentials.Login, "consultationPassword": "Evnt@123", "pefinPassword": "246813",
		"defaultPlan": "report_score", "responsibleCpf": "111.444.777-35", "automation": map[string]any{"enabled": false},
	}, 201)
	id := integ["id"].(string)
	call(collector, "PUT", "/parties/customers/c-1", map[string]any{"branchId": "matriz", "document": cpf, "name": "Maria da Silva",
		"gender": "female", "birthDate": "1985-03-14", "mobilePhone": "11987654321", "autoNegativation": "default",
		"address": map[string]any{"cep": "01310100", "street": "Avenida Paulista", "number": "1000", "complement": "Apto 12",
			"neighborhood": "Bela Vista", "city": "São Paulo", "uf": "SP"}}, 201)
	due := time.Now().In(credit.SaoPaulo()).AddDate(0, 0, -40).Format(time.DateOnly)
	call(collector, "PUT", "/parties/customers/c-1/invoices/f-1", map[string]any{"amountCents": 15990, "dueDate": due,
		"status": "open", "contractNumber": "CT-1", "documentNumber": "BOL-1"}, 200)
	cons := call(analyst, "POST", "/consultations", map[string]any{"party": map[string]any{"kind": "customer", "id": "c-1"}}, 201)

	first := func(path string) string {
		items := call(collector, "GET", path, nil, 200)["items"].([]any)
		require.NotEmpty(t, items, path)
		return items[0].(map[string]any)["code"].(string)
	}
	restriction, removal := first("/integrations/"+id+"/restriction-codes"), first("/integrations/"+id+"/removal-codes")
	neg := call(collector, "POST", "/negativations", map[string]any{"customerId": "c-1", "invoiceId": "f-1", "restrictionCode": restriction}, 201)
	negID := neg["id"].(string)
	call(admin, "POST", "/negativations/sync", nil, 200)
	removed := call(collector, "POST", fmt.Sprintf("/negativations/%s/removal", negID), map[string]any{"removalCode": removal}, 200)
	require.Equal(t, "removed", removed["status"])

	// The record's history, as the API tells it, is what the events must
	// retell, each published status once.
	var history []string
	for _, h := range call(collector, "GET", "/negativations/"+negID, nil, 200)["history"].([]any) {
		st := h.(map[string]any)["status"].(string)
		if st != "submitting" && st != "removing" && (len(history) == 0 || history[len(history)-1] != st) {
			history = append(history, st)
		}
	}
	require.Equal(t, "pending", history[0])
	require.Equal(t, "removed", history[len(history)-1])

	path := filepath.Join(dataDir, eventbridgelocal.EventsFile)
	var statuses []string
	var evs []eventbridgelocal.Event
	require.Eventually(t, func() bool {
		evs, err = eventbridgelocal.ReadEvents(path)
		require.NoError(t, err)
		statuses = statuses[:0]
		for _, e := range evs {
			var d struct{ NegativationID, Status string }
			require.NoError(t, json.Unmarshal(e.Detail, &d))
			if e.DetailType == string(credit.EventNegativationStatusChanged) && d.NegativationID == negID {
				statuses = append(statuses, d.Status)
			}
		}
		return len(statuses) >= len(history)
	}, 30*time.Second, 200*time.Millisecond, "the events of %s in %s", negID, path)
	assert.Equal(t, history, statuses, "inclusion to removal, in order, each status once")

	schema, err := eventbridgelocal.LoadSchema(filepath.Join(root, "events.schema.json"))
	require.NoError(t, err)
	consultationSeen := false
	for _, e := range evs {
		assert.NoError(t, schema.Validate(e), "%s", e.Detail)
		assert.NotContains(t, string(e.Detail), "52998224725")
		assert.NotContains(t, string(e.Detail), cpf)
		assert.NotContains(t, string(e.Detail), "Maria")
		consultationSeen = consultationSeen || (e.DetailType == string(credit.EventConsultationRecorded) &&
			strings.Contains(string(e.Detail), `"consultationId":"`+cons["id"].(string)+`"`))
	}
	assert.True(t, consultationSeen, "the consultation was published")

	// The metrics of the run: bureau calls and the published facts.
	blocks, raws := emftest.Blocks(strings.NewReader(r.out.String()))
	names := map[string]bool{}
	for i, b := range blocks {
		assert.Empty(t, emftest.Validate(raws[i]), "%s", raws[i])
		for k := range b {
			names[k] = true
		}
	}
	for _, m := range []string{"BureauLatency", "Consultations", "NegativationInclusions", "NegativationRemovals"} {
		assert.True(t, names[m], "no %s metric in the runner's log", m)
	}
	r.stop(t)
}
