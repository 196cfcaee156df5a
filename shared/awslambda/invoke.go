package awslambda

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Invoker makes Lambda's Invoke call asynchronously: POST
// /2015-03-31/functions/{name}/invocations with X-Amz-Invocation-Type
// Event, signed with Signature Version 4 by the SDK's signer, on the
// configuration's region, credentials and HTTP client.
//
// It is the one Lambda call the service makes. The SDK's Lambda client would
// send the same request, but linking it costs every cold start of the
// billing-rule function about 4 ms of package initialisers (the operation
// schemas of the whole Lambda API), a sixth of that function's start-up, for
// this single call.
type Invoker struct {
	Config aws.Config
	// Endpoint is the base URL of the Lambda API; empty is the region's
	// (https://lambda.<region>.amazonaws.com).
	Endpoint string
	// Attempts bounds the tries of a call that failed in a way a retry may
	// fix (the network, a throttle, a 5xx); 3 when zero, as the SDK's
	// standard retryer does.
	Attempts int
}

// InvokeAsync queues payload for function. Lambda answers 202 once the
// event is queued; any other answer is an error naming Lambda's error type.
func (i *Invoker) InvokeAsync(ctx context.Context, function string, payload []byte) error {
	endpoint := i.Endpoint
	if endpoint == "" {
		endpoint = "https://lambda." + i.Config.Region + ".amazonaws.com"
	}
	target := strings.TrimSuffix(endpoint, "/") + "/2015-03-31/functions/" + url.PathEscape(function) + "/invocations"
	sum := sha256.Sum256(payload)
	hash := hex.EncodeToString(sum[:])
	attempts := i.Attempts
	if attempts <= 0 {
		attempts = 3
	}
	var last error
	for attempt := range attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return errors.Join(last, ctx.Err())
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			}
		}
		retry, err := i.send(ctx, target, hash, payload)
		if err == nil {
			return nil
		}
		last = err
		if !retry {
			break
		}
	}
	return last
}

// send makes one attempt; retry says whether another may succeed.
func (i *Invoker) send(ctx context.Context, target, hash string, payload []byte) (retry bool, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(payload))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Amz-Invocation-Type", "Event")
	creds, err := i.Config.Credentials.Retrieve(ctx)
	if err != nil {
		return false, fmt.Errorf("lambda invoke: credentials: %w", err)
	}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hash, "lambda", i.Config.Region, time.Now().UTC()); err != nil {
		return false, fmt.Errorf("lambda invoke: sign: %w", err)
	}
	client := i.Config.HTTPClient
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return ctx.Err() == nil, fmt.Errorf("lambda invoke: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusAccepted {
		return false, nil
	}
	var e struct {
		Type    string `json:"Type"`
		Message string `json:"message"`
	}
	_ = json.Unmarshal(body, &e)
	kind := resp.Header.Get("X-Amzn-ErrorType")
	if kind == "" {
		kind = e.Type
	}
	retry = resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500
	return retry, fmt.Errorf("lambda invoke: status %d %s: %s", resp.StatusCode, kind, e.Message)
}
