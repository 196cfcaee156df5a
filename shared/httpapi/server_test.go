package httpapi_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func discardLogger() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

// request builds a payload v2 event; roles nil means no authorizer claims.
func request(method, path, query string, roles []credit.Role, contentType, body string) events.APIGatewayV2HTTPRequest {
	e := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: method + " " + path, RawPath: path, RawQueryString: query,
		Headers: map[string]string{"host": "api.example"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RequestID: "req-123", Stage: "$default", DomainName: "api.example",
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, SourceIP: "203.0.113.1"},
		},
		Body: body,
	}
	if contentType != "" {
		e.Headers["content-type"] = contentType
	}
	if roles != nil {
		groups := make([]string, len(roles))
		for i, r := range roles {
			groups[i] = httpapi.DefaultRoleGroups.GroupOf(r)
		}
		e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: map[string]string{
				"sub": "user-1", "name": "Ana", "cognito:groups": "[" + strings.Join(groups, " ") + "]",
			}},
		}
	}
	return e
}

func errorBody(t *testing.T, body string) httpapi.ErrorBody {
	t.Helper()
	var e httpapi.ErrorBody
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&e), "every non-2xx answer has the one error shape: %s", body)
	return e
}

var admin = []credit.Role{credit.RoleAdmin}

func TestErrorShapeAndStatus(t *testing.T) {
	const valid = `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":10}`
	tests := []struct {
		name       string
		event      events.APIGatewayV2HTTPRequest
		wantStatus int
		wantCode   string
		wantAllow  string
	}{
		{"no claims", request("GET", "/parameters", "", nil, "", ""), 401, httpapi.CodeUnauthorized, ""},
		{"claims without sub", func() events.APIGatewayV2HTTPRequest {
			e := request("GET", "/parameters", "", admin, "", "")
			delete(e.RequestContext.Authorizer.JWT.Claims, "sub")
			return e
		}(), 401, httpapi.CodeUnauthorized, ""},
		{"no known role", request("GET", "/parameters", "", []credit.Role{"guest"}, "", ""), 403, httpapi.CodeForbidden, ""},
		{"viewer writes", request("PUT", "/parameters", "", []credit.Role{credit.RoleViewer}, "application/json", valid), 403, httpapi.CodeForbidden, ""},
		{"analyst writes", request("PUT", "/parameters", "", []credit.Role{credit.RoleAnalyst}, "application/json", valid), 403, httpapi.CodeForbidden, ""},
		{"unknown route", request("GET", "/nothing-here", "", admin, "", ""), 404, httpapi.CodeRouteNotFound, ""},
		{"method not allowed", request("DELETE", "/parameters", "", admin, "", ""), 405, httpapi.CodeMethodNotAllowed, "GET, HEAD, PUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := invoke(t, parametersServer(), tt.event)
			assert.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			assert.True(t, strings.HasPrefix(resp.Headers["Content-Type"], "application/json"))
			body := errorBody(t, resp.Body)
			assert.Equal(t, tt.wantCode, body.Error.Code)
			assert.NotEmpty(t, body.Error.Message)
			assert.Equal(t, "req-123", body.RequestID)
			if tt.wantAllow != "" {
				assert.Equal(t, tt.wantAllow, resp.Headers["Allow"])
			}
		})
	}
}

func TestRolesGrantAccess(t *testing.T) {
	tests := []struct {
		roles      []credit.Role
		method     string
		wantStatus int
	}{
		{[]credit.Role{credit.RoleViewer}, "GET", 200},
		{[]credit.Role{credit.RoleCollector}, "GET", 200},
		{[]credit.Role{credit.RoleAnalyst}, "GET", 200},
		{[]credit.Role{credit.RoleAdmin}, "PUT", 200},
		{[]credit.Role{credit.RoleViewer, credit.RoleAdmin}, "PUT", 200},
		{[]credit.Role{credit.RoleCollector}, "PUT", 403},
	}
	for _, tt := range tests {
		e := request(tt.method, "/parameters", "", tt.roles, "application/json", `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`)
		if tt.method == "GET" {
			e.Body = ""
		}
		resp := invoke(t, parametersServer(), e)
		assert.Equal(t, tt.wantStatus, resp.StatusCode, "%v %s", tt.roles, tt.method)
	}
}

