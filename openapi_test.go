package creditanalysis_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"creditanalysis/infra/apispec"
	"creditanalysis/shared/app"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const openAPIFile = "openapi.yaml"

func loadOpenAPI(t *testing.T, data []byte) (*openapi3.T, error) {
	t.Helper()
	loader := openapi3.NewLoader()
	var (
		doc *openapi3.T
		err error
	)
	if data == nil {
		doc, err = loader.LoadFromFile(openAPIFile)
	} else {
		doc, err = loader.LoadFromData(data)
	}
	if err != nil {
		return nil, err
	}
	// Examples are validated against their schemas: a stale example is a
	// broken promise to whoever copies it.
	return doc, doc.Validate(context.Background(), openapi3.EnableExamplesValidation())
}

func TestOpenAPIDocumentValidates(t *testing.T) {
	doc, err := loadOpenAPI(t, nil)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3."), "OpenAPI 3")
	assert.NotEmpty(t, doc.Info.Description)
	require.NotEmpty(t, doc.Servers)
	assert.Equal(t, "http://127.0.0.1:3000", doc.Servers[0].URL, "the local runner's address")
	require.Contains(t, doc.Components.SecuritySchemes, "bearerAuth")
	assert.Equal(t, "bearer", doc.Components.SecuritySchemes["bearerAuth"].Value.Scheme)
	assert.Equal(t, openapi3.SecurityRequirements{{"bearerAuth": []string{}}}, doc.Security, "a token is required unless an operation says security: []")
	for _, name := range []string{"Error", "ListMeta", "GatewayMessage"} {
		assert.Contains(t, doc.Components.Schemas, name)
	}
	for _, name := range []string{"limit", "cursor"} {
		assert.Contains(t, doc.Components.Parameters, name)
	}
	for _, name := range []string{"BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict", "PayloadTooLarge", "UnprocessableEntity", "InternalError", "BadGateway"} {
		assert.Contains(t, doc.Components.Responses, name)
	}
	assert.Empty(t, openAPIConventionProblems(doc))
}

// TestOpenAPISchemas holds the shared schemas to the shapes the HTTP layer
// writes (httpapi.ErrorBody, httpapi.List, credit.Parameters) and to what
// they must refuse.
func TestOpenAPISchemas(t *testing.T) {
	doc, err := loadOpenAPI(t, nil)
	require.NoError(t, err)
	tests := []struct {
		schema string
		value  any
		ok     bool
	}{
		{"Error", map[string]any{"error": map[string]any{"code": "validation_failed", "message": "Dados inválidos.", "details": map[string]any{"fields": []any{"x"}}}, "requestId": "r"}, true},
		{"Error", map[string]any{"error": map[string]any{"code": "internal_error", "message": "erro interno"}, "requestId": "r"}, true},
		{"Error", map[string]any{"error": map[string]any{"code": "internal_error", "message": "erro interno"}}, false},
		{"Error", map[string]any{"message": "Unauthorized"}, false},
		{"GatewayMessage", map[string]any{"message": "Unauthorized"}, true},
		{"ListMeta", map[string]any{"items": []any{}, "nextCursor": nil}, true},
		{"ListMeta", map[string]any{"items": []any{map[string]any{"id": "1"}}, "nextCursor": "abc"}, true},
		{"ListMeta", map[string]any{"items": []any{}}, false},
		{"Parameters", map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": float64(365)}, true},
		{"Parameters", map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": float64(-1)}, false},
		{"Parameters", map[string]any{"creditAnalysisEnabled": true, "repeatConsultationIntervalDays": 1.5}, false},
		{"Parameters", map[string]any{"creditAnalysisEnabled": true}, false},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d_%s", i, tt.schema), func(t *testing.T) {
			err := doc.Components.Schemas[tt.schema].Value.VisitJSON(tt.value)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.Error(t, err)
			}
		})
	}
}

