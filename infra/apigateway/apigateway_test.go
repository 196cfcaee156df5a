package apigateway_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"creditanalysis/infra/apigateway"
	"creditanalysis/infra/localauth"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"
	"creditanalysis/shared/memory"

	"github.com/aws/aws-lambda-go/events"
	"github.com/golang-jwt/jwt/v5"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var key = []byte("0123456789abcdef0123456789abcdef")

func token(t *testing.T, roles ...credit.Role) string {
	t.Helper()
	tok, err := localauth.Mint(key, "user-7", "Ana Souza", roles, time.Hour)
	require.NoError(t, err)
	return tok
}

// capture is an integration that records the event and answers 200.
type capture struct {
	event events.APIGatewayV2HTTPRequest
	calls int
}

func (c *capture) invoke(_ context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	c.event, c.calls = e, c.calls+1
	return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"ok":true}`}, nil
}

func do(t *testing.T, h http.Handler, method, target string, body io.Reader, header http.Header) *httptest.ResponseRecorder {
	t.Helper()
	r := httptest.NewRequest(method, target, body)
	for k, vs := range header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestAuthorizer(t *testing.T) {
	expired, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "u", "iss": localauth.Issuer, "aud": localauth.Audience,
		"iat": time.Now().Add(-2 * time.Hour).Unix(), "exp": time.Now().Add(-time.Hour).Unix(),
	}).SignedString(key)
	require.NoError(t, err)
	otherKey, err := localauth.Mint([]byte("ffffffffffffffffffffffffffffffff"), "u", "n", []credit.Role{credit.RoleAdmin}, time.Hour)
	require.NoError(t, err)

	tests := []struct {
		name       string
		route      string
		header     http.Header
		wantStatus int
	}{
		{"public without token", "GET /open", nil, 200},
		{"public with a bad token", "GET /open", bearer("garbage"), 200},
		{"protected without token", "GET /closed", nil, 401},
		{"protected with garbage", "GET /closed", bearer("garbage"), 401},
		{"protected with an expired token", "GET /closed", bearer(expired), 401},
		{"protected with a token of another key", "GET /closed", bearer(otherKey), 401},
		{"protected with an empty bearer", "GET /closed", http.Header{"Authorization": {"Bearer "}}, 401},
		{"protected with a valid token", "GET /closed", bearer(token(t, credit.RoleViewer)), 200},
		{"scheme is case-insensitive", "GET /closed", http.Header{"Authorization": {"bearer " + token(t)}}, 200},
		{"token alone is accepted", "GET /closed", http.Header{"Authorization": {token(t)}}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c capture
			gw := apigateway.New(key, nil)
			gw.Route("GET /open", true, c.invoke)
			gw.Route("GET /closed", false, c.invoke)
			path := strings.TrimPrefix(tt.route, "GET ")

			w := do(t, gw, "GET", path, nil, tt.header)

			assert.Equal(t, tt.wantStatus, w.Code)
			if tt.wantStatus == 401 {
				assert.JSONEq(t, `{"message":"Unauthorized"}`, w.Body.String())
				assert.True(t, strings.HasPrefix(w.Header().Get("WWW-Authenticate"), "Bearer"))
				assert.Zero(t, c.calls, "the function is never invoked")
				return
			}
			require.Equal(t, 1, c.calls)
			if path == "/open" {
				assert.Nil(t, c.event.RequestContext.Authorizer, "public routes carry no claims")
			} else {
				require.NotNil(t, c.event.RequestContext.Authorizer)
				assert.Equal(t, "user-7", c.event.RequestContext.Authorizer.JWT.Claims["sub"])
			}
		})
	}
}

func TestClaimsReachTheActor(t *testing.T) {
	me := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		actor, ok := httpapi.ActorFromGateway(r.Context(), "", nil)
		httpapi.WriteJSON(w, 200, map[string]any{"ok": ok, "sub": actor.Subject, "name": actor.Name, "roles": actor.Roles})
	})
	gw := apigateway.New(key, nil)
	gw.Route("GET /me", false, apigateway.Handler(me))

	w := do(t, gw, "GET", "/me", nil, bearer(token(t, credit.RoleAnalyst, credit.RoleCollector)))

	require.Equal(t, 200, w.Code)
	assert.JSONEq(t, `{"ok":true,"sub":"user-7","name":"Ana Souza","roles":["analyst","collector"]}`, w.Body.String())
}

func TestEventShape(t *testing.T) {
	var c capture
	gw := apigateway.New(key, nil)
	gw.Route("POST /integrations/{id}/passwords", false, c.invoke)

	r := httptest.NewRequest("POST", "http://127.0.0.1:3000/integrations/int-42/passwords?a=1&a=2&b=x%20y", strings.NewReader(`{"kind":"pefin"}`))
	r.Header.Set("Authorization", "Bearer "+token(t, credit.RoleAdmin))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("User-Agent", "erp/1.0")
	r.Header.Add("X-Trace", "one")
	r.Header.Add("X-Trace", "two")
	r.Header.Set("Cookie", "session=abc; theme=dark")
	r.RemoteAddr = "10.1.2.3:5555"
	before := time.Now().UnixMilli()
	w := httptest.NewRecorder()
	gw.ServeHTTP(w, r)
	require.Equal(t, 200, w.Code)

	e := c.event
	assert.Equal(t, "2.0", e.Version)
	assert.Equal(t, "POST /integrations/{id}/passwords", e.RouteKey)
	assert.Equal(t, "/integrations/int-42/passwords", e.RawPath)
	assert.Equal(t, "a=1&a=2&b=x%20y", e.RawQueryString)
	assert.Equal(t, map[string]string{"a": "1,2", "b": "x y"}, e.QueryStringParameters)
	assert.Equal(t, map[string]string{"id": "int-42"}, e.PathParameters)
	assert.Equal(t, []string{"session=abc", "theme=dark"}, e.Cookies)
	assert.Equal(t, "application/json", e.Headers["content-type"])
	assert.Equal(t, "one,two", e.Headers["x-trace"])
	assert.Equal(t, "127.0.0.1:3000", e.Headers["host"])
	assert.Equal(t, "10.1.2.3", e.Headers["x-forwarded-for"])
	assert.NotContains(t, e.Headers, "cookie")
	for k := range e.Headers {
		assert.Equal(t, strings.ToLower(k), k, "header names are lowercased")
	}
	assert.Equal(t, `{"kind":"pefin"}`, e.Body)
	assert.False(t, e.IsBase64Encoded)

	rc := e.RequestContext
	assert.Equal(t, e.RouteKey, rc.RouteKey)
	assert.Equal(t, apigateway.Stage, rc.Stage)
	assert.NotEmpty(t, rc.RequestID)
	assert.Equal(t, rc.RequestID, w.Header().Get("Apigw-Requestid"))
	assert.Equal(t, "127.0.0.1:3000", rc.DomainName)
	assert.Equal(t, "127", rc.DomainPrefix)
	assert.GreaterOrEqual(t, rc.TimeEpoch, before)
	assert.Equal(t, "POST", rc.HTTP.Method)
	assert.Equal(t, "/integrations/int-42/passwords", rc.HTTP.Path)
	assert.Equal(t, "10.1.2.3", rc.HTTP.SourceIP)
	assert.Equal(t, "erp/1.0", rc.HTTP.UserAgent)
	require.NotNil(t, rc.Authorizer)
	assert.Equal(t, "[credit-admin]", rc.Authorizer.JWT.Claims["cognito:groups"])
	assert.Empty(t, rc.Authorizer.JWT.Scopes)

	// The event is the JSON Lambda receives: it survives the wire format.
	raw, err := json.Marshal(e)
	require.NoError(t, err)
	var back events.APIGatewayV2HTTPRequest
	require.NoError(t, json.Unmarshal(raw, &back))
	assert.Equal(t, e, back)
}

func TestBodyEncoding(t *testing.T) {
	binary := []byte{0x25, 0x50, 0x44, 0x46, 0xff, 0x00, 0xfe}
	tests := []struct {
		name        string
		contentType string
		body        []byte
		wantBase64  bool
	}{
		{"json", "application/json; charset=utf-8", []byte(`{"a":1}`), false},
		{"text", "text/plain", []byte("olá"), false},
		{"vendor json", "application/vnd.api+json", []byte(`{}`), false},
		{"form", "application/x-www-form-urlencoded", []byte("a=1"), false},
		{"no content type, utf-8", "", []byte("hello"), false},
		{"pdf", "application/pdf", binary, true},
		{"octet-stream of text", "application/octet-stream", []byte("abc"), true},
		{"no content type, binary", "", binary, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c capture
			gw := apigateway.New(key, nil)
			gw.Route("POST /upload", true, c.invoke)
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			require.Equal(t, 200, do(t, gw, "POST", "/upload", bytes.NewReader(tt.body), h).Code)

			assert.Equal(t, tt.wantBase64, c.event.IsBase64Encoded)
			got := []byte(c.event.Body)
			if tt.wantBase64 {
				var err error
				got, err = base64.StdEncoding.DecodeString(c.event.Body)
				require.NoError(t, err)
			}
			assert.Equal(t, tt.body, got)
		})
	}
}

func TestResponseWriting(t *testing.T) {
	pdf := []byte{0x25, 0x50, 0x44, 0x46, 0xff, 0x00}
	tests := []struct {
		name       string
		resp       events.APIGatewayV2HTTPResponse
		wantStatus int
		wantBody   []byte
		wantHeader http.Header
	}{
		{
			name:       "json with headers and cookies",
			resp:       events.APIGatewayV2HTTPResponse{StatusCode: 201, Headers: map[string]string{"Content-Type": "application/json", "X-One": "a,b"}, Cookies: []string{"a=1; Path=/", "b=2"}, Body: `{"id":"x"}`},
			wantStatus: 201,
			wantBody:   []byte(`{"id":"x"}`),
			wantHeader: http.Header{"Content-Type": {"application/json"}, "X-One": {"a,b"}, "Set-Cookie": {"a=1; Path=/", "b=2"}},
		},
		{
			name:       "multi-value headers",
			resp:       events.APIGatewayV2HTTPResponse{StatusCode: 200, MultiValueHeaders: map[string][]string{"Vary": {"Origin", "Accept"}}, Body: "{}"},
			wantStatus: 200,
			wantBody:   []byte("{}"),
			wantHeader: http.Header{"Vary": {"Origin", "Accept"}, "Content-Type": {"application/json"}},
		},
		{
			name:       "base64 body",
			resp:       events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"content-type": "application/pdf"}, IsBase64Encoded: true, Body: base64.StdEncoding.EncodeToString(pdf)},
			wantStatus: 200,
			wantBody:   pdf,
			wantHeader: http.Header{"Content-Type": {"application/pdf"}},
		},
		{
			name:       "bad base64 is the integration's fault",
			resp:       events.APIGatewayV2HTTPResponse{StatusCode: 200, IsBase64Encoded: true, Body: "%%%"},
			wantStatus: 500,
			wantBody:   []byte(`{"message":"Internal Server Error"}`),
		},
		{
			name:       "no status code",
			resp:       events.APIGatewayV2HTTPResponse{Body: "x"},
			wantStatus: 500,
			wantBody:   []byte(`{"message":"Internal Server Error"}`),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw := apigateway.New(key, nil)
			gw.Route("GET /x", true, func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
				return tt.resp, nil
			})
			w := do(t, gw, "GET", "/x", nil, nil)
			assert.Equal(t, tt.wantStatus, w.Code)
			assert.Equal(t, tt.wantBody, w.Body.Bytes())
			for k, v := range tt.wantHeader {
				assert.Equal(t, v, w.Header().Values(k), k)
			}
		})
	}
}

func TestGatewayErrors(t *testing.T) {
	failing := func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{}, errors.New("function crashed")
	}
	tests := []struct {
		name       string
		method     string
		path       string
		body       io.Reader
		wantStatus int
		wantBody   string
	}{
		{"unknown path", "GET", "/nowhere", nil, 404, `{"message":"Not Found"}`},
		{"method without route", "DELETE", "/ok", nil, 404, `{"message":"Not Found"}`},
		{"HEAD is not GET", "HEAD", "/ok", nil, 404, `{"message":"Not Found"}`},
		{"function error", "GET", "/fail", nil, 500, `{"message":"Internal Server Error"}`},
		{"body over 10 MB", "POST", "/ok", bytes.NewReader(make([]byte, apigateway.MaxBodyBytes+1)), 413, `{"message":"Request Entity Too Large"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c capture
			gw := apigateway.New(key, nil)
			gw.Route("GET /ok", true, c.invoke)
			gw.Route("POST /ok", true, c.invoke)
			gw.Route("GET /fail", true, failing)

			w := do(t, gw, tt.method, tt.path, tt.body, nil)

			assert.Equal(t, tt.wantStatus, w.Code)
			if tt.method != "HEAD" {
				assert.JSONEq(t, tt.wantBody, w.Body.String())
			}
			assert.Zero(t, c.calls)
		})
	}
}

