// Package awslambda is the AWS Lambda adapter of the billing-rule function:
// it hands a recorded run to an asynchronous invocation of the function
// itself (a function is frozen once it answers, so a run started by a
// request cannot go on in the same invocation), and it tells apart the three
// kinds of event the function receives: API Gateway HTTP API requests, the
// EventBridge Scheduler's daily event and that self-invocation.
package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"creditanalysis/shared/awslambda/lambdalog"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-lambda-go/events"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"
)

// RunRequest is the self-invocation's payload:
// {"billingRuleRun": {"id": "<run id>"}}.
type RunRequest struct {
	Run *RunRef `json:"billingRuleRun"`
}

// RunRef names a recorded run.
type RunRef struct {
	ID string `json:"id"`
}

// AsyncInvoker queues an asynchronous invocation of a function (Invoker).
type AsyncInvoker interface {
	InvokeAsync(ctx context.Context, function string, payload []byte) error
}

// RunStarter hands a run to an asynchronous invocation of FunctionName.
type RunStarter struct {
	Client       AsyncInvoker
	FunctionName string
}

var _ credit.BillingRunStarter = (*RunStarter)(nil)

// StartBillingRun invokes the function with InvocationType Event: Lambda
// queues the payload and answers 202 at once. Errors: internal.
func (s *RunStarter) StartBillingRun(ctx context.Context, runID string) error {
	payload, err := json.Marshal(RunRequest{Run: &RunRef{ID: runID}})
	if err != nil {
		return credit.Internal(err, "awslambda: encode run request")
	}
	if err := s.Client.InvokeAsync(ctx, s.FunctionName, payload); err != nil {
		return credit.Internal(err, "awslambda: invoke %s", s.FunctionName)
	}
	return nil
}

// Handler is the billing-rule function's entry point. Scheduled and
// RunRequested return an error only for what a retry of the invocation may
// fix; Lambda retries an asynchronous event that fails.
type Handler struct {
	// HTTP serves the API Gateway requests (payload v2).
	HTTP http.Handler
	// Scheduled runs the schedule's event.
	Scheduled func(ctx context.Context, e events.EventBridgeEvent) error
	// RunRequested executes a recorded run (the self-invocation).
	RunRequested func(ctx context.Context, runID string) error
	Log          *slog.Logger
}

// eventShape holds just enough of any event to tell its kind.
type eventShape struct {
	Version        string  `json:"version"`
	RouteKey       string  `json:"routeKey"`
	DetailType     string  `json:"detail-type"`
	Source         string  `json:"source"`
	Run            *RunRef `json:"billingRuleRun"`
	RequestContext struct {
		HTTP *struct {
			Method string `json:"method"`
		} `json:"http"`
	} `json:"requestContext"`
}

// ErrUnknownEvent is what an event of no known kind is logged with.
var ErrUnknownEvent = errors.New("awslambda: event of unknown kind")

// Invoke handles one event: an HTTP request answers its response, the
// others nothing. An event of unknown kind is logged and dropped, since no
// retry could make sense of it.
func (h *Handler) Invoke(ctx context.Context, raw json.RawMessage) (any, error) {
	// Every line written for the invocation carries its awsRequestId and
	// trace id; an HTTP request's lines carry its API request id too.
	ctx = lambdalog.WithInvocation(ctx)
	var shape eventShape
	if err := json.Unmarshal(raw, &shape); err != nil {
		h.log().ErrorContext(ctx, "event is not JSON", slog.String("error", err.Error()))
		return nil, nil
	}
	switch {
	case shape.Run != nil:
		if !credit.ValidID(shape.Run.ID) {
			h.log().ErrorContext(ctx, "run request without a valid run id")
			return nil, nil
		}
		return nil, h.RunRequested(ctx, shape.Run.ID)
	case shape.Version == "2.0" && shape.RequestContext.HTTP != nil:
		var req events.APIGatewayV2HTTPRequest
		if err := json.Unmarshal(raw, &req); err != nil {
			return nil, err
		}
		return httpadapter.NewV2(h.HTTP).ProxyWithContext(ctx, req)
	case shape.DetailType == "Scheduled Event":
		var e events.EventBridgeEvent
		if err := json.Unmarshal(raw, &e); err != nil {
			h.log().ErrorContext(ctx, "scheduled event unreadable", slog.String("error", err.Error()))
			return nil, nil
		}
		return nil, h.Scheduled(ctx, e)
	}
	h.log().ErrorContext(ctx, ErrUnknownEvent.Error(), slog.String("source", shape.Source), slog.String("detailType", shape.DetailType))
	return nil, nil
}

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.Default()
}
