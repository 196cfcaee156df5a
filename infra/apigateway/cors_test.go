package apigateway_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"creditanalysis/infra/apigateway"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOriginsAllows(t *testing.T) {
	tests := []struct {
		name   string
		config string
		origin string
		want   bool
	}{
		{"default: a localhost dev server", "", "http://localhost:5173", true},
		{"default: a 127.0.0.1 dev server", "", "http://127.0.0.1:4200", true},
		{"default: localhost without port", "", "http://localhost", true},
		{"default: https is not a dev server", "", "https://localhost:5173", false},
		{"default: another host", "", "http://example.com:5173", false},
		{"default: a look-alike host", "", "http://localhost.example.com:5173", false},
		{"default: a path is not an origin", "", "http://localhost:5173/app", false},
		{"default: the opaque origin of a file", "", "null", false},
		{"default: no origin", "", "", false},
		{"list: listed", "https://erp.example.com, http://localhost:3001", "https://erp.example.com", true},
		{"list: listed, other case", "https://erp.example.com", "https://ERP.example.com", true},
		{"list: the second", "https://erp.example.com, http://localhost:3001", "http://localhost:3001", true},
		{"list: another port", "http://localhost:3001", "http://localhost:3002", false},
		{"list: replaces the default", "https://erp.example.com", "http://localhost:5173", false},
		{"list: another scheme", "https://erp.example.com", "http://erp.example.com", false},
		{"star: anything", "*", "https://anywhere.example", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := apigateway.ParseOrigins(tt.config)
			require.NoError(t, err)
			assert.Equal(t, tt.want, o.Allows(tt.origin))
		})
	}
}

func TestParseOriginsRefusesWhatIsNotAnOrigin(t *testing.T) {
	for _, bad := range []string{
		"erp.example.com",
		"https://erp.example.com/",
		"https://erp.example.com/app",
		"https://erp.example.com?x=1",
		"ftp://erp.example.com",
		"https://user@erp.example.com",
		"https://erp.example.com,localhost:5173",
	} {
		t.Run(bad, func(t *testing.T) {
			_, err := apigateway.ParseOrigins(bad)
			assert.Error(t, err)
		})
	}
}

