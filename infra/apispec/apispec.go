// Package apispec holds the API's OpenAPI document (openapi.yaml at the
// module root) up against real answers: tests hand it what a handler, the
// local runner or a Lambda answered, and it fails them when the answer is
// not what the document promises. It also lists the documented operations,
// so that tests can walk every route without a list of their own.
package apispec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"creditanalysis/infra/checkout"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// FileName is the document's name at the module root.
const FileName = "openapi.yaml"

// Spec is a loaded, validated document. It is safe for concurrent use.
type Spec struct {
	// Doc is the parsed document, for tests that inspect it directly.
	Doc    *openapi3.T
	router routers.Router
	base   string
}

// Operation is one documented (method, path) pair. Path uses the document's
// template syntax ({id}), the same as the handlers and the template.
type Operation struct {
	Method string
	Path   string
	// Public is true when the operation needs no token (security: []).
	Public bool
}

// String is "METHOD /path", the form the access matrix uses.
func (o Operation) String() string { return o.Method + " " + o.Path }

var (
	loadOnce   sync.Once
	loadedSpec *Spec
	loadErr    error
)

// Load returns the module's document, loaded and validated once per test
// binary; it fails t when the document cannot be found, parsed or
// validated.
func Load(t testing.TB) *Spec {
	t.Helper()
	loadOnce.Do(func() {
		var root string
		if root, loadErr = checkout.Root(); loadErr == nil {
			loadedSpec, loadErr = LoadFile(filepath.Join(root, FileName))
		}
	})
	if loadErr != nil {
		t.Fatalf("apispec: %v", loadErr)
	}
	return loadedSpec
}

// LoadFile loads and validates the document at path.
func LoadFile(path string) (*Spec, error) {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", path, err)
	}
	return New(doc)
}

// LoadData loads and validates a document held in memory.
func LoadData(data []byte) (*Spec, error) {
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("load document: %w", err)
	}
	return New(doc)
}

// New validates doc and prepares its router.
func New(doc *openapi3.T) (*Spec, error) {
	if err := doc.Validate(context.Background()); err != nil {
		return nil, fmt.Errorf("invalid document: %w", err)
	}
	if len(doc.Servers) == 0 {
		return nil, errors.New("the document names no server")
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, fmt.Errorf("router: %w", err)
	}
	return &Spec{Doc: doc, router: router, base: strings.TrimSuffix(doc.Servers[0].URL, "/")}, nil
}

// Operations lists every documented operation, sorted by path then method.
func (s *Spec) Operations() []Operation {
	var ops []Operation
	for path, item := range s.Doc.Paths.Map() {
		for method, op := range item.Operations() {
			security := s.Doc.Security
			if op.Security != nil {
				security = *op.Security
			}
			ops = append(ops, Operation{Method: method, Path: path, Public: len(security) == 0})
		}
	}
	sort.Slice(ops, func(i, j int) bool {
		if ops[i].Path != ops[j].Path {
			return ops[i].Path < ops[j].Path
		}
		return ops[i].Method < ops[j].Method
	})
	return ops
}

// ValidateResponse fails t unless the answer (status, headers, body) to
// method on path (a concrete path such as /integrations/abc, with or
// without a query string) is one the document promises: a documented
// operation, a documented status, and a body of the documented media type
// that matches its schema.
func (s *Spec) ValidateResponse(t testing.TB, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	if err := s.CheckResponse(method, path, status, header, body); err != nil {
		t.Errorf("answer to %s %s does not match %s:\n%v\nstatus: %d\nbody: %s", method, path, FileName, err, status, clip(body))
	}
}

// CheckResponse is ValidateResponse returning the mismatch instead of
// failing a test.
func (s *Spec) CheckResponse(method, path string, status int, header http.Header, body []byte) error {
	req := httptest.NewRequest(method, s.base+path, nil)
	route, pathParams, err := s.router.FindRoute(req)
	if err != nil {
		return fmt.Errorf("no documented operation: %w", err)
	}
	responses := route.Operation.Responses
	documented := responses.Status(status)
	if documented == nil {
		documented = responses.Default()
	}
	if documented == nil {
		return fmt.Errorf("status %d is not documented for %s %s (documented: %s)", status, method, route.Path, strings.Join(statuses(responses), ", "))
	}
	// A redirect's body is a courtesy (http.Redirect writes a link); any
	// other answer documented without content must have none.
	isRedirect := status >= 300 && status < 400
	if len(documented.Value.Content) == 0 && !isRedirect && len(bytes.TrimSpace(body)) > 0 {
		return fmt.Errorf("status %d is documented without a body, but the answer has one", status)
	}
	if header == nil {
		header = http.Header{}
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: pathParams,
			Route:      route,
		},
		Status: status,
		Header: header,
		Body:   io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
		},
	}
	return openapi3filter.ValidateResponse(context.Background(), input)
}

func statuses(r *openapi3.Responses) []string {
	var out []string
	for code := range r.Map() {
		out = append(out, code)
	}
	sort.Strings(out)
	return out
}

var controlChars = regexp.MustCompile(`[\x00-\x08\x0b-\x1f]`)

// clip keeps a failure message readable when an answer is large or binary.
func clip(body []byte) string {
	const max = 2048
	s := string(body)
	if len(s) > max {
		s = s[:max] + "…"
	}
	return controlChars.ReplaceAllString(s, "?")
}
