package creditanalysis_test

import (
	"testing"

	"creditanalysis/infra/samtemplate"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// configured is a deploy's parameters with every placeholder replaced.
var configured = map[string]string{
	"Stage":                    "prod",
	"JwtIssuer":                "https://cognito-idp.sa-east-1.amazonaws.com/sa-east-1_AbC123xYz",
	"JwtAudience":              "4k2v0example7client",
	"ConnectSAHomologationURL": "https://homolog.bureau.example.com.br",
	"ConnectSAProductionURL":   "https://api.bureau.example.com.br",
	"AllowedOrigins":           "https://erp.provedor.example.com.br",
}

// TestTemplateRulesRefusePlaceholders evaluates the template's Rules the way
// CloudFormation does before a change set: samconfig.toml as shipped must
// fail them, a configured deploy must pass.
func TestTemplateRulesRefusePlaceholders(t *testing.T) {
	tmpl := loadTemplate(t)
	var doc map[string]any
	_, err := toml.DecodeFile("samconfig.toml", &doc)
	require.NoError(t, err)

	for _, env := range []string{"default", "dev", "prod"} {
		overrides, err := parseOverrides(str(get(doc, env, "deploy", "parameters", "parameter_overrides")))
		require.NoError(t, err)
		failed := failingRules(t, tmpl.raw, overrides)
		want := []string{"TokenIssuerIsConfigured", "TokenAudienceIsConfigured", "BureauURLsAreConfigured"}
		if env == "prod" {
			// dev allows the local frontend dev servers; prod's origin is
			// the operator's to give.
			want = append(want, "BrowserOriginsAreConfigured")
		}
		assert.ElementsMatch(t, want, failed,
			"%s: a deploy with samconfig.toml's placeholders is refused by every rule that guards one", env)
	}

	assert.Empty(t, failingRules(t, tmpl.raw, configured), "a configured deploy passes")

	tests := []struct {
		param, value, rule string
	}{
		{"JwtIssuer", "https://cognito-idp.sa-east-1.amazonaws.com/sa-east-1_CHANGEME", "TokenIssuerIsConfigured"},
		{"JwtAudience", "CHANGEME", "TokenAudienceIsConfigured"},
		{"JwtAudience", "real-client,CHANGEME", "TokenAudienceIsConfigured"},
		{"ConnectSAHomologationURL", "https://homologation.connectsa.invalid", "BureauURLsAreConfigured"},
		{"ConnectSAProductionURL", "https://production.connectsa.invalid", "BureauURLsAreConfigured"},
		{"ConnectSAProductionURL", "https://homologation.connectsa.invalid", "BureauURLsAreConfigured"},
		{"AllowedOrigins", "https://erp.CHANGEME.invalid", "BrowserOriginsAreConfigured"},
	}
	for _, tt := range tests {
		t.Run(tt.param+"="+tt.value, func(t *testing.T) {
			params := clone(configured)
			params[tt.param] = tt.value
			assert.Equal(t, []string{tt.rule}, failingRules(t, tmpl.raw, params))
		})
	}
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func failingRules(t *testing.T, raw map[string]any, params map[string]string) []string {
	t.Helper()
	failed, err := samtemplate.FailingRules(raw, params)
	require.NoError(t, err)
	return failed
}