// TestCORS: a preflight is answered without a token, and every answer to an
// allowed origin carries Access-Control-Allow-Origin (the gateway's own
// refusals, the function's errors and its 5xx included), so that a page can
// read the error's code; a disallowed origin gets no CORS header.
func TestCORS(t *testing.T) {
	const page = "http://localhost:5173"
	const stranger = "https://evil.example"
	preflight := func(origin, method, headers string) http.Header {
		h := http.Header{"Origin": {origin}, "Access-Control-Request-Method": {method}}
		if headers != "" {
			h.Set("Access-Control-Request-Headers", headers)
		}
		return h
	}
	withOrigin := func(origin string, h http.Header) http.Header {
		if h == nil {
			h = http.Header{}
		}
		h.Set("Origin", origin)
		return h
	}
	tests := []struct {
		name       string
		method     string
		path       string
		header     http.Header
		wantStatus int
		// wantOrigin is the Access-Control-Allow-Origin expected; "" none.
		wantOrigin  string
		wantCalls   int
		wantPreflOK bool
	}{
		{"preflight of a JSON write, no token", "OPTIONS", "/closed", preflight(page, "PUT", "authorization, content-type"), 204, page, 0, true},
		{"preflight with Idempotency-Key", "OPTIONS", "/closed", preflight(page, "POST", "Authorization,Content-Type,Idempotency-Key"), 204, page, 0, true},
		{"preflight of an unknown path", "OPTIONS", "/nowhere", preflight(page, "GET", ""), 204, page, 0, true},
		{"preflight of a method not allowed", "OPTIONS", "/closed", preflight(page, "TRACE", ""), 204, "", 0, false},
		{"preflight of a header not allowed", "OPTIONS", "/closed", preflight(page, "GET", "x-secret"), 204, "", 0, false},
		{"preflight from a disallowed origin", "OPTIONS", "/closed", preflight(stranger, "PUT", "content-type"), 204, "", 0, false},
		{"OPTIONS that is no preflight", "OPTIONS", "/closed", withOrigin(page, nil), 404, page, 0, false},
		{"a read with a token", "GET", "/closed", withOrigin(page, bearer(token(t, "viewer"))), 200, page, 1, false},
		{"401 from the authorizer", "GET", "/closed", withOrigin(page, nil), 401, page, 0, false},
		{"404 from the gateway", "GET", "/nowhere", withOrigin(page, nil), 404, page, 0, false},
		{"403 from the function", "GET", "/forbidden", withOrigin(page, bearer(token(t, "viewer"))), 403, page, 1, false},
		{"500 from the gateway", "GET", "/crash", withOrigin(page, bearer(token(t, "viewer"))), 500, page, 1, false},
		{"a read from a disallowed origin", "GET", "/closed", withOrigin(stranger, bearer(token(t, "viewer"))), 200, "", 1, false},
		{"401 to a disallowed origin", "GET", "/closed", withOrigin(stranger, nil), 401, "", 0, false},
		{"no Origin: no CORS", "GET", "/closed", bearer(token(t, "viewer")), 200, "", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			answer := func(status int, err error) apigateway.Invoke {
				return func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
					calls++
					return events.APIGatewayV2HTTPResponse{StatusCode: status, Body: `{"error":{"code":"forbidden","message":"Acesso negado."},"requestId":"r"}`}, err
				}
			}
			gw := apigateway.New(key, nil)
			gw.Route("GET /closed", false, answer(200, nil))
			gw.Route("PUT /closed", false, answer(200, nil))
			gw.Route("GET /forbidden", false, answer(403, nil))
			gw.Route("GET /crash", false, answer(0, context.Canceled))

			w := do(t, gw, tt.method, tt.path, nil, tt.header)

			assert.Equal(t, tt.wantStatus, w.Code, w.Body.String())
			assert.Equal(t, tt.wantCalls, calls, "integration calls")
			h := w.Header()
			assert.Equal(t, tt.wantOrigin, h.Get("Access-Control-Allow-Origin"))
			if tt.header.Get("Origin") != "" {
				assert.Contains(t, h.Values("Vary"), "Origin")
			}
			if tt.wantOrigin == "" {
				for name := range h {
					assert.False(t, strings.HasPrefix(strings.ToLower(name), "access-control-"), "no CORS header %s", name)
				}
				return
			}
			if tt.wantPreflOK {
				assert.Empty(t, w.Body.String())
				assert.Equal(t, "GET,POST,PUT,PATCH,DELETE", h.Get("Access-Control-Allow-Methods"))
				assert.Equal(t, "authorization,content-type,idempotency-key", h.Get("Access-Control-Allow-Headers"))
				assert.Equal(t, "600", h.Get("Access-Control-Max-Age"))
				assert.Empty(t, h.Get("Access-Control-Allow-Credentials"))
			} else {
				assert.Equal(t, "location,apigw-requestid,idempotent-replayed", h.Get("Access-Control-Expose-Headers"))
			}
		})
	}
}

func TestCORSStarAnswersAnyOrigin(t *testing.T) {
	gw := apigateway.New(key, nil)
	var err error
	gw.Origins, err = apigateway.ParseOrigins("*")
	require.NoError(t, err)
	var c capture
	gw.Route("GET /closed", false, c.invoke)

	w := do(t, gw, "GET", "/closed", nil, http.Header{"Origin": {"https://anywhere.example"}})

	assert.Equal(t, 401, w.Code)
	assert.Equal(t, "*", w.Header().Get("Access-Control-Allow-Origin"))
}

func TestCORSConfiguredOrigins(t *testing.T) {
	gw := apigateway.New(key, nil)
	var err error
	gw.Origins, err = apigateway.ParseOrigins("https://erp.example.com")
	require.NoError(t, err)
	var c capture
	gw.Route("GET /closed", false, c.invoke)

	for origin, want := range map[string]string{
		"https://erp.example.com": "https://erp.example.com",
		"http://localhost:5173":   "",
	} {
		w := do(t, gw, "OPTIONS", "/closed", nil, http.Header{"Origin": {origin}, "Access-Control-Request-Method": {"GET"}})
		assert.Equal(t, 204, w.Code, origin)
		assert.Equal(t, want, w.Header().Get("Access-Control-Allow-Origin"), origin)
	}
}
