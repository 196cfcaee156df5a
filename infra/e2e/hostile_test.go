package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"creditanalysis/infra/apispec"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hostileBodies are refused by every route that takes a body.
var hostileBodies = map[string]string{
	"truncated":          `{"branchId":"x"`,
	"not an object":      `["a","b"]`,
	"a string":           `"hello"`,
	"null":               `null`,
	"duplicate keys":     `{"branchId":"a","branchId":"b"}`,
	"unknown field":      `{"isAdmin":true}`,
	"wrong types":        `{"branchId":1,"amountCents":"100","enabled":"yes","document":[],"removalCode":{},"newPassword":7,"customerId":false}`,
	"two values":         `{} {}`,
	"binary":             "\x00\xff\xfe{\x01",
	"deep nesting":       strings.Repeat("[", 5000) + strings.Repeat("]", 5000),
	"injection in keys":  `{"__proto__":{"admin":true}}`,
	"huge number":        `{"amountCents":1e400}`,
	"oversized (70 KiB)": `{"name":"` + strings.Repeat("A", 70<<10) + `"}`,
}

// hostileIDs go where a path takes an identifier.
var hostileIDs = []string{
	"' OR '1'='1", "../../etc/passwd", "<script>alert(1)</script>", strings.Repeat("9", 300),
	"id\x00null", "PARTY#customer#x", "ção", "${jndi:ldap://x}",
}

// hostileQueries go to every list.
var hostileQueries = []string{
	"limit=0", "limit=-1", "limit=abc", "limit=100000", "cursor=!!!not-base64!!!",
	"cursor=" + url.QueryEscape("eyJQSyI6IkFVRElUIzEifQ"), "from=2026-13-45", "to=yesterday",
	"status=DROP%20TABLE", "document=123",
}

// TestHostileRequestsGet4xxAndChangeNothing sends a few hundred malformed,
// oversized, wrongly typed and injection-style requests, as admin, across
// every documented route: each gets a 4xx in the error shape, none a 5xx, and
// the table holds the same items afterwards (audit events aside: refusals
// are audited on purpose).
func TestHostileRequestsGet4xxAndChangeNothing(t *testing.T) {
	st := startStack(t)
	base := localGateway(t, st, nil)
	admin := token(t, credit.RoleAdmin)

	before := tableSnapshot(t, st)
	sent := 0
	check := func(op apispec.Operation, what, path, body string) {
		t.Helper()
		sent++
		resp, raw := httpDo(t, op.Method, base+path, admin, body)
		if !assert.True(t, resp.StatusCode >= 400 && resp.StatusCode < 500, "%s %s (%s): %d %s", op.Method, path, what, resp.StatusCode, truncate(raw)) {
			return
		}
		var e struct {
			Error struct{ Code string } `json:"error"`
		}
		assert.NoError(t, json.Unmarshal(raw, &e), "%s %s (%s): %s", op.Method, path, what, truncate(raw))
		assert.NotEmpty(t, e.Error.Code, "%s %s (%s)", op.Method, path, what)
	}

	spec := apispec.Load(t)
	for _, op := range spec.Operations() {
		if op.Public {
			continue
		}
		path := concrete(op.Path)
		if op.Method == http.MethodPost || op.Method == http.MethodPut {
			names := make([]string, 0, len(hostileBodies))
			for n := range hostileBodies {
				names = append(names, n)
			}
			sort.Strings(names)
			for _, n := range names {
				check(op, "body: "+n, path, hostileBodies[n])
			}
		}
		if strings.Contains(op.Path, "{") {
			for _, id := range hostileIDs {
				p := strings.NewReplacer("{kind}", url.PathEscape(id), "{id}", url.PathEscape(id), "{invoiceId}", url.PathEscape(id), "{branchId}", url.PathEscape(id)).Replace(op.Path)
				body := ""
				if op.Method == http.MethodPost || op.Method == http.MethodPut {
					body = "{}"
				}
				check(op, "path: "+id, p, body)
			}
		}
		if op.Method == http.MethodGet {
			declared := queryParams(spec, op)
			for _, q := range hostileQueries {
				if name, _, _ := strings.Cut(q, "="); declared[name] {
					check(op, "query: "+q, path+"?"+q, "")
				}
			}
		}
	}
	t.Logf("%d hostile requests", sent)
	assert.GreaterOrEqual(t, sent, 200)
	assert.Equal(t, before, tableSnapshot(t, st), "a refused request writes nothing")
}

// queryParams names the query parameters the document declares for op.
func queryParams(spec *apispec.Spec, op apispec.Operation) map[string]bool {
	out := map[string]bool{}
	item := spec.Doc.Paths.Value(op.Path)
	if item == nil {
		return out
	}
	params := item.Parameters
	if o := item.GetOperation(op.Method); o != nil {
		params = append(params, o.Parameters...)
	}
	for _, p := range params {
		if p.Value != nil && p.Value.In == "query" {
			out[p.Value.Name] = true
		}
	}
	return out
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "..."
	}
	return string(b)
}

// tableSnapshot is every item of the table but the audit trail, as sorted
// JSON. (A scan is the test looking at everything; no request path scans.)
func tableSnapshot(t *testing.T, st *stack.Stack) []string {
	t.Helper()
	var out []string
	p := dynamodb.NewScanPaginator(st.Clients().DynamoDB, &dynamodb.ScanInput{TableName: aws.String(st.Env()["TABLE_NAME"])})
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		require.NoError(t, err)
		for _, item := range page.Items {
			b, err := json.Marshal(item)
			require.NoError(t, err)
			if strings.Contains(string(b), `"Value":"AUDIT#`) {
				continue
			}
			out = append(out, string(b))
		}
	}
	sort.Strings(out)
	return out
}