func TestResponseOverLambdaLimit(t *testing.T) {
	gw := apigateway.New(key, nil)
	gw.Route("GET /big", true, func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: strings.Repeat("a", apigateway.MaxResponseBytes+1)}, nil
	})
	w := do(t, gw, "GET", "/big", nil, nil)
	assert.Equal(t, 500, w.Code)
	assert.JSONEq(t, `{"message":"Internal Server Error"}`, w.Body.String())
}

// TestIntegrationTimeout uses an integration that never answers by itself,
// so the outcome does not depend on how fast the machine is.
func TestIntegrationTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	gw := apigateway.New(key, nil)
	gw.Timeout = time.Millisecond
	gw.Route("GET /slow", true, func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		<-release
		return events.APIGatewayV2HTTPResponse{StatusCode: 200}, nil
	})
	w := do(t, gw, "GET", "/slow", nil, nil)
	assert.Equal(t, 503, w.Code)
	assert.JSONEq(t, `{"message":"Service Unavailable"}`, w.Body.String())
}

func TestIntegrationSeesTheDeadline(t *testing.T) {
	var deadline time.Time
	var ok bool
	gw := apigateway.New(key, nil)
	gw.Route("GET /x", true, func(ctx context.Context, _ events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		deadline, ok = ctx.Deadline()
		return events.APIGatewayV2HTTPResponse{StatusCode: 204}, nil
	})
	before := time.Now()
	require.Equal(t, 204, do(t, gw, "GET", "/x", nil, nil).Code)
	require.True(t, ok, "the invocation's context carries the function's deadline")
	assert.False(t, deadline.Before(before.Add(apigateway.FunctionTimeout)))
	assert.False(t, deadline.After(time.Now().Add(apigateway.FunctionTimeout)), "the function's deadline, not the gateway's")
}

