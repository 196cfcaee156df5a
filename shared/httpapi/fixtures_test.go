package httpapi_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventsDir holds the fixtures `sam local invoke -e` uses; the handler
// tests read the same files, so they cannot drift from what API Gateway
// sends.
var eventsDir = filepath.Join("..", "..", "events")

// loadEvent reads one payload v2 fixture.
func loadEvent(t *testing.T, path string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var e events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(b, &e), path)
	return e
}

// fixtures lists the names (without .json) of events/<function>/*.json.
func fixtures(t *testing.T, function string) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(eventsDir, function, "*.json"))
	require.NoError(t, err)
	require.NotEmpty(t, paths, "no fixtures for %s", function)
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(filepath.Base(p), ".json")
	}
	sort.Strings(names)
	return names
}

// parametersServer is the parameters function's handler over memory stores.
func parametersServer() *httpapi.Server {
	area := &httpapi.ParametersHandler{Service: &credit.ParametersService{Store: memory.New()}}
	return httpapi.NewServer(httpapi.Config{Logger: discardLogger()}, area)
}

// invoke serves one event through the same adapter Lambda uses.
func invoke(t *testing.T, h *httpapi.Server, e events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := httpapi.LambdaHandler(h).ProxyWithContext(context.Background(), e)
	require.NoError(t, err)
	return resp
}

// expectation is what one fixture must get back.
type expectation struct {
	status int
	// body, when set, must equal the answer as JSON.
	body string
	// code, when set, is the error code of a non-2xx answer.
	code string
	// field, when set, must be named in the error's details.
	field string
}

var parametersFixtures = map[string]expectation{
	"health":                         {status: 200, body: `{"status":"ok"}`},
	"get-parameters":                 {status: 200, body: `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`},
	"get-parameters-unauthenticated": {status: 401, code: httpapi.CodeUnauthorized},
	"put-parameters":                 {status: 200, body: `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
	"put-parameters-invalid":         {status: 400, code: credit.CodeValidation, field: "repeatConsultationIntervalDays"},
	"put-parameters-unknown-field":   {status: 400, code: httpapi.CodeUnknownField, field: "enabled"},
	"put-parameters-forbidden":       {status: 403, code: httpapi.CodeForbidden},
}

func TestParametersFixtures(t *testing.T) {
	names := fixtures(t, "parameters")
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			want, ok := parametersFixtures[name]
			require.True(t, ok, "events/parameters/%s.json has no expectation in this table", name)
			e := loadEvent(t, filepath.Join(eventsDir, "parameters", name+".json"))

			resp := invoke(t, parametersServer(), e)

			assert.Equal(t, want.status, resp.StatusCode, resp.Body)
			assert.True(t, strings.HasPrefix(resp.Headers["Content-Type"], "application/json"), resp.Headers)
			if want.body != "" {
				assert.JSONEq(t, want.body, resp.Body)
			}
			if want.status >= 400 {
				body := errorBody(t, resp.Body)
				assert.Equal(t, want.code, body.Error.Code)
				assert.NotEmpty(t, body.Error.Message)
				assert.Equal(t, e.RequestContext.RequestID, body.RequestID, "the request id comes from the event")
				if want.field != "" {
					assert.Contains(t, resp.Body, want.field)
				}
			}
		})
	}
	for name := range parametersFixtures {
		assert.Contains(t, names, name, "expectation without a fixture file")
	}
}

// TestPutFixtureIsStored checks that the PUT fixture changes what the GET
// fixture reads, and the refused ones change nothing.
func TestPutFixtureIsStored(t *testing.T) {
	h := parametersServer()
	load := func(name string) events.APIGatewayV2HTTPRequest {
		return loadEvent(t, filepath.Join(eventsDir, "parameters", name+".json"))
	}
	require.Equal(t, 200, invoke(t, h, load("put-parameters")).StatusCode)
	for _, refused := range []string{"put-parameters-invalid", "put-parameters-unknown-field", "put-parameters-forbidden"} {
		require.GreaterOrEqual(t, invoke(t, h, load(refused)).StatusCode, 400, refused)
	}
	resp := invoke(t, h, load("get-parameters"))
	assert.Equal(t, 200, resp.StatusCode)
	assert.JSONEq(t, `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`, resp.Body)
}

// TestFixturesAreRealistic guards the fixtures themselves: payload v2, the
// route key consistent with the path, claims where the JWT authorizer puts
// them.
func TestFixturesAreRealistic(t *testing.T) {
	for _, name := range fixtures(t, "parameters") {
		t.Run(name, func(t *testing.T) {
			e := loadEvent(t, filepath.Join(eventsDir, "parameters", name+".json"))
			assert.Equal(t, "2.0", e.Version)
			assert.Equal(t, e.RouteKey, e.RequestContext.RouteKey)
			assert.Equal(t, e.RequestContext.HTTP.Method+" "+e.RawPath, e.RouteKey)
			assert.Equal(t, e.RawPath, e.RequestContext.HTTP.Path)
			assert.NotEmpty(t, e.RequestContext.RequestID)
			assert.NotZero(t, e.RequestContext.TimeEpoch)
			for k := range e.Headers {
				assert.Equal(t, strings.ToLower(k), k, "API Gateway lowercases header names")
			}
			if httpapi.IsPublic(e.RouteKey) || strings.Contains(name, "unauthenticated") {
				assert.Nil(t, e.RequestContext.Authorizer)
				return
			}
			require.NotNil(t, e.RequestContext.Authorizer)
			claims := e.RequestContext.Authorizer.JWT.Claims
			for _, c := range []string{"sub", "name", "cognito:groups", "iss", "aud", "exp", "iat"} {
				assert.NotEmpty(t, claims[c], c)
			}
			assert.Regexp(t, `^\[credit-[a-z]+\]$`, claims["cognito:groups"], "flattened like API Gateway does, one default group")
		})
	}
}

// TestScheduledFixture checks the billing rule's EventBridge Scheduler event
// decodes as the scheduled event the function receives.
func TestScheduledFixture(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(eventsDir, "billing-rule", "scheduled.json"))
	require.NoError(t, err)
	var e events.EventBridgeEvent
	require.NoError(t, json.Unmarshal(b, &e))
	assert.Equal(t, "Scheduled Event", e.DetailType)
	assert.Equal(t, "aws.scheduler", e.Source)
	assert.Equal(t, 9, e.Time.UTC().Hour(), "06:00 in São Paulo")
	assert.NotEmpty(t, e.Resources)
}
