// Package lambdalog names an invocation in its log lines: Lambda's
// awsRequestId and the X-Ray trace id. It links nothing but the runtime
// library, so that every function may use it.
package lambdalog

import (
	"context"
	"log/slog"
	"os"
	"strings"

	"creditanalysis/shared/credit"

	"github.com/aws/aws-lambda-go/lambdacontext"
)

// Log attributes of every line written for an invocation.
const (
	LogAWSRequestID = "awsRequestId"
	LogTraceID      = "traceId"
)

// traceHeaderKey is where the runtime library puts the invocation's
// X-Ray trace header in the context (it also sets _X_AMZN_TRACE_ID).
const traceHeaderKey = "x-amzn-trace-id"

// WithInvocation returns ctx whose log lines carry the invocation's
// awsRequestId and its X-Ray trace id (the Root of the trace header), so
// that a line is found from the platform's REPORT line, from a trace, or
// from the API request id the HTTP layer adds beside them.
func WithInvocation(ctx context.Context) context.Context {
	attrs := Attrs(ctx)
	if len(attrs) == 0 {
		return ctx
	}
	return credit.WithLogAttrs(ctx, attrs...)
}

// Attrs are the invocation's awsRequestId and trace id, those ctx knows.
func Attrs(ctx context.Context) []slog.Attr {
	var attrs []slog.Attr
	if lc, ok := lambdacontext.FromContext(ctx); ok && lc.AwsRequestID != "" {
		attrs = append(attrs, slog.String(LogAWSRequestID, lc.AwsRequestID))
	}
	header, _ := ctx.Value(traceHeaderKey).(string)
	if header == "" {
		header = os.Getenv("_X_AMZN_TRACE_ID")
	}
	if id := TraceID(header); id != "" {
		attrs = append(attrs, slog.String(LogTraceID, id))
	}
	return attrs
}

// TraceID is the Root of an X-Ray trace header
// (Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1).
func TraceID(header string) string {
	for _, part := range strings.Split(header, ";") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(part), "Root="); ok {
			return v
		}
	}
	return ""
}
