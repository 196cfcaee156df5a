package credit_test

import (
	"strings"
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
)

func TestPlans(t *testing.T) {
	tests := []struct {
		plan        credit.Plan
		name        string
		valid       bool
		consultable bool
		deprecated  bool
	}{
		{credit.PlanNegativeIndicator, "Indicador de negativos", true, true, true},
		{credit.PlanCrednetTop, "Crednet Top", true, true, true},
		{credit.PlanReportScore, "Relatório + Score", true, true, false},
		{credit.PlanAll, "Todos", true, false, false},
		{credit.Plan("CREDNET_LIGHT"), "CREDNET_LIGHT", false, false, false},
		{credit.Plan(""), "", false, false, false},
	}
	for _, tt := range tests {
		t.Run(string(tt.plan), func(t *testing.T) {
			assert.Equal(t, tt.name, tt.plan.Name())
			assert.Equal(t, tt.valid, tt.plan.Valid())
			assert.Equal(t, tt.consultable, tt.plan.Consultable())
			assert.Equal(t, tt.deprecated, tt.plan.Deprecated())
			if tt.deprecated {
				assert.Contains(t, tt.plan.Recommendation(), credit.PlanReportScore.Name())
			} else {
				assert.Empty(t, tt.plan.Recommendation())
			}
		})
	}
	assert.Len(t, credit.Plans, 4)
	for _, p := range credit.ConsultablePlans {
		assert.True(t, p.Consultable(), p)
	}
}

func TestDeprecatedPlanWarningIsOneSentence(t *testing.T) {
	for _, p := range []credit.Plan{credit.PlanNegativeIndicator, credit.PlanCrednetTop} {
		w := credit.DeprecatedPlanWarning(p)
		assert.Equal(t, "O plano "+p.Name()+" será descontinuado em breve: é recomendado que utilize a nova consulta através do Relatório + Score.", w)
		assert.Equal(t, 1, strings.Count(w, "."), "one sentence: %s", w)
		assert.Equal(t, 1, strings.Count(w, "descontinuado"), "said once: %s", w)
	}
}
