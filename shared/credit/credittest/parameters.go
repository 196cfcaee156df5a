package credittest

import (
	"context"
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ParametersStore is the contract of credit.ParametersStore; newStore returns
// an empty store.
func ParametersStore(t *testing.T, newStore func(t *testing.T) credit.ParametersStore) {
	ctx := context.Background()
	t.Run("zero value until set", func(t *testing.T) {
		s := newStore(t)
		p, err := s.GetParameters(ctx)
		require.NoError(t, err)
		assert.Equal(t, credit.Parameters{}, p)
	})
	t.Run("put then get, last write wins", func(t *testing.T) {
		s := newStore(t)
		for _, want := range []credit.Parameters{
			{CreditAnalysisEnabled: true, RepeatConsultationIntervalDays: 30},
			{CreditAnalysisEnabled: false, RepeatConsultationIntervalDays: 0},
			{CreditAnalysisEnabled: true, RepeatConsultationIntervalDays: 365},
		} {
			require.NoError(t, s.PutParameters(ctx, want))
			got, err := s.GetParameters(ctx)
			require.NoError(t, err)
			assert.Equal(t, want, got)
		}
	})
}
