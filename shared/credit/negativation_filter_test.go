package credit_test

import (
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
)

// TestNegativationFilterOriginAndRun: origin is manual or automatic; a run
// is an identifier and lists its records whatever their status, so the two
// are not combined.
func TestNegativationFilterOriginAndRun(t *testing.T) {
	tests := []struct {
		name   string
		f      credit.NegativationFilter
		fields []string
	}{
		{"automatic", credit.NegativationFilter{Origin: credit.OriginAutomatic}, nil},
		{"manual and a status", credit.NegativationFilter{Origin: credit.OriginManual, Status: credit.NegativationPending}, nil},
		{"a run", credit.NegativationFilter{RunID: "0193a1b2-7c4d-7e5f-8a6b-9c0d1e2f3a4b", Origin: credit.OriginAutomatic}, nil},
		{"an unknown origin", credit.NegativationFilter{Origin: "robot"}, []string{"origin"}},
		{"a bad run id", credit.NegativationFilter{RunID: "run 1"}, []string{"runId"}},
		{"a run and a status", credit.NegativationFilter{RunID: "run-1", Status: credit.NegativationActive}, []string{"status"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.fields == nil {
				assert.NoError(t, err)
				return
			}
			assert.Equal(t, credit.CodeValidation, credit.ErrorCode(err))
			e, _ := credit.AsError(err)
			assert.ElementsMatch(t, tt.fields, e.Details["fields"])
		})
	}
}
