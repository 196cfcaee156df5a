package httpapi

import (
	"net/http"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// LambdaHandler adapts h to API Gateway HTTP API (payload v2) events.
func LambdaHandler(h http.Handler) *httpadapter.HandlerAdapterV2 {
	return httpadapter.NewV2(h)
}

// StartLambda serves h from Lambda; it does not return.
func StartLambda(h http.Handler) {
	lambda.Start(LambdaHandler(h).ProxyWithContext)
}
