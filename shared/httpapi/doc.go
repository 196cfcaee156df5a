// Package httpapi is the HTTP layer shared by every function: routing with
// Go's ServeMux patterns, the route-to-role matrix, strict JSON decoding, the
// one error shape and its status map (with the error kinds and codes only
// HTTP raises), each answer's and request body's own JSON type (the domain's
// types have no JSON tags), caller identity from the API Gateway
// JWT authorizer's claims, request-scoped JSON logs, and the adapter that
// serves a handler from Lambda.
//
// Each area's handler is a plain http.Handler built from its Routes, so the
// same code serves Lambda (through aws-lambda-go-api-proxy), the local runner
// and the tests.
package httpapi