// TestDecodeStrictness sends every malformed body to PUT /parameters: each
// is refused with its code and nothing is stored.
func TestDecodeStrictness(t *testing.T) {
	big := `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1,"x":"` + strings.Repeat("a", httpapi.MaxBodyBytes) + `"}`
	tests := []struct {
		name        string
		contentType string
		body        string
		wantStatus  int
		wantCode    string
		wantField   string
	}{
		{"unknown field", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1,"extra":1}`, 400, httpapi.CodeUnknownField, "extra"},
		{"duplicate key", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1,"repeatConsultationIntervalDays":2}`, 400, httpapi.CodeDuplicateKey, "repeatConsultationIntervalDays"},
		{"string for integer", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":"30"}`, 400, httpapi.CodeInvalidType, "repeatConsultationIntervalDays"},
		{"key differing only in case", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1,"REPEATCONSULTATIONINTERVALDAYS":90}`, 400, httpapi.CodeUnknownField, "REPEATCONSULTATIONINTERVALDAYS"},
		{"only a case-folded key", "application/json", `{"CreditAnalysisEnabled":true,"repeatConsultationIntervalDays":1}`, 400, httpapi.CodeUnknownField, "CreditAnalysisEnabled"},
		{"number for boolean", "application/json", `{"creditAnalysisEnabled":1,"repeatConsultationIntervalDays":30}`, 400, httpapi.CodeInvalidType, "creditAnalysisEnabled"},
		{"fraction for integer", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1.5}`, 400, httpapi.CodeInvalidType, "repeatConsultationIntervalDays"},
		{"array instead of object", "application/json", `[1,2]`, 400, httpapi.CodeInvalidType, ""},
		{"trailing data", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1} {}`, 400, httpapi.CodeInvalidJSON, ""},
		{"trailing garbage", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1}x`, 400, httpapi.CodeInvalidJSON, ""},
		{"malformed", "application/json", `{"creditAnalysisEnabled":true,`, 400, httpapi.CodeInvalidJSON, ""},
		{"empty body", "application/json", ``, 400, httpapi.CodeInvalidJSON, ""},
		{"only spaces", "application/json", "  \n ", 400, httpapi.CodeInvalidJSON, ""},
		{"null", "application/json", `null`, 400, httpapi.CodeInvalidType, ""},
		{"missing field", "application/json", `{"creditAnalysisEnabled":true}`, 400, credit.CodeValidation, "repeatConsultationIntervalDays"},
		{"negative interval", "application/json", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":-1}`, 400, credit.CodeValidation, "repeatConsultationIntervalDays"},
		{"not JSON content type", "text/plain", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1}`, 400, httpapi.CodeUnsupportedMT, ""},
		{"over 64 KiB", "application/json", big, 413, httpapi.CodeBodyTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := parametersServer()
			resp := invoke(t, h, request("PUT", "/parameters", "", admin, tt.contentType, tt.body))

			assert.Equal(t, tt.wantStatus, resp.StatusCode, resp.Body)
			body := errorBody(t, resp.Body)
			assert.Equal(t, tt.wantCode, body.Error.Code, body.Error.Message)
			if tt.wantField != "" {
				// One shape for every field error, so a form maps it once.
				assert.Contains(t, body.Error.Details["fields"], tt.wantField, jsonString(t, body.Error.Details))
				assert.Contains(t, body.Error.Message, tt.wantField)
			}

			after := invoke(t, h, request("GET", "/parameters", "", admin, "", ""))
			assert.JSONEq(t, `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`, after.Body, "nothing changed")
		})
	}
}

func jsonString(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}

func TestDecodeBytes(t *testing.T) {
	type target struct {
		Name  string `json:"name"`
		Items []struct {
			ID int `json:"id"`
		} `json:"items"`
	}
	tests := []struct {
		body     string
		wantCode string
	}{
		{`{"name":"a","items":[{"id":1},{"id":2}]}`, ""},
		{`{"name":"a","items":[{"id":1,"id":2}]}`, httpapi.CodeDuplicateKey},
		{`{"items":[{"id":"x"}]}`, httpapi.CodeInvalidType},
		{`{"items":[{"idx":1}]}`, httpapi.CodeUnknownField},
		{`"just a string"`, httpapi.CodeInvalidType},
		{`{"NAME":"a"}`, httpapi.CodeUnknownField},
		{`{"items":[{"ID":1}]}`, httpapi.CodeUnknownField},
		{`{"name":"a","Name":"b"}`, httpapi.CodeUnknownField},
	}
	for _, tt := range tests {
		var v target
		err := httpapi.DecodeBytes([]byte(tt.body), &v)
		if tt.wantCode == "" {
			assert.NoError(t, err, tt.body)
			continue
		}
		assert.Equal(t, tt.wantCode, credit.ErrorCode(err), tt.body)
	}
}

// panicky is an area whose only route fails in the ways a handler can fail
// unexpectedly.
type panicky struct{ fail func() error }

func (p panicky) Routes() []httpapi.Route {
	return []httpapi.Route{{Method: "GET", Path: "/health", Handler: func(http.ResponseWriter, *http.Request) error { return p.fail() }}}
}

func TestInternalErrorsHideTheirCause(t *testing.T) {
	tests := map[string]func() error{
		"plain error":    func() error { return errors.New("dynamodb: connection refused to 10.0.0.7 password=hunter2") },
		"internal error": func() error { return credit.Internal(errors.New("secret hunter2"), "load") },
		"panic":          func() error { panic("hunter2") },
	}
	for name, fail := range tests {
		t.Run(name, func(t *testing.T) {
			var logs strings.Builder
			h := httpapi.NewServer(httpapi.Config{Logger: slog.New(slog.NewJSONHandler(&logs, nil))}, panicky{fail: fail})
			resp := invoke(t, h, request("GET", "/health", "", nil, "", ""))

			assert.Equal(t, 500, resp.StatusCode)
			body := errorBody(t, resp.Body)
			assert.Equal(t, credit.CodeInternal, body.Error.Code)
			assert.Equal(t, credit.InternalMessage, body.Error.Message)
			assert.Equal(t, "req-123", body.RequestID)
			assert.NotContains(t, resp.Body, "hunter2", "the cause stays out of the answer")
			assert.Contains(t, logs.String(), "hunter2", "and goes to the log")
			assert.Contains(t, logs.String(), `"requestId":"req-123"`)
		})
	}
}

func TestActorFromGateway(t *testing.T) {
	custom, err := httpapi.ParseRoleGroups("collector=Cobranca,viewer=Leitura")
	require.NoError(t, err)
	tests := []struct {
		name       string
		claims     map[string]string
		rolesClaim string
		groups     httpapi.RoleGroups
		want       credit.Actor
	}{
		{"cognito groups", map[string]string{"sub": "u1", "name": "Ana", "cognito:groups": "[credit-admin credit-viewer]"}, "", nil, credit.Actor{Subject: "u1", Name: "Ana", Roles: []credit.Role{credit.RoleAdmin, credit.RoleViewer}}},
		{"name falls back to username", map[string]string{"sub": "u1", "cognito:username": "ana.s", "cognito:groups": "[credit-analyst]"}, "", nil, credit.Actor{Subject: "u1", Name: "ana.s", Roles: []credit.Role{credit.RoleAnalyst}}},
		{"custom roles claim and groups", map[string]string{"sub": "u1", "name": "Ana", "custom:groups": `["Cobranca","Leitura"]`}, "custom:groups", custom, credit.Actor{Subject: "u1", Name: "Ana", Roles: []credit.Role{credit.RoleCollector, credit.RoleViewer}}},
		{"custom groups replace the defaults", map[string]string{"sub": "u1", "name": "Ana", "cognito:groups": "[credit-admin Leitura]"}, "", custom, credit.Actor{Subject: "u1", Name: "Ana", Roles: []credit.Role{credit.RoleViewer}}},
		{"other groups dropped", map[string]string{"sub": "u1", "name": "Ana", "cognito:groups": "[root credit-admin admin]"}, "", nil, credit.Actor{Subject: "u1", Name: "Ana", Roles: []credit.Role{credit.RoleAdmin}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got credit.Actor
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				a, ok := httpapi.ActorFromGateway(r.Context(), tt.rolesClaim, tt.groups)
				require.True(t, ok)
				got = a
				w.WriteHeader(204)
			})
			e := request("GET", "/x", "", nil, "", "")
			e.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
				JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: tt.claims},
			}
			_, err := httpapi.LambdaHandler(h).ProxyWithContext(t.Context(), e)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestGroupsGrantExactRoles reads groups claims in every form API Gateway
// hands them over; only a group named exactly as configured grants a role.
func TestGroupsGrantExactRoles(t *testing.T) {
	tests := []struct {
		name  string
		claim string
		want  []credit.Role
	}{
		{"flattened array", "[credit-admin]", []credit.Role{credit.RoleAdmin}},
		{"flattened, two groups", "[credit-viewer credit-analyst]", []credit.Role{credit.RoleAnalyst, credit.RoleViewer}},
		{"JSON array", `["credit-collector","credit-viewer"]`, []credit.Role{credit.RoleCollector, credit.RoleViewer}},
		{"one plain group", "credit-analyst", []credit.Role{credit.RoleAnalyst}},
		{"empty", "", nil},
		{"empty array", "[]", nil},
		{"empty JSON array", "[ ]", nil},
		{"the role's own name is not its group", "[admin analyst]", nil},
		{"case matters", "[CREDIT-ADMIN Credit-Admin]", nil},
		{"no trimming of a plain name", " credit-admin ", nil},
		{"a group with a space, as JSON", `["IT credit-admin"]`, nil},
		{"a group with a space, plain", "IT credit-admin", nil},
		{"a plain IT admin", "IT admin", nil},
		{"a comma is part of the name", "[finance,credit-admin]", nil},
		{"a comma is part of the name, JSON", `["finance,credit-admin"]`, nil},
		{"a comma is part of the name, plain", "finance,credit-admin", nil},
		{"a comma list is one name", "credit-admin,credit-viewer", nil},
		{"a prefix is not the group", "[credit-admins xcredit-admin]", nil},
		{"quotes inside the flattened form", `["credit-admin" x]`, nil},
		{"nested brackets", "[[credit-admin]]", nil},
		{"JSON array of non-strings", `[1, true]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, httpapi.DefaultRoleGroups.Roles(tt.claim), "%q", tt.claim)
		})
	}
}

