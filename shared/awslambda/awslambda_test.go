package awslambda_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"creditanalysis/shared/awslambda"
	"creditanalysis/shared/credit"

	"github.com/aws/aws-lambda-go/events"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeLambda records the invocation and answers err.
type fakeLambda struct {
	function string
	payload  []byte
	err      error
}

func (f *fakeLambda) InvokeAsync(_ context.Context, function string, payload []byte) error {
	f.function, f.payload = function, payload
	return f.err
}

func TestRunStarter(t *testing.T) {
	tests := []struct {
		name    string
		fake    fakeLambda
		wantErr bool
	}{
		{"queued", fakeLambda{}, false},
		{"refused", fakeLambda{err: errors.New("lambda invoke: status 429 TooManyRequestsException: Rate exceeded")}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &awslambda.RunStarter{Client: &tt.fake, FunctionName: "creditanalysis-dev-billing-rule"}
			err := s.StartBillingRun(context.Background(), "run-1")
			if tt.wantErr {
				assert.Equal(t, credit.KindInternal, credit.ErrorKind(err))
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, "creditanalysis-dev-billing-rule", tt.fake.function)
			assert.JSONEq(t, `{"billingRuleRun":{"id":"run-1"}}`, string(tt.fake.payload))
		})
	}
}

// calls records what the handler dispatched to.
type calls struct {
	http      []string
	scheduled []events.EventBridgeEvent
	runs      []string
}

func handler(c *calls, logs *bytes.Buffer, fail error) *awslambda.Handler {
	return &awslambda.Handler{
		HTTP: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.http = append(c.http, r.Method+" "+r.URL.Path)
			w.WriteHeader(http.StatusTeapot)
		}),
		Scheduled: func(_ context.Context, e events.EventBridgeEvent) error {
			c.scheduled = append(c.scheduled, e)
			return fail
		},
		RunRequested: func(_ context.Context, id string) error { c.runs = append(c.runs, id); return fail },
		Log:          slog.New(slog.NewJSONHandler(logs, nil)),
	}
}

func fixture(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", "billing-rule", name+".json"))
	require.NoError(t, err)
	return b
}

// TestHandlerTellsEventsApart feeds the function's own fixtures.
func TestHandlerTellsEventsApart(t *testing.T) {
	ctx := context.Background()

	t.Run("API Gateway request", func(t *testing.T) {
		var c calls
		out, err := handler(&c, &bytes.Buffer{}, nil).Invoke(ctx, fixture(t, "list-runs"))
		require.NoError(t, err)
		assert.Equal(t, []string{"GET /billing-rule/runs"}, c.http)
		resp, ok := out.(events.APIGatewayV2HTTPResponse)
		require.True(t, ok, "%T", out)
		assert.Equal(t, http.StatusTeapot, resp.StatusCode)
		assert.Empty(t, c.scheduled)
		assert.Empty(t, c.runs)
	})

	t.Run("the schedule", func(t *testing.T) {
		var c calls
		out, err := handler(&c, &bytes.Buffer{}, nil).Invoke(ctx, fixture(t, "scheduled"))
		require.NoError(t, err)
		assert.Nil(t, out)
		require.Len(t, c.scheduled, 1)
		assert.Equal(t, "aws.scheduler", c.scheduled[0].Source)
		assert.Empty(t, c.http)
	})

	t.Run("the self-invocation", func(t *testing.T) {
		var c calls
		_, err := handler(&c, &bytes.Buffer{}, nil).Invoke(ctx, fixture(t, "run-requested"))
		require.NoError(t, err)
		assert.Equal(t, []string{"0193a1b2-0000-7000-8000-000000000001"}, c.runs)
	})

	t.Run("a retryable failure is the invocation's error", func(t *testing.T) {
		boom := credit.Internal(errors.New("timeout"), "dynamo")
		for _, name := range []string{"scheduled", "run-requested"} {
			var c calls
			_, err := handler(&c, &bytes.Buffer{}, boom).Invoke(ctx, fixture(t, name))
			assert.ErrorIs(t, err, boom, name)
		}
	})

	t.Run("anything else is logged and dropped", func(t *testing.T) {
		for _, raw := range []string{`{"source":"aws.s3","detail-type":"Object Created"}`, `[1,2]`, `{"billingRuleRun":{"id":"../etc"}}`} {
			var c calls
			var logs bytes.Buffer
			out, err := handler(&c, &logs, nil).Invoke(ctx, json.RawMessage(raw))
			assert.NoError(t, err, raw)
			assert.Nil(t, out)
			assert.Empty(t, c.http)
			assert.Empty(t, c.scheduled)
			assert.Empty(t, c.runs)
			assert.Contains(t, logs.String(), `"level":"ERROR"`, raw)
		}
	})
}
