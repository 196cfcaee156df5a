package e2e_test

import (
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"creditanalysis/infra/apigateway"
	"creditanalysis/infra/localauth"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app/allareas"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/httpapi"

	"github.com/stretchr/testify/require"
)

// gatewayKey signs the tokens every in-process gateway of these tests
// accepts.
var gatewayKey = []byte("e2e-local-gateway-signing-key-0123")

// stackConfig is the configuration a function reads from st's environment,
// as the functions read it in Lambda; a non-empty bureauURL replaces both
// bureau environments (a counting proxy, another sandbox).
func stackConfig(t *testing.T, st *stack.Stack, bureauURL string) allareas.Config {
	t.Helper()
	for k, v := range st.Env() {
		t.Setenv(k, v)
	}
	if bureauURL != "" {
		t.Setenv("CONNECTSA_HOMOLOGATION_URL", bureauURL)
		t.Setenv("CONNECTSA_PRODUCTION_URL", bureauURL)
	}
	cfg, err := allareas.ConfigFromEnv()
	require.NoError(t, err)
	return cfg
}

// stackApp is the product in this process on st's clients.
func stackApp(t *testing.T, st *stack.Stack, cfg allareas.Config, log *slog.Logger) *allareas.Product {
	t.Helper()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return allareas.New(cfg, st.Clients(), log)
}

// serveAreas serves the given areas of p, each on its own server as each
// is its own function, behind the local API Gateway and returns its URL and
// an admin token.
func serveAreas(t *testing.T, p *allareas.Product, log *slog.Logger, areas ...httpapi.Area) (url, admin string) {
	t.Helper()
	require.NotEmpty(t, areas)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	gw := apigateway.New(gatewayKey, log)
	for _, area := range areas {
		gw.Area(area, p.Server(area))
	}
	srv := httptest.NewServer(gw)
	t.Cleanup(srv.Close)
	return srv.URL, token(t, credit.RoleAdmin)
}

// token is a token for role that every in-process gateway accepts.
func token(t *testing.T, role credit.Role) string {
	t.Helper()
	tok, err := localauth.DevToken(gatewayKey, role, time.Hour)
	require.NoError(t, err)
	return tok
}

// lambdaBuildEnv and lambdaBuildFlags build a bootstrap as `make build`
// does for Lambda, for this machine's architecture.
var (
	lambdaBuildEnv   = []string{"CGO_ENABLED=0"}
	lambdaBuildFlags = []string{"-tags", "lambda.norpc", "-trimpath", "-ldflags", "-s -w"}
)

// buildFunction builds a function's bootstrap for this machine, as `make
// build` does for Lambda (once per test binary), and returns its path.
func buildFunction(t testing.TB, root, name string) string {
	t.Helper()
	return buildShared(t, root, filepath.Join(name, "bootstrap"), lambdaBuildEnv, slices.Concat(lambdaBuildFlags, []string{"./functions/" + name})...)
}
