package e2e_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"creditanalysis/infra/connectsa-sandbox/sandboxtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestAnotherFunctionsCachedPasswordHeals runs two Apps on one stack, as two
// warm Lambda functions with their own secret caches. When one changes the
// consultation password, the other still holds the old one in its cache; its
// next bureau call is refused, re-reads the secret past the cache and
// succeeds, instead of failing until the cache expires.
func TestAnotherFunctionsCachedPasswordHeals(t *testing.T) {
	st := startStack(t)
	cfg := stackConfig(t, st, "")
	cfg.Bureau.Secrets.CacheTTL = time.Hour // a cache that would outlive the test
	changing := stackApp(t, st, cfg, nil)
	changer, admin := serveAreas(t, changing, nil, changing.IntegrationsHandler(), changing.PasswordsHandler())
	reading := stackApp(t, st, cfg, nil)
	reader, _ := serveAreas(t, reading, nil, reading.IntegrationsHandler(), reading.PasswordsHandler())

	resp, raw := httpDo(t, "POST", changer+"/integrations", admin, `{"intermediary":"connect","branchId":"stale-1",
		"environment":"homologation","login":"`+sandboxtest.Account().Credentials.Login+`","consultationPassword":"Old@1234",
		"pefinPassword":"135790","defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725"}`)
	require.Equal(t, http.StatusCreated, resp.StatusCode, string(raw))
	var created struct{ ID string }
	require.NoError(t, json.Unmarshal(raw, &created))

	resp, raw = httpDo(t, "GET", reader+"/integrations/"+created.ID+"/plans", admin, "")
	require.Equal(t, http.StatusOK, resp.StatusCode, "the reader caches the old password: %s", raw)

	resp, raw = httpDo(t, "POST", changer+"/integrations/"+created.ID+"/consultation-password", admin,
		`{"newPassword":"New#5678","confirmation":"New#5678"}`)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, string(raw))

	resp, raw = httpDo(t, "GET", reader+"/integrations/"+created.ID+"/plans", admin, "")
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the reader heals instead of answering with a stale password: %s", raw)
	resp, raw = httpDo(t, "POST", reader+"/integrations/"+created.ID+"/connection-test", admin, "")
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Contains(t, string(raw), `"ok":true`)
}
