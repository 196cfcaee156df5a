package lambdalog_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"creditanalysis/shared/awslambda/lambdalog"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTraceID(t *testing.T) {
	for header, want := range map[string]string{
		"Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1": "1-5759e988-bd862e3fe1be46a994272793",
		"Parent=53995c3f42cd8ad8; Root=1-abc;Sampled=0":                              "1-abc",
		"Parent=53995c3f42cd8ad8":                                                    "",
		"":                                                                           "",
	} {
		assert.Equal(t, want, lambdalog.TraceID(header), header)
	}
}

// TestInvocationNamesEveryLine: a line written with the invocation's
// context carries its awsRequestId and trace id, from the context or, as
// the runtime also sets it, from _X_AMZN_TRACE_ID.
func TestInvocationNamesEveryLine(t *testing.T) {
	for name, tc := range map[string]struct {
		ctxHeader, envHeader string
	}{
		"from the context":     {ctxHeader: "Root=1-aaa;Sampled=0"},
		"from the environment": {envHeader: "Root=1-aaa;Sampled=0"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("_X_AMZN_TRACE_ID", tc.envHeader)
			ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "aws-1"})
			if tc.ctxHeader != "" {
				ctx = context.WithValue(ctx, "x-amzn-trace-id", tc.ctxHeader) //nolint:staticcheck // the runtime library's key
			}
			var buf bytes.Buffer
			log := slog.New(credit.NewLogHandler(slog.NewJSONHandler(&buf, nil)))
			log.InfoContext(lambdalog.WithInvocation(ctx), "hello")
			var line map[string]any
			require.NoError(t, json.Unmarshal(buf.Bytes(), &line))
			assert.Equal(t, "aws-1", line["awsRequestId"])
			assert.Equal(t, "1-aaa", line["traceId"])
		})
	}
}
