package secretsmanagerlocal

import (
	"net/http/httptest"
	"testing"

	"creditanalysis/infra/localaws"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Client returns a Secrets Manager client of the real SDK pointed at the
// stand-in at endpoint.
func Client(endpoint string) *sm.Client {
	return sm.NewFromConfig(localaws.Config(), func(o *sm.Options) { o.BaseEndpoint = aws.String(endpoint) })
}

// StartForTest serves a stand-in on the test's temporary directory and
// returns it with its endpoint; it stops when the test ends.
func StartForTest(t testing.TB) (*Server, string) {
	t.Helper()
	srv, err := New(t.TempDir())
	if err != nil {
		t.Fatalf("secrets manager stand-in: %v", err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return srv, hs.URL
}