func TestBodyAtTheLimitPasses(t *testing.T) {
	var c capture
	gw := apigateway.New(key, nil)
	gw.Route("POST /ok", true, c.invoke)
	w := do(t, gw, "POST", "/ok", bytes.NewReader(make([]byte, apigateway.MaxBodyBytes)), http.Header{"Content-Type": {"application/octet-stream"}})
	assert.Equal(t, 200, w.Code)
	assert.Equal(t, 1, c.calls)
}

func TestBadRouteKeyPanics(t *testing.T) {
	gw := apigateway.New(key, nil)
	assert.Panics(t, func() { gw.Route("/no-method", true, nil) })
	assert.Panics(t, func() { gw.Route("GET no-slash", true, nil) })
}

// TestParametersRoundTrip serves the real parameters area through the
// gateway: public health, the role matrix, a write read back.
func TestParametersRoundTrip(t *testing.T) {
	area := &httpapi.ParametersHandler{Service: &credit.ParametersService{Store: memory.New()}}
	gw := apigateway.New(key, nil)
	gw.Area(area, httpapi.NewServer(httpapi.Config{}, area))
	assert.ElementsMatch(t, []string{"GET /health", "GET /parameters", "PUT /parameters"}, gw.Routes())

	admin, viewer := bearer(token(t, credit.RoleAdmin)), bearer(token(t, credit.RoleViewer))
	jsonCT := func(h http.Header) http.Header { h = h.Clone(); h.Set("Content-Type", "application/json"); return h }
	steps := []struct {
		name       string
		method     string
		path       string
		body       string
		header     http.Header
		wantStatus int
		wantBody   string
	}{
		{"health is public", "GET", "/health", "", nil, 200, `{"status":"ok"}`},
		{"parameters need a token", "GET", "/parameters", "", nil, 401, `{"message":"Unauthorized"}`},
		{"defaults", "GET", "/parameters", "", viewer, 200, `{"creditAnalysisEnabled":false,"repeatConsultationIntervalDays":0}`},
		{"viewer may not write", "PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`, jsonCT(viewer), 403, ""},
		{"admin writes", "PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`, jsonCT(admin), 200, `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
		{"read back", "GET", "/parameters", "", viewer, 200, `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
		{"invalid input", "PUT", "/parameters", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":366}`, jsonCT(admin), 400, ""},
		{"unchanged", "GET", "/parameters", "", admin, 200, `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":30}`},
	}
	for _, s := range steps {
		w := do(t, gw, s.method, s.path, strings.NewReader(s.body), s.header)
		require.Equal(t, s.wantStatus, w.Code, "%s: %s", s.name, w.Body)
		if s.wantBody != "" {
			assert.JSONEq(t, s.wantBody, w.Body.String(), s.name)
		}
		if s.wantStatus >= 400 && s.wantStatus != 401 {
			var e httpapi.ErrorBody
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &e), s.name)
			assert.NotEmpty(t, e.Error.Code, s.name)
			assert.Equal(t, w.Header().Get("Apigw-Requestid"), e.RequestID, "%s: the request id reaches the function", s.name)
		}
	}
}
