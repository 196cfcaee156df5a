package billingrule_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"creditanalysis/shared/app"
	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/app/bureau"
	"creditanalysis/shared/awslambda"
	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every variable out of range is a configuration error, whichever way the
// rule is wired (the function exits on it, the local runner stops).
func TestConfigFromEnv(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		want    billingrule.Config
		wantErr string
	}{
		{name: "unset: the defaults", env: map[string]string{}},
		{name: "all set", env: map[string]string{
			billingrule.EnvFunctionName: "creditanalysis-dev-billing-rule", billingrule.EnvConcurrency: "40",
			billingrule.EnvRate: "2.5", billingrule.EnvSafetyMargin: "90s",
		}, want: billingrule.Config{FunctionName: "creditanalysis-dev-billing-rule", Rule: credit.BillingRuleConfig{
			BureauConcurrency: 40, RatePerIntegration: 2.5, SafetyMargin: 90 * time.Second,
		}}},
		{name: "concurrency 0", env: map[string]string{billingrule.EnvConcurrency: "0"}, wantErr: billingrule.EnvConcurrency},
		{name: "concurrency over 200", env: map[string]string{billingrule.EnvConcurrency: "201"}, wantErr: billingrule.EnvConcurrency},
		{name: "rate not a number", env: map[string]string{billingrule.EnvRate: "fast"}, wantErr: billingrule.EnvRate},
		{name: "rate 0", env: map[string]string{billingrule.EnvRate: "0"}, wantErr: billingrule.EnvRate},
		{name: "margin without a unit", env: map[string]string{billingrule.EnvSafetyMargin: "60"}, wantErr: billingrule.EnvSafetyMargin},
		{name: "margin negative", env: map[string]string{billingrule.EnvSafetyMargin: "-1m"}, wantErr: billingrule.EnvSafetyMargin},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{billingrule.EnvFunctionName, billingrule.EnvConcurrency, billingrule.EnvRate, billingrule.EnvSafetyMargin} {
				t.Setenv(k, tt.env[k])
			}
			got, err := billingrule.ConfigFromEnv()
			if tt.wantErr != "" {
				assert.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// fakeLambda records the function asked to run.
type fakeLambda struct{ function string }

func (f *fakeLambda) InvokeAsync(_ context.Context, function string, _ []byte) error {
	f.function = function
	return nil
}

// A manual run goes to the function when one is named, and stays in this
// process otherwise.
func TestRuleHandsRunsToTheNamedFunction(t *testing.T) {
	b := bureau.New(app.New(app.Config{Table: "t"}, nil, slog.New(slog.DiscardHandler)), bureau.Config{}, nil, nil)

	invoker := &fakeLambda{}
	rule := billingrule.Rule(b, billingrule.Config{FunctionName: "creditanalysis-dev-billing-rule"}, invoker, b.Log)
	require.IsType(t, &awslambda.RunStarter{}, rule.Starter)
	require.NoError(t, rule.Starter.StartBillingRun(context.Background(), "run-1"))
	assert.Equal(t, "creditanalysis-dev-billing-rule", invoker.function)

	local := billingrule.Rule(b, billingrule.Config{}, invoker, b.Log)
	require.NotNil(t, local.Starter)
	_, toLambda := local.Starter.(*awslambda.RunStarter)
	assert.False(t, toLambda, "no function name: the run stays in this process")
}
