package e2e_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/localauth"
	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestUsersKeptToTheirBranches walks two branches and two users, each kept
// to one of them by the custom:branches claim, through the local API
// Gateway on DynamoDB Local: every list holds only the user's branch, in
// full pages whose cursors stay in it; another branch's records answer 404
// and acting on another branch answers 403 branch_not_allowed; a user
// without the claim sees both branches.
func TestUsersKeptToTheirBranches(t *testing.T) {
	st := startStack(t)
	base := localGateway(t, st, nil)

	kept := func(sub string, role credit.Role, branches ...string) string {
		tok, err := localauth.MintKept(gatewayKey, sub, sub, []credit.Role{role}, branches, time.Hour)
		require.NoError(t, err)
		return tok
	}
	root := token(t, credit.RoleAdmin)
	seven, nine := kept("ana-7", credit.RoleAdmin, "filial-7"), kept("bruno-9", credit.RoleAdmin, "filial-9")
	viewer7 := kept("vera-7", credit.RoleViewer, "filial-7")

	type answer struct {
		status int
		code   string
		body   map[string]any
	}
	call := func(tok, method, path string, body any) answer {
		t.Helper()
		b := ""
		if body != nil {
			raw, err := json.Marshal(body)
			require.NoError(t, err)
			b = string(raw)
		}
		resp, raw := httpDo(t, method, base+path, tok, b)
		a := answer{status: resp.StatusCode, body: map[string]any{}}
		_ = json.Unmarshal(raw, &a.body)
		if e, ok := a.body["error"].(map[string]any); ok {
			a.code, _ = e["code"].(string)
		}
		return a
	}
	must := func(tok, method, path string, body any, want int) map[string]any {
		t.Helper()
		a := call(tok, method, path, body)
		require.Equal(t, want, a.status, "%s %s: %v", method, path, a.body)
		return a.body
	}
	refused := func(tok, method, path string, body any, status int, code string) {
		t.Helper()
		a := call(tok, method, path, body)
		assert.Equal(t, status, a.status, "%s %s: %v", method, path, a.body)
		assert.Equal(t, code, a.code, "%s %s", method, path)
	}
	// ids follows a list's cursors in pages of 2: every page but the last
	// is full.
	ids := func(tok, path string) []string {
		t.Helper()
		var out []string
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 20)
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			page := must(tok, "GET", path+sep+"limit=2&cursor="+url.QueryEscape(cursor), nil, 200)
			items, _ := page["items"].([]any)
			for _, it := range items {
				out = append(out, it.(map[string]any)["id"].(string))
			}
			next, _ := page["nextCursor"].(string)
			if next == "" {
				sort.Strings(out)
				return out
			}
			assert.Len(t, items, 2, "%s: a page is full while more follow", path)
			cursor = next
		}
	}

	must(root, "PUT", "/parameters", map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": 0}, 200)
	integration := func(tok, branch string) answer {
		return call(tok, "POST", "/integrations", map[string]any{
			"intermediary": "connect", "branchId": branch, "environment": "homologation",
			"login": sandboxtest.Account().Credentials.Login, "consultationPassword": "Sand@123", "pefinPassword": "246802",
			"defaultPlan": "report_score", "sendSmsOnInclusion": false, "responsibleCpf": "111.444.777-35",
			"automation": map[string]any{"enabled": false, "restrictionCode": "02", "removalCode": "01"},
		})
	}
	a := integration(nine, "filial-7")
	require.Equal(t, http.StatusForbidden, a.status, "an integration for another branch: %v", a.body)
	assert.Equal(t, credit.CodeBranchNotAllowed, a.code)
	int7 := integration(seven, "filial-7")
	require.Equal(t, http.StatusCreated, int7.status, "%v", int7.body)
	int9 := integration(root, "filial-9")
	require.Equal(t, http.StatusCreated, int9.status, "%v", int9.body)
	int7ID, int9ID := int7.body["id"].(string), int9.body["id"].(string)

	// Customers with an overdue invoice each: three in 7, two in 9.
	cpfs := []string{"52998224725", "11144477735", "39053344705", "15350946056", "71428793860"}
	due := time.Now().In(credit.SaoPaulo()).AddDate(0, 0, -40).Format(time.DateOnly)
	customer := func(branch, doc string) map[string]any {
		return map[string]any{"branchId": branch, "document": doc, "name": "Cliente " + doc, "gender": "female",
			"birthDate": "1985-03-14", "mobilePhone": "11987654321", "autoNegativation": "default",
			"address": map[string]any{"cep": "01310100", "street": "Avenida Paulista", "number": "1000", "complement": "Apto 1",
				"neighborhood": "Bela Vista", "city": "São Paulo", "uf": "SP"}}
	}
	invoice := map[string]any{"amountCents": 15990, "dueDate": due, "status": "open", "contractNumber": "CT-1"}
	refused(seven, "PUT", "/parties/customers/c9-x", customer("filial-9", cpfs[3]), 403, credit.CodeBranchNotAllowed)
	var in7, in9 []string
	for k, doc := range cpfs {
		tok, branch, who := seven, "filial-7", fmt.Sprintf("c7-%d", k)
		if k >= 3 {
			tok, branch, who = nine, "filial-9", fmt.Sprintf("c9-%d", k)
		}
		must(tok, "PUT", "/parties/customers/"+who, customer(branch, doc), 201)
		must(tok, "PUT", "/parties/customers/"+who+"/invoices/f-1", invoice, 200)
		if k >= 3 {
			in9 = append(in9, who)
		} else {
			in7 = append(in7, who)
		}
	}
	refused(nine, "PUT", "/parties/customers/"+in7[0], customer("filial-9", cpfs[0]), 403, credit.CodeBranchNotAllowed)
	refused(nine, "PUT", "/parties/customers/"+in7[0]+"/invoices/f-2", invoice, 403, credit.CodeBranchNotAllowed)

	// Consultations and negativations, each user in its own branch.
	var cons7, cons9, negs7, negs9 []string
	for _, who := range append(append([]string{}, in7...), in9...) {
		tok := seven
		if who[1] == '9' {
			tok = nine
		}
		c := must(tok, "POST", "/consultations", map[string]any{"party": map[string]any{"kind": "customer", "id": who}}, 201)
		n := must(tok, "POST", "/negativations", map[string]any{"customerId": who, "invoiceId": "f-1"}, 201)
		if tok == seven {
			cons7, negs7 = append(cons7, c["id"].(string)), append(negs7, n["id"].(string))
		} else {
			cons9, negs9 = append(cons9, c["id"].(string)), append(negs9, n["id"].(string))
		}
	}
	refused(seven, "POST", "/consultations", map[string]any{"party": map[string]any{"kind": "customer", "id": in9[0]}}, 403, credit.CodeBranchNotAllowed)
	refused(seven, "POST", "/consultations", map[string]any{"document": cpfs[4], "branchId": "filial-9", "uf": "SP"}, 403, credit.CodeBranchNotAllowed)
	must(root, "PUT", "/parties/customers/"+in9[1]+"/invoices/f-2", invoice, 200)
	refused(seven, "POST", "/negativations", map[string]any{"customerId": in9[1], "invoiceId": "f-2"}, 403, credit.CodeBranchNotAllowed)
	refused(seven, "POST", "/negativations/"+negs9[0]+"/removal", map[string]any{}, 403, credit.CodeBranchNotAllowed)
	refused(seven, "PATCH", "/integrations/"+int9ID, map[string]any{"defaultPlan": "crednet_top"}, 403, credit.CodeBranchNotAllowed)
	refused(seven, "PATCH", "/integrations/"+int7ID, map[string]any{"branchId": "filial-8"}, 403, credit.CodeBranchNotAllowed)
	refused(seven, "POST", "/integrations/"+int9ID+"/connection-test", nil, 403, credit.CodeBranchNotAllowed)
	refused(seven, "DELETE", "/integrations/"+int9ID, nil, 403, credit.CodeBranchNotAllowed)
	refused(seven, "POST", "/negativations/sync", map[string]any{"integrationId": int9ID}, 403, credit.CodeBranchNotAllowed)

	// Another branch's records do not exist for the user.
	for _, path := range []string{
		"/negativations/" + negs9[0], "/consultations/" + cons9[0], "/consultations/" + cons9[0] + "/pdf",
		"/parties/customers/" + in9[0], "/parties/customers/" + in9[0] + "/invoices",
		"/parties/customers/" + in9[0] + "/negativations", "/parties/customers/" + in9[0] + "/consultations",
		"/integrations/" + int9ID, "/integrations/" + int9ID + "/restriction-codes", "/branches/filial-9/integration",
	} {
		refused(seven, "GET", path, nil, 404, credit.CodeNotFound)
	}
	must(seven, "GET", "/negativations/"+negs7[0], nil, 200)
	must(viewer7, "GET", "/consultations/"+cons7[0], nil, 200)

	// Every list holds the user's branch only, in full pages.
	sorted := func(s ...[]string) []string {
		var out []string
		for _, x := range s {
			out = append(out, x...)
		}
		sort.Strings(out)
		return out
	}
	for _, tt := range []struct {
		path       string
		seven, all []string
	}{
		{"/negativations", sorted(negs7), sorted(negs7, negs9)},
		{"/negativations?status=" + string(credit.NegativationActive), nil, nil},
		{"/consultations", sorted(cons7), sorted(cons7, cons9)},
		{"/consultations?status=succeeded", sorted(cons7), sorted(cons7, cons9)},
		{"/integrations", []string{int7ID}, sorted([]string{int7ID, int9ID})},
	} {
		if tt.seven == nil {
			// The status the sandbox leaves them in: whatever it is, the
			// same split.
			st := must(root, "GET", "/negativations/"+negs7[0], nil, 200)["status"].(string)
			tt.path = "/negativations?status=" + st
			tt.seven, tt.all = sorted(negs7), sorted(negs7, negs9)
		}
		assert.Equal(t, tt.seven, ids(seven, tt.path), "%s kept to 7", tt.path)
		assert.Equal(t, tt.seven, ids(viewer7, tt.path), "%s, a viewer kept to 7", tt.path)
		assert.Equal(t, sorted(negsOrNot(tt.path, negs9, cons9, int9ID)), ids(nine, tt.path), "%s kept to 9", tt.path)
		assert.Equal(t, tt.all, ids(root, tt.path), "%s without the claim", tt.path)
	}

	// A cursor issued in one branch does not open the other.
	page := must(seven, "GET", "/negativations?limit=1", nil, 200)
	cursor, _ := page["nextCursor"].(string)
	require.NotEmpty(t, cursor)
	refused(nine, "GET", "/negativations?limit=1&cursor="+url.QueryEscape(cursor), nil, 400, credit.CodeInvalidCursor)
	page = must(seven, "GET", "/consultations?limit=1", nil, 200)
	cursor, _ = page["nextCursor"].(string)
	require.NotEmpty(t, cursor)
	refused(nine, "GET", "/consultations?limit=1&cursor="+url.QueryEscape(cursor), nil, 400, credit.CodeInvalidCursor)

	// Pending removals: one paid invoice in each branch.
	paid := map[string]any{"amountCents": 15990, "dueDate": due, "status": "paid"}
	must(seven, "PUT", "/parties/customers/"+in7[0]+"/invoices/f-1", paid, 200)
	must(nine, "PUT", "/parties/customers/"+in9[0]+"/invoices/f-1", paid, 200)
	pending := func(tok string) []string {
		var out []string
		for _, it := range must(tok, "GET", "/negativations/pending-removals", nil, 200)["items"].([]any) {
			n := it.(map[string]any)
			if inner, ok := n["negativation"].(map[string]any); ok {
				n = inner
			}
			out = append(out, n["id"].(string))
		}
		sort.Strings(out)
		return out
	}
	if st := must(root, "GET", "/negativations/"+negs7[0], nil, 200)["status"].(string); st == "active" || st == "pending" {
		assert.Equal(t, []string{negs7[0]}, pending(seven))
		assert.Equal(t, []string{negs9[0]}, pending(nine))
		assert.Equal(t, sorted([]string{negs7[0], negs9[0]}), pending(root))
	} else {
		t.Fatalf("the sandbox left the negativations %s", st)
	}
}

func negsOrNot(path string, negs, cons []string, integ string) []string {
	switch {
	case strings.Contains(path, "/negativations"):
		return negs
	case strings.Contains(path, "/consultations"):
		return cons
	}
	return []string{integ}
}
