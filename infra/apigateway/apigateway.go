// Package apigateway is a local API Gateway HTTP API: for each request it
// runs the JWT authorizer (HS256 tokens from localauth), builds the payload
// v2 event exactly as API Gateway hands it to Lambda, invokes the route's
// integration, and writes the Lambda's v2 response back. The local runner
// serves every area through it, so the handlers run on the same events in
// the runner as in AWS.
//
// Like an HTTP API with a CorsConfiguration, it answers browsers' CORS
// preflights itself, without a token, and adds the CORS headers to every
// answer to an allowed origin, its own refusals included (cors.go).
//
// Like an HTTP API, it answers its own failures as {"message": "..."}: 401
// from the authorizer, 404 for a route it does not have, 413 for a body over
// 10 MB, 500 when the integration fails or answers over 6 MB, 503 when it
// takes longer than 30 s.
package apigateway

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"creditanalysis/infra/localauth"
	"creditanalysis/shared/httpapi"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/google/uuid"
)

// MaxBodyBytes is API Gateway's payload limit.
const MaxBodyBytes = 10 << 20

// MaxResponseBytes is Lambda's limit on a synchronous invocation's response
// payload: a larger answer fails in AWS, so it fails here too.
const MaxResponseBytes = 6 << 20

// IntegrationTimeout is the longest an HTTP API waits for its integration.
const IntegrationTimeout = 30 * time.Second

// FunctionTimeout is the functions' timeout in template.yaml (Globals): the
// deadline of each invocation's context.
const FunctionTimeout = 29 * time.Second

const (
	// Stage is the stage an HTTP API's default stage is named.
	Stage = "$default"
	// APIID and AccountID fill the request context the way `sam local`
	// does: recognisably fake.
	APIID     = "local"
	AccountID = "123456789012"
)

// Invoke is a route's integration: one Lambda invocation with a payload v2
// event. A returned error is what a function error is to API Gateway: 500.
type Invoke func(ctx context.Context, event events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Handler adapts an http.Handler to an Invoke through the same
// aws-lambda-go-api-proxy adapter the functions use on Lambda.
func Handler(h http.Handler) Invoke {
	return httpapi.LambdaHandler(h).ProxyWithContext
}

// Gateway is an http.Handler serving a set of routes.
type Gateway struct {
	// Timeout is how long the gateway waits for an integration
	// (IntegrationTimeout by default).
	Timeout time.Duration
	// FunctionTimeout is each invocation's deadline (FunctionTimeout by
	// default).
	FunctionTimeout time.Duration
	// Origins are the browser origins allowed to call the API (by default
	// the loopback dev servers).
	Origins Origins

	key    []byte
	log    *slog.Logger
	mux    *http.ServeMux
	routes []string
}

// New returns a gateway whose authorizer accepts tokens signed with key.
// log receives one access-log line per request (nil: slog.Default()).
func New(key []byte, log *slog.Logger) *Gateway {
	if log == nil {
		log = slog.Default()
	}
	return &Gateway{Timeout: IntegrationTimeout, FunctionTimeout: FunctionTimeout, key: key, log: log, mux: http.NewServeMux()}
}

// Route adds a route (an HTTP API route key, "GET /integrations/{id}").
// Public routes skip the authorizer, as routes with authorization NONE do.
func (g *Gateway) Route(routeKey string, public bool, invoke Invoke) {
	method, path, ok := strings.Cut(routeKey, " ")
	if !ok || method == "" || !strings.HasPrefix(path, "/") {
		panic(fmt.Sprintf("apigateway: bad route key %q", routeKey))
	}
	g.mux.Handle(routeKey, &route{gw: g, key: routeKey, method: method, public: public, invoke: invoke})
	g.routes = append(g.routes, routeKey)
}

// Area adds every route of area, integrated with h (one Lambda function);
// routes public in httpapi.Access skip the authorizer.
func (g *Gateway) Area(area httpapi.Area, h http.Handler) {
	invoke := Handler(h)
	for _, rt := range area.Routes() {
		g.Route(rt.Pattern(), httpapi.IsPublic(rt.Pattern()), invoke)
	}
}

// Routes lists the route keys in the order they were added.
func (g *Gateway) Routes() []string { return append([]string(nil), g.routes...) }

func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if start := time.Now(); g.cors(w, r) {
		g.access(r, "", "", http.StatusNoContent, start)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	h, pattern := g.mux.Handler(r)
	// ServeMux lets GET routes answer HEAD and tells 404 from 405; an HTTP
	// API matches the method exactly and answers 404 for both.
	rt, ok := h.(*route)
	if pattern == "" || !ok || rt.method != r.Method {
		g.access(r, pattern, "", http.StatusNotFound, time.Now())
		writeMessage(w, http.StatusNotFound, "Not Found")
		return
	}
	g.mux.ServeHTTP(w, r)
}

type route struct {
	gw     *Gateway
	key    string
	method string
	public bool
	invoke Invoke
}

func (rt *route) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	requestID := newRequestID()
	status := rt.serve(w, r, requestID, start)
	rt.gw.access(r, rt.key, requestID, status, start)
}

