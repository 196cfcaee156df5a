package e2e_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"creditanalysis/infra/apigateway"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/infra/localauth"
	"creditanalysis/infra/stack"
	"creditanalysis/shared/app"
	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAnotherFunctionsCachedPasswordHeals runs two Apps on one stack, as two
// warm Lambda functions with their own secret caches. When one changes the
// consultation password, the other still holds the old one in its cache; its
// next bureau call is refused, re-reads the secret past the cache and
// succeeds, instead of failing until the cache expires.
func TestAnotherFunctionsCachedPasswordHeals(t *testing.T) {
	st, err := stack.Start(context.Background(), stack.Options{InMemory: true})
	require.NoError(t, err)
	t.Cleanup(st.Stop)
	for k, v := range st.Env() {
		t.Setenv(k, v)
	}
	cfg, err := app.ConfigFromEnv()
	require.NoError(t, err)
	cfg.Secrets.CacheTTL = time.Hour // a cache that would outlive the test
	key := []byte("stale-credentials-signing-key-0123")
	serve := func() string {
		a := app.New(cfg, st.Clients(), jsonLogger(&syncBuffer{}))
		gw := apigateway.New(key, jsonLogger(&syncBuffer{}))
		for _, name := range []string{"integrations", "passwords"} {
			area, _ := a.Area(name)
			gw.Area(area, a.Server(area))
		}
		srv := httptest.NewServer(gw)
		t.Cleanup(srv.Close)
		return srv.URL
	}
	changer, reader := serve(), serve()
	token, err := localauth.DevToken(key, credit.RoleAdmin, time.Hour)
	require.NoError(t, err)

	resp, raw := httpDo(t, "POST", changer+"/integrations", token, `{"intermediary":"connect","branchId":"stale-1",
		"environment":"homologation","login":"`+sandboxtest.Account().Credentials.Login+`","consultationPassword":"Old@1234",
		"pefinPassword":"135790","defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &created))

	resp, raw = httpDo(t, "GET", reader+"/integrations/"+created.ID+"/plans", token, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the reader caches the old password: %s", raw)

	resp, raw = httpDo(t, "POST", changer+"/integrations/"+created.ID+"/consultation-password", token,
		`{"newPassword":"New#5678","confirmation":"New#5678"}`)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, string(raw))

	resp, raw = httpDo(t, "GET", reader+"/integrations/"+created.ID+"/plans", token, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the reader heals instead of answering with a stale password: %s", raw)
	resp, raw = httpDo(t, "POST", reader+"/integrations/"+created.ID+"/connection-test", token, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(raw), `"ok":true`)
}