func TestParseRoleGroups(t *testing.T) {
	def, err := httpapi.ParseRoleGroups("")
	require.NoError(t, err)
	assert.Equal(t, httpapi.RoleGroups{
		"credit-admin": credit.RoleAdmin, "credit-analyst": credit.RoleAnalyst,
		"credit-collector": credit.RoleCollector, "credit-viewer": credit.RoleViewer,
	}, def)

	two, err := httpapi.ParseRoleGroups("admin=Ops,admin=TI-Admin,viewer=Leitura")
	require.NoError(t, err)
	assert.Equal(t, httpapi.RoleGroups{"Ops": credit.RoleAdmin, "TI-Admin": credit.RoleAdmin, "Leitura": credit.RoleViewer}, two)
	assert.Equal(t, "Ops", two.GroupOf(credit.RoleAdmin))
	assert.Empty(t, two.GroupOf(credit.RoleAnalyst))
	assert.Equal(t, []credit.Role{credit.RoleAdmin}, two.Roles("[TI-Admin]"))

	for _, bad := range []string{
		"admin", "root=credit-root", "Admin=credit-admin", "admin=", "admin=IT admin", "admin=a[b]",
		`admin="x"`, "admin=x,viewer=x", "admin=credit-admin,", "admin=	x",
	} {
		_, err := httpapi.ParseRoleGroups(bad)
		assert.Error(t, err, "%q", bad)
	}
}
