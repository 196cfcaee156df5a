package creditanalysis_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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
	require.Len(t, doc.Servers, 2, "the local runner and a deployed stage")
	deployed := doc.Servers[1]
	assert.Equal(t, "https://{apiId}.execute-api.{region}.amazonaws.com", deployed.URL, "template.yaml's ApiUrl output, templated")
	for _, name := range []string{"apiId", "region"} {
		require.Contains(t, deployed.Variables, name)
		assert.NotEmpty(t, deployed.Variables[name].Default, name)
	}
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

// TestOpenAPIExamples: every request body and every operation's main
// success answer carries an example a frontend developer can copy, and
// loadOpenAPI has already checked each example against its schema.
func TestOpenAPIExamples(t *testing.T) {
	doc, err := loadOpenAPI(t, nil)
	require.NoError(t, err)
	assert.Empty(t, missingExamples(doc))
}

// missingExamples names the request bodies and main success answers
// without an example, on the media type or on the schema it names.
func missingExamples(doc *openapi3.T) []string {
	var missing []string
	paths := doc.Paths.Map()
	for _, path := range sortedKeys(paths) {
		ops := paths[path].Operations()
		for _, method := range sortedKeys(ops) {
			op := ops[method]
			name := method + " " + path
			if op.RequestBody != nil {
				if media := op.RequestBody.Value.Content.Get("application/json"); media != nil && !hasExample(media) {
					missing = append(missing, name+": request body")
				}
			}
			responses := op.Responses.Map()
			for _, code := range sortedKeys(responses) {
				if code[0] != '2' {
					continue
				}
				media := responses[code].Value.Content.Get("application/json")
				if media == nil {
					continue // 204, or no body
				}
				if !hasExample(media) {
					missing = append(missing, name+": "+code+" answer")
				}
				break // the main success answer: the first 2xx with a body
			}
		}
	}
	return missing
}

func hasExample(media *openapi3.MediaType) bool {
	if media.Example != nil || len(media.Examples) > 0 {
		return true
	}
	return media.Schema != nil && media.Schema.Value != nil && media.Schema.Value.Example != nil
}

// TestOpenAPIErrorCodes: every operation lists, in x-error-codes, the codes
// it can answer for each documented error status, and nothing else; a code
// the service raises with a known kind is listed under that kind's status.
func TestOpenAPIErrorCodes(t *testing.T) {
	doc, err := loadOpenAPI(t, nil)
	require.NoError(t, err)
	assert.Empty(t, errorCodeProblems(doc, serviceErrorCodes(t)))
}

// serviceErrorCodes reads, from the service's sources, every error code and
// the statuses it is raised with: Code... = "x" constants, and the kind each
// NewError/Errorf/As call pairs with a code, mapped through httpapi.StatusOf.
// Codes raised without a literal kind next to them map to no status.
func serviceErrorCodes(t *testing.T) map[string][]int {
	t.Helper()
	var src strings.Builder
	require.NoError(t, filepath.WalkDir("shared", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		src.Write(b)
		src.WriteByte('\n')
		return err
	}))
	constants := map[string]string{}
	codes := map[string][]int{}
	for _, m := range regexp.MustCompile(`\b(Code\w+)\s*=\s*"([a-z][a-z0-9_]*)"`).FindAllStringSubmatch(src.String(), -1) {
		constants[m[1]] = m[2]
		codes[m[2]] = nil
	}
	kinds := map[string]credit.Kind{}
	for _, m := range regexp.MustCompile(`\b(Kind\w+)\s+(?:credit\.)?Kind\s*=\s*"([a-z_]+)"`).FindAllStringSubmatch(src.String(), -1) {
		kinds[m[1]] = credit.Kind(m[2])
	}
	for _, m := range regexp.MustCompile(`\b(Kind\w+),\s*(?:\w+\.)?(Code\w+|"[a-z][a-z0-9_]*")`).FindAllStringSubmatch(src.String(), -1) {
		code := strings.Trim(m[2], `"`)
		if c, ok := constants[m[2]]; ok {
			code = c
		}
		status := httpapi.StatusOf(credit.NewError(kinds[m[1]], code, ""))
		if !slices.Contains(codes[code], status) {
			codes[code] = append(codes[code], status)
		}
	}
	require.NotEmpty(t, codes)
	return codes
}

