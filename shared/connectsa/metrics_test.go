package connectsa_test

import (
	"bytes"
	"log/slog"
	"testing"

	"creditanalysis/infra/connectsa-sandbox/sandbox"
	"creditanalysis/infra/connectsa-sandbox/sandboxtest"
	"creditanalysis/shared/connectsa"
	"creditanalysis/shared/credit"
	"creditanalysis/shared/credit/credittest"
	"creditanalysis/shared/emf/emftest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEveryCallWritesItsLatency: each call, answered or failed, writes one
// EMF block with its latency by operation and outcome, and the calls and
// errors the error-rate alarm divides.
func TestEveryCallWritesItsLatency(t *testing.T) {
	for _, tc := range []struct {
		name    string
		sandbox sandbox.Config
		outcome string
		errors  float64
	}{
		{"answered", sandbox.Config{}, connectsa.OutcomeOK, 0},
		{"unavailable", sandbox.Config{ErrorRate: 1}, connectsa.OutcomeFailed, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			cfg := testConfig()
			cfg.MetricsNamespace = "CreditAnalysis/test"
			cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil)) // info: metrics are not debug lines
			client, _, _ := newRecorded(t, tc.sandbox, cfg)
			_, _ = client.Consult(ctx, sandboxtest.Account(), cpfQuery(credittest.BureauNothingRecorded))

			blocks, raws := emftest.Blocks(&logs)
			require.Len(t, blocks, 1, logs.String())
			assert.Empty(t, emftest.Validate(raws[0]), "%s", raws[0])
			b := blocks[0]
			assert.Equal(t, "consult", b["Operation"])
			assert.Equal(t, tc.outcome, b["Outcome"])
			assert.EqualValues(t, 1, b["BureauCalls"])
			assert.EqualValues(t, tc.errors, b["BureauErrors"])
			assert.Greater(t, b["BureauLatency"], 0.0)
			assert.Contains(t, string(raws[0]), `"Namespace":"CreditAnalysis/test"`)
		})
	}
}

func TestOutcomeTellsRefusalsFromFailures(t *testing.T) {
	assert.Equal(t, connectsa.OutcomeOK, connectsa.Outcome(nil))
	assert.Equal(t, connectsa.OutcomeFailed, connectsa.Outcome(credit.BureauUnavailable(nil)))
	assert.Equal(t, connectsa.OutcomeRefused, connectsa.Outcome(credit.NotFound("Documento")))
}
