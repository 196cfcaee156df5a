package e2e_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// consultationProxy forwards to the sandbox and counts the consultations
// that reach it: each one is a charge.
func consultationProxy(t *testing.T, target string) (string, *atomic.Int64) {
	t.Helper()
	u, err := url.Parse(target)
	require.NoError(t, err)
	proxy := httputil.NewSingleHostReverseProxy(u)
	var charged atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == sandbox.PathConsult {
			charged.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL, &charged
}

// TestIdempotencyKeyEndToEnd: through the local gateway, on DynamoDB Local
// and the sandbox, a consultation sent again with its Idempotency-Key is
// charged once and answers the same body; without a key it is charged
// again; the same key with another body is refused; of concurrent repeats
// one is charged.
func TestIdempotencyKeyEndToEnd(t *testing.T) {
	st := startStack(t)
	bureauURL, charged := consultationProxy(t, st.ConnectSAEndpoint)
	p := stackApp(t, st, stackConfig(t, st, bureauURL), nil)
	api, admin := serveAreas(t, p, nil, p.ParametersHandler(), p.IntegrationsHandler(), p.PartiesHandler(), p.ConsultationsHandler())
	errorCode := func(raw []byte) string {
		var e struct{ Error struct{ Code string } }
		require.NoError(t, json.Unmarshal(raw, &e), string(raw))
		return e.Error.Code
	}

	// No repeat interval: without a key, every consultation is charged.
	resp, raw := keyedDo(t, "PUT", api+"/parameters", admin, "", `{"creditAnalysisEnabled":true,"repeatConsultationIntervalDays":0}`)
	require.Equal(t, 200, resp.StatusCode, string(raw))

	// The integration's creation, sent twice under one key: one integration.
	integration := `{"intermediary":"connect","branchId":"filial-7","environment":"homologation",
		"login":"` + sandboxtest.Account().Credentials.Login + `","consultationPassword":"Sand@123","pefinPassword":"246802",
		"defaultPlan":"report_score","sendSmsOnInclusion":false,"responsibleCpf":"52998224725","automation":{"enabled":false}}`
	created, createdBody := keyedDo(t, "POST", api+"/integrations", admin, "integration-filial-7", integration)
	require.Equal(t, 201, created.StatusCode, string(createdBody))
	again, againBody := keyedDo(t, "POST", api+"/integrations", admin, "integration-filial-7", integration)
	require.Equal(t, 201, again.StatusCode, "replayed, not 409 branch_already_integrated: %s", againBody)
	assert.Equal(t, string(createdBody), string(againBody))
	assert.Equal(t, created.Header.Get("Location"), again.Header.Get("Location"))
	assert.Equal(t, "true", again.Header.Get("Idempotent-Replayed"))

	const consult = `{"document":"529.982.247-25","branchId":"filial-7","uf":"SP"}`
	first, firstBody := keyedDo(t, "POST", api+"/consultations", admin, "consult-1", consult)
	require.Equal(t, 201, first.StatusCode, string(firstBody))
	require.EqualValues(t, 1, charged.Load())
	assert.Empty(t, first.Header.Get("Idempotent-Replayed"))

	repeat, repeatBody := keyedDo(t, "POST", api+"/consultations", admin, "consult-1", consult)
	require.Equal(t, 201, repeat.StatusCode, string(repeatBody))
	assert.Equal(t, string(firstBody), string(repeatBody), "the first answer, byte for byte")
	assert.Equal(t, first.Header.Get("Location"), repeat.Header.Get("Location"))
	assert.Equal(t, first.Header.Get("Content-Type"), repeat.Header.Get("Content-Type"))
	assert.Equal(t, "true", repeat.Header.Get("Idempotent-Replayed"))
	assert.EqualValues(t, 1, charged.Load(), "the bureau is charged once")

	other, otherBody := keyedDo(t, "POST", api+"/consultations", admin, "consult-1", `{"document":"111.444.777-35","branchId":"filial-7","uf":"MG"}`)
	require.Equal(t, 422, other.StatusCode, string(otherBody))
	assert.Equal(t, "idempotency_key_reused", errorCode(otherBody))

	bad, badBody := keyedDo(t, "POST", api+"/consultations", admin, strings.Repeat("k", 256), consult)
	require.Equal(t, 400, bad.StatusCode, string(badBody))
	assert.Equal(t, "invalid_idempotency_key", errorCode(badBody))
	assert.EqualValues(t, 1, charged.Load(), "refusals reach no bureau")

	unkeyed, unkeyedBody := keyedDo(t, "POST", api+"/consultations", admin, "", consult)
	require.Equal(t, 201, unkeyed.StatusCode, string(unkeyedBody))
	assert.EqualValues(t, 2, charged.Load(), "without a key, a repeat is charged again")

	// Concurrent repeats of one key: one runs and is charged; each other one
	// is told it is in progress or gets the first answer again.
	const n = 6
	statuses := make([]int, n)
	bodies := make([]string, n)
	var wg sync.WaitGroup
	for k := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, raw := keyedDo(t, "POST", api+"/consultations", admin, "consult-2", consult)
			statuses[k], bodies[k] = resp.StatusCode, string(raw)
		}()
	}
	wg.Wait()
	assert.EqualValues(t, 3, charged.Load(), "of concurrent repeats one is charged")
	winner := ""
	for k, s := range statuses {
		switch s {
		case 201:
			if winner == "" {
				winner = bodies[k]
			}
			assert.Equal(t, winner, bodies[k], "every 201 is the one answer")
		case 409:
			assert.Equal(t, "request_in_progress", errorCode([]byte(bodies[k])))
		default:
			t.Errorf("answer %d: %d %s", k, s, bodies[k])
		}
	}
	require.NotEmpty(t, winner, "%v", statuses)
	after, afterBody := keyedDo(t, "POST", api+"/consultations", admin, "consult-2", consult)
	require.Equal(t, 201, after.StatusCode, string(afterBody))
	assert.Equal(t, winner, string(afterBody))
	assert.EqualValues(t, 3, charged.Load())
}