func errorCodeProblems(doc *openapi3.T, known map[string][]int) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	paths := doc.Paths.Map()
	for _, path := range sortedKeys(paths) {
		ops := paths[path].Operations()
		for _, method := range sortedKeys(ops) {
			op := ops[method]
			name := method + " " + path
			var listed map[string][]string
			raw, ok := op.Extensions["x-error-codes"]
			if !ok {
				add("%s: no x-error-codes", name)
				continue
			}
			b, _ := json.Marshal(raw)
			if err := json.Unmarshal(b, &listed); err != nil {
				add("%s: x-error-codes is not a map of status to codes: %v", name, err)
				continue
			}
			responses := op.Responses.Map()
			for _, status := range sortedKeys(responses) {
				if status[0] == '4' || status[0] == '5' {
					if len(listed[status]) == 0 {
						add("%s: status %s lists no code", name, status)
					}
				}
			}
			for _, status := range sortedKeys(listed) {
				if responses[status] == nil {
					add("%s: x-error-codes lists status %s, which is not documented", name, status)
				}
				for _, code := range listed[status] {
					statuses, raised := known[code]
					switch {
					case !raised:
						add("%s: %s is not a code the service raises", name, code)
					case len(statuses) > 0 && !slices.Contains(statuses, atoi(status)):
						add("%s: %s is raised with status %v, listed under %s", name, code, statuses, status)
					}
				}
			}
		}
	}
	return problems
}

func atoi(s string) int {
	var n int
	fmt.Sscan(s, &n)
	return n
}

// TestOpenAPIErrorCodeChecksCatchMistakes breaks x-error-codes one way per
// case and expects errorCodeProblems to say so.
func TestOpenAPIErrorCodeChecksCatchMistakes(t *testing.T) {
	const good = `
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /things:
    post:
      x-error-codes:
        "409": [thing_exists]
        "500": [internal_error]
      requestBody:
        content: {application/json: {schema: {type: object}, example: {}}}
      responses:
        "201":
          description: ok
          content: {application/json: {schema: {type: object}, example: {id: a}}}
        "409": {description: conflict}
        "500": {description: error}
`
	known := map[string][]int{"thing_exists": {409}, "internal_error": {500}, "raised_elsewhere": nil}
	doc, err := loadOpenAPI(t, []byte(good))
	require.NoError(t, err)
	require.Empty(t, errorCodeProblems(doc, known))
	require.Empty(t, missingExamples(doc))

	tests := []struct{ name, old, new string }{
		{"no x-error-codes", "      x-error-codes:\n        \"409\": [thing_exists]\n        \"500\": [internal_error]\n", ""},
		{"a documented status without codes", "        \"409\": [thing_exists]\n", ""},
		{"a status that is not documented", `"500": [internal_error]`, `"500": [internal_error]
        "404": [raised_elsewhere]`},
		{"a code the service never raises", "[thing_exists]", "[thing_exist]"},
		{"a code under another status than it is raised with", `"500": [internal_error]`, `"500": [internal_error, thing_exists]`},
		{"no request body example", "{schema: {type: object}, example: {}}", "{schema: {type: object}}"},
		{"no success example", "{schema: {type: object}, example: {id: a}}", "{schema: {type: object}}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Contains(t, good, tt.old, "the case must change something")
			doc, err := loadOpenAPI(t, []byte(strings.Replace(good, tt.old, tt.new, 1)))
			require.NoError(t, err)
			assert.NotEmpty(t, append(errorCodeProblems(doc, known), missingExamples(doc)...), "the broken document passed")
		})
	}
}