func (rt *route) serve(w http.ResponseWriter, r *http.Request, requestID string, start time.Time) int {
	w.Header().Set("Apigw-Requestid", requestID)
	var claims map[string]string
	if !rt.public {
		c, challenge := rt.gw.authorize(r)
		if c == nil {
			w.Header().Set("Www-Authenticate", challenge)
			writeMessage(w, http.StatusUnauthorized, "Unauthorized")
			return http.StatusUnauthorized
		}
		claims = c
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		writeMessage(w, http.StatusBadRequest, "Bad Request")
		return http.StatusBadRequest
	}
	if len(body) > MaxBodyBytes {
		writeMessage(w, http.StatusRequestEntityTooLarge, "Request Entity Too Large")
		return http.StatusRequestEntityTooLarge
	}
	event := Event(r, rt.key, requestID, claims, body, start)

	resp, err := rt.call(r.Context(), event)
	if errors.Is(err, errTimeout) {
		rt.gw.log.Error("integration timed out", slog.String("route", rt.key), slog.String("requestId", requestID), slog.Duration("timeout", rt.gw.Timeout))
		writeMessage(w, http.StatusServiceUnavailable, "Service Unavailable")
		return http.StatusServiceUnavailable
	}
	if err == nil && len(resp.Body) > MaxResponseBytes {
		err = fmt.Errorf("response payload of %d bytes exceeds Lambda's %d-byte limit", len(resp.Body), MaxResponseBytes)
	}
	if err != nil || resp.StatusCode == 0 {
		rt.gw.log.Error("integration failed", slog.String("route", rt.key), slog.String("requestId", requestID), slog.Any("error", err))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError
	}
	if err := WriteResponse(w, resp); err != nil {
		rt.gw.log.Error("integration response", slog.String("route", rt.key), slog.String("requestId", requestID), slog.Any("error", err))
		writeMessage(w, http.StatusInternalServerError, "Internal Server Error")
		return http.StatusInternalServerError
	}
	return resp.StatusCode
}

var errTimeout = errors.New("integration timed out")

// call invokes the integration with a Lambda context; it returns errTimeout
// when the integration did not answer within the gateway's timeout.
func (rt *route) call(parent context.Context, event events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	// The invocation lives by its own deadline, as a Lambda does: neither the
	// caller hanging up nor the gateway giving up stops it.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(parent), rt.gw.FunctionTimeout)
	ctx = lambdacontext.NewContext(ctx, &lambdacontext.LambdaContext{AwsRequestID: uuid.NewString()})
	type result struct {
		resp events.APIGatewayV2HTTPResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		defer cancel()
		resp, err := rt.invoke(ctx, event)
		done <- result{resp, err}
	}()
	timer := time.NewTimer(rt.gw.Timeout)
	defer timer.Stop()
	select {
	case res := <-done:
		return res.resp, res.err
	case <-timer.C:
		return events.APIGatewayV2HTTPResponse{}, errTimeout
	}
}

// authorize runs the JWT authorizer on the Authorization header (the
// identity source $request.header.Authorization, with or without "Bearer ").
// On refusal it returns nil and the WWW-Authenticate challenge.
func (g *Gateway) authorize(r *http.Request) (map[string]string, string) {
	header := strings.TrimSpace(r.Header.Get("Authorization"))
	if header == "" {
		return nil, "Bearer"
	}
	token := header
	if scheme, rest, ok := strings.Cut(header, " "); ok && strings.EqualFold(scheme, "Bearer") {
		token = strings.TrimSpace(rest)
	}
	claims, err := localauth.Verify(g.key, token)
	if err != nil {
		return nil, `Bearer error="invalid_token" error_description="the token is invalid or has expired"`
	}
	return claims, ""
}

func (g *Gateway) access(r *http.Request, routeKey, requestID string, status int, start time.Time) {
	g.log.LogAttrs(r.Context(), slog.LevelInfo, "api request",
		slog.String("requestId", requestID), slog.String("routeKey", routeKey),
		slog.String("method", r.Method), slog.String("path", r.URL.Path),
		slog.Int("status", status), slog.Int64("durationMs", time.Since(start).Milliseconds()))
}

