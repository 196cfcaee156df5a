package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/localauth"
	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestWhoReadThisReport walks the local stack through the local API
// Gateway: an analyst consults, a viewer reads the consultation without the
// report, an analyst reads it and downloads its PDF, lists show names to
// analysts only; then one call to the audit trail answers who read the
// report, and creations name what they made.
func TestWhoReadThisReport(t *testing.T) {
	st := startStack(t)
	base := localGateway(t, st, nil)
	admin, analyst, viewer := token(t, credit.RoleAdmin), token(t, credit.RoleAnalyst), token(t, credit.RoleViewer)
	type body = map[string]any
	call := func(tok, method, path, payload string) (int, body) {
		t.Helper()
		resp, raw := httpDo(t, method, base+path, tok, payload)
		out := body{}
		_ = json.Unmarshal(raw, &out)
		assert.NotContains(t, string(raw), "52998224725", "%s %s: no full document", method, path)
		return resp.StatusCode, out
	}

	status, out := call(admin, "PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":0}`)
	require.Equal(t, 200, status, out)
	status, integration := call(admin, "POST", "/integrations", `{"intermediary":"connect","branchId":"filial-7","environment":"homologation",
		"login":"`+sandboxtest.Account().Credentials.Login+`","consultationPassword":"Sand@123","pefinPassword":"246802",
		"defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725","automation":{"enabled":false}}`)
	require.Equal(t, 201, status, integration)

	status, created := call(analyst, "POST", "/consultations", `{"document":"529.982.247-25","branchId":"filial-7","uf":"SP"}`)
	require.Equal(t, 201, status, created)
	id := created["id"].(string)
	name := created["report"].(body)["identity"].(body)["name"].(string)
	require.NotEmpty(t, name)

	// A viewer: the record, no report, no name, no score; nothing audited.
	status, seen := call(viewer, "GET", "/consultations/"+id, "")
	require.Equal(t, 200, status, seen)
	assert.NotContains(t, seen, "report")
	assert.Equal(t, "***.982.247-**", seen["document"])
	assert.Contains(t, seen, "requestedBy")
	overview := seen["overview"].(body)
	assert.NotContains(t, overview, "name")
	assert.NotContains(t, overview, "score")
	assert.Contains(t, overview, "pendenciesTotalCents")
	status, list := call(viewer, "GET", "/consultations?document=52998224725", "")
	require.Equal(t, 200, status, list)
	require.Len(t, list["items"], 1)
	assert.NotContains(t, list["items"].([]any)[0].(body)["overview"], "name", "no name behind a CPF for a viewer")
	status, _ = call(viewer, "GET", "/consultations/"+id+"/pdf?format=json", "")
	assert.Equal(t, 403, status)

	// An analyst: the report, the PDF and a list with names, each audited.
	status, full := call(analyst, "GET", "/consultations/"+id, "")
	require.Equal(t, 200, status, full)
	assert.Equal(t, name, full["report"].(body)["identity"].(body)["name"])
	status, _ = call(analyst, "GET", "/consultations/"+id+"/pdf?format=json", "")
	require.Equal(t, 200, status)
	status, list = call(analyst, "GET", "/consultations?document=52998224725", "")
	require.Equal(t, 200, status)
	assert.Equal(t, name, list["items"].([]any)[0].(body)["overview"].(body)["name"])

	// Who read this report? One call.
	status, trail := call(admin, "GET", "/audit?targetId="+url.QueryEscape(id), "")
	require.Equal(t, 200, status, trail)
	var actions []string
	for _, it := range trail["items"].([]any) {
		e := it.(body)
		actions = append(actions, fmt.Sprintf("%s by %s: %v", e["action"], e["actor"].(body)["sub"], e["outcome"].(body)["status"]))
		assert.NotContains(t, e["target"], "52998224725")
	}
	assert.Equal(t, []string{
		"GET /consultations by local-analyst: 200",
		"GET /consultations/{id}/pdf by local-analyst: 200",
		"GET /consultations/{id} by local-analyst: 200",
		"GET /consultations/{id}/pdf by local-viewer: 403",
		"POST /consultations by local-analyst: 201",
	}, actions, "the analyst's list is found by each consultation it showed; the viewer's reads showed no report and are not on the trail, its refused PDF is")
	status, trail = call(admin, "GET", "/audit?action="+url.QueryEscape("GET /consultations"), "")
	require.Equal(t, 200, status, trail)
	require.Len(t, trail["items"], 1, "the analyst's list, not the viewer's")
	assert.Equal(t, body{"consultationIds": id, "document": "***.982.247-**"}, trail["items"].([]any)[0].(body)["target"])

	// A creation names what it made.
	status, trail = call(admin, "GET", "/audit?targetId="+url.QueryEscape(integration["id"].(string)), "")
	require.Equal(t, 200, status, trail)
	require.Len(t, trail["items"], 1)
	assert.Equal(t, body{"integrationId": integration["id"], "branchId": "filial-7"}, trail["items"].([]any)[0].(body)["target"])
	status, run := call(admin, "POST", "/billing-rule/runs", "")
	require.Equal(t, 202, status, run)
	status, trail = call(admin, "GET", "/audit?targetId="+url.QueryEscape(run["id"].(string)), "")
	require.Equal(t, 200, status, trail)
	require.NotEmpty(t, trail["items"])
	assert.Equal(t, body{"runId": run["id"]}, trail["items"].([]any)[0].(body)["target"])

	// A list that shows two reports is found by each of them.
	status, second := call(analyst, "POST", "/consultations", `{"document":"529.982.247-25","branchId":"filial-7","uf":"SP"}`)
	require.Equal(t, 201, status, second)
	status, list = call(analyst, "GET", "/consultations?document=52998224725", "")
	require.Equal(t, 200, status, list)
	require.Len(t, list["items"], 2)
	for _, shown := range []string{id, second["id"].(string)} {
		status, trail = call(admin, "GET", "/audit?limit=1&targetId="+url.QueryEscape(shown), "")
		require.Equal(t, 200, status, trail)
		require.Len(t, trail["items"], 1)
		last := trail["items"].([]any)[0].(body)
		assert.Equal(t, "GET /consultations", last["action"], "the list is the last read of %s", shown)
		assert.Equal(t, body{"consultationIds": second["id"].(string) + "," + id, "document": "***.982.247-**"}, last["target"])
	}
}

// TestGroupsGrantExactRoles sends tokens whose groups claim holds names a
// loose parser would take for roles: only exact group names grant.
func TestGroupsGrantExactRoles(t *testing.T) {
	st := startStack(t)
	base := localGateway(t, st, nil)
	tests := []struct {
		groups    []string
		audit     int // GET /audit: admin only
		parameter int // GET /parameters: every role
	}{
		{[]string{"credit-admin"}, 200, 200},
		{[]string{"admin"}, 403, 403},
		{[]string{"Credit-Admin", "CREDIT-ADMIN"}, 403, 403},
		{[]string{"finance,credit-admin"}, 403, 403},
		{[]string{"credit-admins", "xcredit-admin"}, 403, 403},
		{[]string{"finance,credit-admin", "credit-viewer"}, 403, 200},
		{nil, 403, 403},
	}
	for _, tt := range tests {
		tok, err := localauth.GroupsToken(gatewayKey, tt.groups, time.Hour)
		require.NoError(t, err)
		resp, raw := httpDo(t, "GET", base+"/audit", tok, "")
		assert.Equal(t, tt.audit, resp.StatusCode, "%q: %s", tt.groups, raw)
		resp, raw = httpDo(t, "GET", base+"/parameters", tok, "")
		assert.Equal(t, tt.parameter, resp.StatusCode, "%q: %s", tt.groups, raw)
	}
}
