package emf_test

import (
	"bytes"
	"context"
	"log/slog"
	"testing"

	"creditanalysis/shared/emf"
	"creditanalysis/shared/emf/emftest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBlocksFollowTheSpecification(t *testing.T) {
	for _, tc := range []struct {
		name  string
		block emf.Block
	}{
		{"no dimensions", emf.Block{Namespace: "CreditAnalysis/test", Metrics: []emf.Metric{{"BillingRunsFinished", emf.Count, 1}}}},
		{"two sets", emf.Block{Namespace: "CreditAnalysis/test", Dimensions: [][]string{{"Operation", "Outcome"}, {}},
			Dims:    map[string]string{"Operation": "consult", "Outcome": "ok"},
			Metrics: []emf.Metric{{"BureauLatency", emf.Milliseconds, 812.5}, {"BureauCalls", emf.Count, 1}, {"BureauErrors", emf.Count, 0}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			emf.Write(context.Background(), slog.New(slog.NewJSONHandler(&buf, nil)), tc.block)
			blocks, raws := emftest.Blocks(&buf)
			require.Len(t, blocks, 1)
			assert.Empty(t, emftest.Validate(raws[0]), "%s", raws[0])
			for _, m := range tc.block.Metrics {
				assert.EqualValues(t, m.Value, blocks[0][m.Name])
			}
		})
	}
}

// TestValidatorRefusesWhatCloudWatchRefuses keeps the validator honest:
// each line breaks one rule of the specification.
func TestValidatorRefusesWhatCloudWatchRefuses(t *testing.T) {
	for name, line := range map[string]string{
		"no _aws":                 `{"X":1}`,
		"timestamp as string":     `{"_aws":{"Timestamp":"1700000000000","CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"X"}]}]},"X":1}`,
		"fractional timestamp":    `{"_aws":{"Timestamp":1.5,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"X"}]}]},"X":1}`,
		"no namespace":            `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Dimensions":[[]],"Metrics":[{"Name":"X"}]}]},"X":1}`,
		"no dimensions member":    `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Metrics":[{"Name":"X"}]}]},"X":1}`,
		"dimension not at root":   `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Op"]],"Metrics":[{"Name":"X"}]}]},"X":1}`,
		"dimension not a string":  `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Op"]],"Metrics":[{"Name":"X"}]}]},"X":1,"Op":3}`,
		"metric value missing":    `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"X"}]}]}}`,
		"metric value not number": `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"X"}]}]},"X":"1"}`,
		"unknown unit":            `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[{"Name":"X","Unit":"Parsecs"}]}]},"X":1}`,
		"no metrics":              `{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[[]],"Metrics":[]}]}}`,
	} {
		assert.NotEmpty(t, emftest.Validate([]byte(line)), name)
	}
	assert.Empty(t, emftest.Validate([]byte(`{"_aws":{"Timestamp":1,"CloudWatchMetrics":[{"Namespace":"n","Dimensions":[["Op"]],"Metrics":[{"Name":"X","Unit":"Count"}]}]},"X":[1,2],"Op":"a"}`)))
}