// Event builds the payload v2 event API Gateway sends for r matched on
// routeKey. claims is nil for a route without authorizer.
func Event(r *http.Request, routeKey, requestID string, claims map[string]string, body []byte, at time.Time) events.APIGatewayV2HTTPRequest {
	headers := map[string]string{}
	var cookies []string
	for name, values := range r.Header {
		lower := strings.ToLower(name)
		if lower == "cookie" {
			for _, v := range values {
				for _, c := range strings.Split(v, ";") {
					if c = strings.TrimSpace(c); c != "" {
						cookies = append(cookies, c)
					}
				}
			}
			continue
		}
		headers[lower] = strings.Join(values, ",")
	}
	if r.Host != "" {
		headers["host"] = r.Host
	}
	if r.ContentLength > 0 {
		headers["content-length"] = fmt.Sprint(r.ContentLength)
	}
	sourceIP := remoteIP(r)
	headers["x-forwarded-for"] = sourceIP
	headers["x-forwarded-proto"] = "http"
	if _, port, err := net.SplitHostPort(r.Host); err == nil {
		headers["x-forwarded-port"] = port
	}

	var query map[string]string
	if r.URL.RawQuery != "" {
		query = map[string]string{}
		if values, err := url.ParseQuery(r.URL.RawQuery); err == nil {
			for k, v := range values {
				query[k] = strings.Join(v, ",")
			}
		}
	}

	event := events.APIGatewayV2HTTPRequest{
		Version:               "2.0",
		RouteKey:              routeKey,
		RawPath:               r.URL.EscapedPath(),
		RawQueryString:        r.URL.RawQuery,
		Cookies:               cookies,
		Headers:               headers,
		QueryStringParameters: query,
		PathParameters:        pathParameters(r, routeKey),
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey:     routeKey,
			AccountID:    AccountID,
			Stage:        Stage,
			RequestID:    requestID,
			APIID:        APIID,
			DomainName:   r.Host,
			DomainPrefix: domainPrefix(r.Host),
			Time:         at.UTC().Format("02/Jan/2006:15:04:05 -0700"),
			TimeEpoch:    at.UnixMilli(),
			HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
				Method:    r.Method,
				Path:      r.URL.Path,
				Protocol:  r.Proto,
				SourceIP:  sourceIP,
				UserAgent: r.UserAgent(),
			},
		},
	}
	if claims != nil {
		event.RequestContext.Authorizer = &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{
			JWT: &events.APIGatewayV2HTTPRequestContextAuthorizerJWTDescription{Claims: claims, Scopes: scopes(claims)},
		}
	}
	if len(body) > 0 {
		if isText(r.Header.Get("Content-Type"), body) {
			event.Body = string(body)
		} else {
			event.Body = base64.StdEncoding.EncodeToString(body)
			event.IsBase64Encoded = true
		}
	}
	return event
}

// pathParameters fills {name} wildcards of routeKey from r, which the
// gateway's mux matched on the same pattern.
func pathParameters(r *http.Request, routeKey string) map[string]string {
	var params map[string]string
	for _, seg := range strings.Split(routeKey, "/") {
		if !strings.HasPrefix(seg, "{") || !strings.HasSuffix(seg, "}") {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(seg[1:len(seg)-1], "..."), "+")
		if params == nil {
			params = map[string]string{}
		}
		params[name] = r.PathValue(name)
	}
	return params
}

// scopes are the access token's space-separated scope claim, as the JWT
// authorizer reports them; ID tokens have none.
func scopes(claims map[string]string) []string {
	if s := claims["scope"]; s != "" {
		return strings.Fields(s)
	}
	return nil
}

// isText tells a body API Gateway passes as is from one it base64-encodes.
func isText(contentType string, body []byte) bool {
	if contentType == "" {
		return utf8.Valid(body)
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		strings.HasSuffix(mt, "json"), strings.HasSuffix(mt, "+json"),
		strings.HasSuffix(mt, "xml"), strings.HasSuffix(mt, "+xml"),
		mt == "application/javascript", mt == "application/x-www-form-urlencoded":
		return utf8.Valid(body)
	}
	return false
}

func remoteIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

func domainPrefix(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	prefix, _, _ := strings.Cut(host, ".")
	return prefix
}

// WriteResponse writes a Lambda's payload v2 response: status, headers
// (multi-value ones repeated), cookies as Set-Cookie, the body decoded from
// base64 when flagged. A response without Content-Type gets
// application/json, as API Gateway assumes.
func WriteResponse(w http.ResponseWriter, resp events.APIGatewayV2HTTPResponse) error {
	body := []byte(resp.Body)
	if resp.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(resp.Body)
		if err != nil {
			return fmt.Errorf("response body is not valid base64: %w", err)
		}
		body = b
	}
	h := w.Header()
	for k, v := range resp.Headers {
		h.Set(k, v)
	}
	for k, vs := range resp.MultiValueHeaders {
		h.Del(k)
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	for _, c := range resp.Cookies {
		h.Add("Set-Cookie", c)
	}
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", "application/json")
	}
	h.Set("Content-Length", fmt.Sprint(len(body)))
	w.WriteHeader(resp.StatusCode)
	_, err := w.Write(body)
	return err
}

// writeMessage answers the gateway's own errors in its {"message": ...} shape.
func writeMessage(w http.ResponseWriter, status int, message string) {
	b, _ := json.Marshal(map[string]string{"message": message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// newRequestID mimics API Gateway's request ids ("Kx2JfhAbIAMEbxw=").
func newRequestID() string {
	u := uuid.New()
	return base64.StdEncoding.EncodeToString(u[:10])
}