// openAPIConventionProblems checks the house rules every operation follows,
// so that paths added later keep them.
func openAPIConventionProblems(doc *openapi3.T) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	errorSchema := doc.Components.Schemas["Error"]
	seenIDs := map[string]string{}

	paths := doc.Paths.Map()
	for _, path := range sortedKeys(paths) {
		item := paths[path]
		ops := item.Operations()
		for _, method := range sortedKeys(ops) {
			op := ops[method]
			name := method + " " + path
			if op.OperationID == "" {
				add("%s: no operationId", name)
			} else if other, dup := seenIDs[op.OperationID]; dup {
				add("%s: operationId %q also used by %s", name, op.OperationID, other)
			}
			seenIDs[op.OperationID] = name
			if len(op.Tags) == 0 {
				add("%s: no tag", name)
			}
			responses := op.Responses.Map()
			codes := sortedKeys(responses)
			if !slices.ContainsFunc(codes, func(c string) bool { return strings.HasPrefix(c, "2") }) {
				add("%s: no 2xx answer", name)
			}
			need := []string{"500"}
			public := op.Security != nil && len(*op.Security) == 0
			if !public {
				need = append(need, "401", "403")
			}
			if op.RequestBody != nil {
				need = append(need, "400", "413")
			}
			if hasPathParameters(path) {
				need = append(need, "400", "404")
			}
			for _, code := range need {
				if responses[code] == nil {
					add("%s: status %s is not documented", name, code)
				}
			}
			for _, code := range codes {
				if code[0] != '4' && code[0] != '5' {
					continue
				}
				media := responses[code].Value.Content.Get("application/json")
				if media == nil || !isOrOffers(media.Schema, errorSchema) {
					add("%s: %s answers something other than the Error schema", name, code)
				}
			}
			if ok := responses["200"]; ok != nil {
				if media := ok.Value.Content.Get("application/json"); media != nil && isList(media.Schema) {
					params := map[string]bool{}
					for _, p := range append(slices.Clone(item.Parameters), op.Parameters...) {
						if p.Value != nil && p.Value.In == "query" {
							params[p.Value.Name] = true
						}
					}
					if !params["limit"] || !params["cursor"] {
						add("%s: a list takes the limit and cursor query parameters", name)
					}
				}
			}
		}
	}
	return problems
}

var pathParameter = regexp.MustCompile(`\{[^}]+\}`)

func hasPathParameters(path string) bool { return pathParameter.MatchString(path) }

// isOrOffers reports whether ref is want, or a oneOf/anyOf offering it.
func isOrOffers(ref, want *openapi3.SchemaRef) bool {
	if ref == nil || want == nil {
		return false
	}
	if ref.Value == want.Value {
		return true
	}
	for _, alt := range append(slices.Clone(ref.Value.OneOf), ref.Value.AnyOf...) {
		if alt.Value == want.Value {
			return true
		}
	}
	return false
}

// isList reports whether a schema (directly or through allOf) has the list
// shape {items, nextCursor}.
func isList(ref *openapi3.SchemaRef) bool {
	if ref == nil || ref.Value == nil {
		return false
	}
	props := map[string]bool{}
	for _, s := range append([]*openapi3.SchemaRef{ref}, ref.Value.AllOf...) {
		for name := range s.Value.Properties {
			props[name] = true
		}
	}
	return props["items"] && props["nextCursor"]
}

