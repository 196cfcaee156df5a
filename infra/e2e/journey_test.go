package e2e_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/shared/credit"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fullDocuments are the journey's documents in every form they could be
// written: bare, punctuated, and with any punctuation stripped.
var fullDocuments = regexp.MustCompile(`529\.?982\.?247-?25|111\.?444\.?777-?35`)

// TestJourneyLeaksNoSecretAndNoDocument walks what an ISP does in a day —
// configure, push a customer and an overdue invoice, consult, negativate,
// follow, remove, change both passwords — through the local API Gateway with
// every log line captured. No password appears in any log line or answer; no
// full CPF/CNPJ appears in any log line; answers show documents masked, but
// for a party read back by a role that writes parties.
func TestJourneyLeaksNoSecretAndNoDocument(t *testing.T) {
	st := startStack(t)
	var logs syncBuffer
	iam := newIAMRecorder()
	base := localGatewayRecording(t, st, &logs, nil, iam)
	admin, analyst, collector, viewer := token(t, credit.RoleAdmin), token(t, credit.RoleAnalyst), token(t, credit.RoleCollector), token(t, credit.RoleViewer)

	const cpf, responsible = "529.982.247-25", "111.444.777-35"
	passwords := []string{"Jrny@123", "246813", "Nova#456", "135792"}
	var answers []string
	call := func(token, method, path string, body any, want int) map[string]any {
		t.Helper()
		b := ""
		if body != nil {
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			b = string(raw)
		}
		// Every POST carries an Idempotency-Key, as a careful client's does,
		// so that the keys' store is in the recorded calls too.
		key := ""
		if method == "POST" {
			key = uuid.NewString()
		}
		resp, raw := keyedDo(t, method, base+path, token, key, b)
		answers = append(answers, method+" "+path+" "+string(raw))
		require.Equal(t, want, resp.StatusCode, "%s %s: %s", method, path, raw)
		out := map[string]any{}
		_ = json.Unmarshal(raw, &out)
		return out
	}

	call(admin, "PUT", "/parameters", map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": 30}, 200)
	integ := call(admin, "POST", "/integrations", map[string]any{
		"intermediary": "connect", "branchId": "matriz", "environment": "homologation",
		"login": sandboxtest.Account().Credentials.Login, "consultationPassword": passwords[0], "pefinPassword": passwords[1],
		"defaultPlan": "report_score", "sendSmsOnInclusion": true, "responsibleCpf": responsible,
		"automation": map[string]any{"enabled": false},
	}, 201)
	id := integ["id"].(string)
	assert.Equal(t, "***.444.777-**", integ["responsibleCpf"])

	customer := map[string]any{"branchId": "matriz", "document": cpf, "name": "Maria da Silva", "gender": "female",
		"birthDate": "1985-03-14", "mobilePhone": "11987654321", "autoNegativation": "default",
		"address": map[string]any{"cep": "01310100", "street": "Avenida Paulista", "number": "1000", "complement": "Apto 12",
			"neighborhood": "Bela Vista", "city": "São Paulo", "uf": "SP"}}
	written := call(collector, "PUT", "/parties/customers/c-1", customer, 201)
	assert.Equal(t, "52998224725", written["document"], "its writer reads the party's document in full")
	due := time.Now().In(credit.SaoPaulo()).AddDate(0, 0, -40).Format(time.DateOnly)
	call(collector, "PUT", "/parties/customers/c-1/invoices/f-1", map[string]any{"amountCents": 15990, "dueDate": due,
		"status": "open", "contractNumber": "CT-1", "documentNumber": "BOL-1"}, 200)
	read := call(viewer, "GET", "/parties/customers/c-1", nil, 200)
	assert.Equal(t, "***.982.247-**", read["document"], "a viewer reads it masked")

	cons := call(analyst, "POST", "/consultations", map[string]any{"party": map[string]any{"kind": "customer", "id": "c-1"}}, 201)
	assert.Equal(t, "***.982.247-**", cons["document"])
	call(analyst, "GET", fmt.Sprintf("/consultations/%s/pdf?format=json", cons["id"]), nil, 200)
	// A list that shows the overviews' names: on the trail under the party
	// and under every consultation it showed.
	call(analyst, "GET", "/parties/customers/c-1/consultations", nil, 200)

	first := func(path string) string {
		items := call(collector, "GET", path, nil, 200)["items"].([]any)
		require.NotEmpty(t, items, path)
		return items[0].(map[string]any)["code"].(string)
	}
	restriction, removal := first("/integrations/"+id+"/restriction-codes"), first("/integrations/"+id+"/removal-codes")
	neg := call(collector, "POST", "/negativations", map[string]any{"customerId": "c-1", "invoiceId": "f-1", "restrictionCode": restriction}, 201)
	call(admin, "POST", "/negativations/sync", nil, 200)
	call(collector, "GET", fmt.Sprintf("/negativations/%s", neg["id"]), nil, 200)
	call(collector, "POST", fmt.Sprintf("/negativations/%s/removal", neg["id"]), map[string]any{"removalCode": removal}, 200)

	call(admin, "POST", "/integrations/"+id+"/consultation-password", map[string]any{"newPassword": passwords[2], "confirmation": passwords[2]}, 204)
	call(admin, "POST", "/integrations/"+id+"/pefin-password", map[string]any{"newPassword": passwords[3], "confirmation": passwords[3]}, 204)
	test := call(admin, "POST", "/integrations/"+id+"/connection-test", nil, 200)
	assert.Equal(t, true, test["ok"])
	call(admin, "GET", "/audit", nil, 200)

	run := call(admin, "POST", "/billing-rule/runs", nil, 202)
	require.Eventually(t, func() bool {
		got := call(viewer, "GET", fmt.Sprintf("/billing-rule/runs/%s", run["id"]), nil, 200)
		return got["status"] != "running"
	}, 30*time.Second, 100*time.Millisecond, "the manual run ends")

	// The customer asks to be forgotten (LGPD); its debt was removed, so it
	// may be.
	call(admin, "POST", "/parties/customers/c-1/erasure", nil, 200)
	call(viewer, "GET", "/parties/customers/c-1", nil, 404)

	// Each function's policy in template.yaml grants what its calls needed.
	assertLeastPrivilegeSuffices(t, iam)

	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	require.Greater(t, len(lines), 20, "the journey was logged")
	for _, line := range lines {
		for _, pw := range passwords {
			assert.NotContains(t, line, pw, "a password in a log line")
		}
		assert.False(t, fullDocuments.MatchString(line), "a full CPF in a log line: %s", line)
	}
	for _, a := range answers {
		for _, pw := range passwords {
			assert.NotContains(t, a, pw, "a password in an answer")
		}
		if strings.Contains(a, "/parties/customers/c-1 ") && !strings.HasPrefix(a, "GET /parties/customers/c-1 {") {
			continue // the party's own writers read its document
		}
		assert.NotContains(t, a, "52998224725", "a full document in an answer: %.200s", a)
		assert.NotContains(t, a, "11144477735", "the responsible CPF in an answer: %.200s", a)
	}
}
