package apispec_test

import (
	"fmt"
	"net/http"
	"testing"

	"creditanalysis/infra/apispec"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func jsonHeader() http.Header {
	return http.Header{"Content-Type": []string{"application/json; charset=utf-8"}}
}

func TestCheckResponse(t *testing.T) {
	spec := apispec.Load(t)
	tests := []struct {
		name    string
		method  string
		path    string
		status  int
		header  http.Header
		body    string
		wantErr string // "" means the answer conforms
	}{
		{name: "health", method: "GET", path: "/health", status: 200, header: jsonHeader(), body: `{"status":"ok"}`},
		{name: "parameters", method: "GET", path: "/parameters", status: 200, header: jsonHeader(),
			body: `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`},
		{name: "query string ignored for routing", method: "GET", path: "/parameters?x=1", status: 200, header: jsonHeader(),
			body: `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":365}`},
		{name: "error shape", method: "PUT", path: "/parameters", status: 400, header: jsonHeader(),
			body: `{"error":{"code":"validation_failed","message":"Dados inválidos.","details":{"fields":["x"]}},"requestId":"r1"}`},
		{name: "error shape without details", method: "GET", path: "/parameters", status: 403, header: jsonHeader(),
			body: `{"error":{"code":"forbidden","message":"Sem permissão."},"requestId":"r1"}`},
		{name: "gateway 401", method: "GET", path: "/parameters", status: 401, header: jsonHeader(), body: `{"message":"Unauthorized"}`},

		{name: "missing required field", method: "GET", path: "/parameters", status: 200, header: jsonHeader(),
			body: `{"creditAnalysisEnabled":false}`, wantErr: "repeatConsultationIntervalDays"},
		{name: "unknown field", method: "GET", path: "/parameters", status: 200, header: jsonHeader(),
			body: `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0,"extra":1}`, wantErr: "extra"},
		{name: "out of range", method: "GET", path: "/parameters", status: 200, header: jsonHeader(),
			body: `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":366}`, wantErr: "maximum"},
		{name: "wrong type", method: "GET", path: "/parameters", status: 200, header: jsonHeader(),
			body: `{"creditAnalysisEnabled":"yes","repeatConsultationIntervalDays":0}`, wantErr: "boolean"},
		{name: "not JSON", method: "GET", path: "/parameters", status: 200, header: jsonHeader(), body: `{`, wantErr: "decode"},
		{name: "wrong media type", method: "GET", path: "/health", status: 200,
			header: http.Header{"Content-Type": []string{"text/plain"}}, body: `ok`, wantErr: "text/plain"},
		{name: "undocumented status", method: "GET", path: "/parameters", status: 418, header: jsonHeader(), body: `{}`, wantErr: "418"},
		{name: "error in another shape", method: "PUT", path: "/parameters", status: 400, header: jsonHeader(),
			body: `{"message":"bad"}`, wantErr: "Error"},
		{name: "error code not snake case", method: "PUT", path: "/parameters", status: 400, header: jsonHeader(),
			body: `{"error":{"code":"Bad Thing","message":"x"},"requestId":"r"}`, wantErr: "pattern"},
		{name: "undocumented path", method: "GET", path: "/nowhere", status: 200, header: jsonHeader(), body: `{}`, wantErr: "no documented operation"},
		{name: "undocumented method", method: "DELETE", path: "/parameters", status: 204, wantErr: "no documented operation"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spec.CheckResponse(tt.method, tt.path, tt.status, tt.header, []byte(tt.body))
			if tt.wantErr == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}

// recorder is a testing.TB that only records failures, to show that
// ValidateResponse fails the test it is given.
type recorder struct {
	testing.TB
	failures []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.failures = append(r.failures, fmt.Sprintf(format, args...))
}

func TestValidateResponseFailsTheTest(t *testing.T) {
	spec := apispec.Load(t)

	ok := &recorder{}
	spec.ValidateResponse(ok, "GET", "/health", 200, jsonHeader(), []byte(`{"status":"ok"}`))
	assert.Empty(t, ok.failures)

	bad := &recorder{}
	spec.ValidateResponse(bad, "GET", "/health", 200, jsonHeader(), []byte(`{"status":"down"}`))
	require.Len(t, bad.failures, 1)
	assert.Contains(t, bad.failures[0], "GET /health")
	assert.Contains(t, bad.failures[0], `{"status":"down"}`)
}

func TestOperations(t *testing.T) {
	ops := apispec.Load(t).Operations()
	byRoute := map[string]apispec.Operation{}
	for _, op := range ops {
		byRoute[op.String()] = op
	}
	require.Contains(t, byRoute, "GET /health")
	require.Contains(t, byRoute, "GET /parameters")
	require.Contains(t, byRoute, "PUT /parameters")
	assert.True(t, byRoute["GET /health"].Public, "health needs no token")
	assert.False(t, byRoute["GET /parameters"].Public)
	assert.False(t, byRoute["PUT /parameters"].Public)
	assert.IsIncreasing(t, func() []string {
		keys := make([]string, len(ops))
		for i, op := range ops {
			keys[i] = op.Path + " " + op.Method
		}
		return keys
	}(), "sorted by path, then method")
}

func TestLoadDataRefusesInvalidDocuments(t *testing.T) {
	tests := map[string]string{
		"not OpenAPI": `{"hello": "world"}`,
		"no servers": `openapi: 3.0.3
info: {title: t, version: "1"}
paths: {}`,
		"dangling reference": `openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "http://127.0.0.1:3000"}]
paths:
  /x:
    get:
      responses:
        "200": {$ref: "#/components/responses/Missing"}`,
	}
	for name, doc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := apispec.LoadData([]byte(doc))
			assert.Error(t, err)
		})
	}
}

func TestCheckResponseWithoutContent(t *testing.T) {
	spec, err := apispec.LoadData([]byte(`openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "http://127.0.0.1:3000"}]
paths:
  /things/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    delete:
      responses:
        "204": {description: deleted}
    get:
      responses:
        "303": {description: elsewhere, headers: {Location: {required: true, schema: {type: string}}}}
`))
	require.NoError(t, err)
	tests := []struct {
		name    string
		method  string
		status  int
		header  http.Header
		body    string
		wantErr bool
	}{
		{"no content", "DELETE", 204, nil, "", false},
		{"content where none is documented", "DELETE", 204, jsonHeader(), `{"id":"a"}`, true},
		{"redirect with a courtesy body", "GET", 303, http.Header{"Location": []string{"https://x"}}, `<a href="https://x">See Other</a>.`, false},
		{"redirect without its location", "GET", 303, nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := spec.CheckResponse(tt.method, "/things/abc", tt.status, tt.header, []byte(tt.body))
			if tt.wantErr {
				assert.Error(t, err)
			} else {
				assert.NoError(t, err)
			}
		})
	}
}