// TestOpenAPIChecksCatchMistakes breaks a small document in one way per case
// and expects the validation or the conventions to say so.
func TestOpenAPIChecksCatchMistakes(t *testing.T) {
	const good = `
openapi: 3.0.3
info: {title: t, version: "1"}
servers: [{url: "http://127.0.0.1:3000"}]
security: [{bearerAuth: []}]
paths:
  /things:
    get:
      operationId: listThings
      tags: [things]
      parameters: [{$ref: "#/components/parameters/limit"}, {$ref: "#/components/parameters/cursor"}]
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                allOf:
                  - {$ref: "#/components/schemas/ListMeta"}
                  - properties: {items: {type: array, items: {$ref: "#/components/schemas/Thing"}}}
              example: {items: [{id: a}], nextCursor: null}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "500": {$ref: "#/components/responses/Error"}
  /things/{id}:
    put:
      operationId: putThing
      tags: [things]
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}
      responses:
        "200": {description: ok}
        "400": {$ref: "#/components/responses/Error"}
        "401": {$ref: "#/components/responses/Error"}
        "403": {$ref: "#/components/responses/Error"}
        "404": {$ref: "#/components/responses/Error"}
        "413": {$ref: "#/components/responses/Error"}
        "500": {$ref: "#/components/responses/Error"}
components:
  securitySchemes:
    bearerAuth: {type: http, scheme: bearer}
  parameters:
    limit: {name: limit, in: query, schema: {type: integer}}
    cursor: {name: cursor, in: query, schema: {type: string}}
  schemas:
    Error:
      type: object
      required: [error]
      properties: {error: {type: object}}
    ListMeta:
      type: object
      required: [items, nextCursor]
      properties: {items: {type: array, items: {}}, nextCursor: {type: string, nullable: true}}
    Thing:
      type: object
      required: [id]
      properties: {id: {type: string}}
      example: {id: a}
  responses:
    Error:
      description: error
      content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
`
	tests := []struct{ name, old, new, by string }{
		{"example breaks its schema", "example: {id: a}", "example: {id: 7}", "kin"},
		{"media type example breaks its schema", "example: {items: [{id: a}], nextCursor: null}", "example: {items: [{}], nextCursor: null}", "kin"},
		{"dangling reference", `$ref: "#/components/schemas/Thing"}}}`, `$ref: "#/components/schemas/Thin"}}}`, "kin"},
		{"undeclared path parameter", "parameters: [{name: id, in: path, required: true, schema: {type: string}}]", "parameters: []", "kin"},
		{"missing 500", "        \"500\": {$ref: \"#/components/responses/Error\"}\n  /things/{id}:", "  /things/{id}:", "conventions"},
		{"missing 401 on a secured operation", "        \"401\": {$ref: \"#/components/responses/Error\"}\n        \"403\": {$ref: \"#/components/responses/Error\"}\n        \"500\": {$ref: \"#/components/responses/Error\"}\n  /things/{id}:", "        \"403\": {$ref: \"#/components/responses/Error\"}\n        \"500\": {$ref: \"#/components/responses/Error\"}\n  /things/{id}:", "conventions"},
		{"missing 413 on a body", "        \"413\": {$ref: \"#/components/responses/Error\"}\n", "", "conventions"},
		{"missing 404 on a path parameter", "        \"404\": {$ref: \"#/components/responses/Error\"}\n", "", "conventions"},
		{"list without cursor", `parameters: [{$ref: "#/components/parameters/limit"}, {$ref: "#/components/parameters/cursor"}]`, `parameters: [{$ref: "#/components/parameters/limit"}]`, "conventions"},
		{"duplicate operationId", "operationId: putThing", "operationId: listThings", "kin"},
		{"error in another shape", "content: {application/json: {schema: {$ref: \"#/components/schemas/Error\"}}}", "content: {application/json: {schema: {type: object}}}", "conventions"},
		{"no tag", "      operationId: putThing\n      tags: [things]\n", "      operationId: putThing\n", "conventions"},
	}

	doc, err := loadOpenAPI(t, []byte(good))
	require.NoError(t, err)
	require.Empty(t, openAPIConventionProblems(doc))
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, good, tt.old, "the case must change something")
			doc, err := loadOpenAPI(t, []byte(strings.Replace(good, tt.old, tt.new, 1)))
			if tt.by == "kin" {
				assert.Error(t, err, "kin-openapi accepted the broken document")
				return
			}
			require.NoError(t, err)
			assert.NotEmpty(t, openAPIConventionProblems(doc), "the broken document passed")
		})
	}
}

// TestOpenAPIStatusesAreKnown: every documented status is one the service
// or API Gateway can answer.
func TestOpenAPIStatusesAreKnown(t *testing.T) {
	doc, err := loadOpenAPI(t, nil)
	require.NoError(t, err)
	var bad []string
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				var n int
				if _, err := fmt.Sscan(code, &n); err != nil || http.StatusText(n) == "" {
					bad = append(bad, method+" "+path+" "+code)
				}
			}
		}
	}
	sort.Strings(bad)
	assert.Empty(t, bad, "documented statuses must be concrete HTTP statuses (no default, no 4XX ranges)")
}

// TestOpenAPIMatchesHTTPLayer runs the real HTTP layer in process and
// validates its answers with apispec: the health check, a refusal for want
// of a token, and the error shape WriteError produces for each kind of
// error.
func TestOpenAPIMatchesHTTPLayer(t *testing.T) {
	spec := apispec.Load(t)
	a := app.New(app.Config{Table: "t"}, nil, slog.New(slog.DiscardHandler))
	server := a.Server(a.ParametersHandler())

	for _, tt := range []struct {
		method, path string
		body         string
		status       int
	}{
		{"GET", "/health", "", http.StatusOK},
		{"GET", "/parameters", "", http.StatusUnauthorized},
		{"PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":1}`, http.StatusUnauthorized},
	} {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			server.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body)))
			require.Equal(t, tt.status, rec.Code, rec.Body.String())
			spec.ValidateResponse(t, tt.method, tt.path, rec.Code, rec.Header(), rec.Body.Bytes())
		})
	}

	var fe credit.FieldErrors
	fe.Add("repeatConsultationIntervalDays", "deve ser um inteiro entre 0 e 365")
	for _, err := range []error{
		fe.Err(),
		credit.ErrInvalidCursor,
		errors.New("dynamo: connection reset"),
	} {
		t.Run(credit.ErrorCode(err), func(t *testing.T) {
			rec := httptest.NewRecorder()
			httpapi.WriteError(rec, httptest.NewRequest("PUT", "/parameters", nil), err)
			spec.ValidateResponse(t, "PUT", "/parameters", rec.Code, rec.Header(), rec.Body.Bytes())
		})
	}
}
