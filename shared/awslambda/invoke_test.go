package awslambda_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/awslambda"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lambdaAPI stands in for Lambda's Invoke endpoint: it checks each request's
// Signature Version 4 signature by signing the same request again with the
// credentials it knows, and answers the statuses given in turn.
type lambdaAPI struct {
	t        *testing.T
	mu       sync.Mutex
	statuses []int
	requests []*http.Request
	bodies   []string
}

var testCreds = aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", SessionToken: "session-token"}

func (l *lambdaAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	l.mu.Lock()
	l.requests, l.bodies = append(l.requests, r.Clone(context.Background())), append(l.bodies, string(body))
	status := http.StatusAccepted
	if len(l.statuses) > 0 {
		status, l.statuses = l.statuses[0], l.statuses[1:]
	}
	l.mu.Unlock()

	at, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if !assert.NoError(l.t, err) {
		return
	}
	again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
	for _, h := range []string{"Content-Type", "X-Amz-Invocation-Type"} {
		again.Header.Set(h, r.Header.Get(h))
	}
	sum := sha256.Sum256(body)
	require.NoError(l.t, v4.NewSigner().SignHTTP(context.Background(), testCreds, again, hex.EncodeToString(sum[:]), "lambda", "sa-east-1", at))
	assert.Equal(l.t, again.Header.Get("Authorization"), r.Header.Get("Authorization"), "signed for lambda in sa-east-1 with these credentials")

	switch status {
	case http.StatusAccepted:
		w.WriteHeader(status)
	case http.StatusNotFound:
		w.Header().Set("X-Amzn-ErrorType", "ResourceNotFoundException")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"Type":"User","message":"Function not found: arn:aws:lambda:sa-east-1:123456789012:function:nope"}`)
	default:
		w.Header().Set("X-Amzn-ErrorType", "ServiceException")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, `{"Type":"Service","message":"try again"}`)
	}
}

func TestInvokerQueuesASignedAsynchronousInvocation(t *testing.T) {
	tests := []struct {
		name     string
		statuses []int
		calls    int
		wantErr  string
	}{
		{"queued", nil, 1, ""},
		{"a throttle and a 5xx are retried", []int{429, 503}, 3, ""},
		{"the retries end", []int{500, 502, 503}, 3, "status 503 ServiceException: try again"},
		{"an unknown function is not retried", []int{404}, 1, "status 404 ResourceNotFoundException: Function not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &lambdaAPI{t: t, statuses: tt.statuses}
			srv := httptest.NewServer(api)
			defer srv.Close()
			inv := &awslambda.Invoker{
				Config:   aws.Config{Region: "sa-east-1", Credentials: credentials.StaticCredentialsProvider{Value: testCreds}, HTTPClient: srv.Client()},
				Endpoint: srv.URL,
			}
			err := inv.InvokeAsync(context.Background(), "creditanalysis-dev-billing-rule", []byte(`{"billingRuleRun":{"id":"run-1"}}`))
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Len(t, api.requests, tt.calls)
			for k, r := range api.requests {
				assert.Equal(t, http.MethodPost, r.Method)
				assert.Equal(t, "/2015-03-31/functions/creditanalysis-dev-billing-rule/invocations", r.URL.Path)
				assert.Equal(t, "Event", r.Header.Get("X-Amz-Invocation-Type"), "asynchronous: the caller does not wait for the run")
				assert.Equal(t, "session-token", r.Header.Get("X-Amz-Security-Token"))
				assert.True(t, strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), r.Header.Get("Authorization"))
				assert.JSONEq(t, `{"billingRuleRun":{"id":"run-1"}}`, api.bodies[k])
			}
		})
	}
}

func TestInvokerStopsWithTheContext(t *testing.T) {
	api := &lambdaAPI{t: t, statuses: []int{503, 503, 503}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	inv := &awslambda.Invoker{
		Config:   aws.Config{Region: "sa-east-1", Credentials: credentials.StaticCredentialsProvider{Value: testCreds}, HTTPClient: srv.Client()},
		Endpoint: srv.URL, Attempts: 10,
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	err := inv.InvokeAsync(ctx, "f", []byte(`{}`))
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, len(api.requests), 10, "no retry once the deadline passed")
}

func TestInvokerDefaultsToTheRegionsEndpoint(t *testing.T) {
	var seen string
	inv := &awslambda.Invoker{Config: aws.Config{Region: "sa-east-1", Credentials: credentials.StaticCredentialsProvider{Value: testCreds},
		HTTPClient: roundTripper(func(r *http.Request) (*http.Response, error) {
			seen = r.URL.String()
			return &http.Response{StatusCode: http.StatusAccepted, Body: io.NopCloser(strings.NewReader("")), Header: http.Header{}}, nil
		})}}
	require.NoError(t, inv.InvokeAsync(context.Background(), "f", []byte(`{}`)))
	assert.Equal(t, "https://lambda.sa-east-1.amazonaws.com/2015-03-31/functions/f/invocations", seen)
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) Do(r *http.Request) (*http.Response, error) { return f(r) }
