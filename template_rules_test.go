package creditanalysis_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

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
		assert.ElementsMatch(t,
			[]string{"TokenIssuerIsConfigured", "TokenAudienceIsConfigured", "BureauURLsAreConfigured"}, failed,
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

// failingRules evaluates every rule of the template against the given
// parameter values (defaults fill the rest) and names those with a failing
// assertion, sorted.
func failingRules(t *testing.T, raw map[string]any, given map[string]string) []string {
	t.Helper()
	params := map[string]any{}
	for name, decl := range asMap(raw["Parameters"]) {
		value, ok := given[name]
		if !ok {
			if d := get(decl, "Default"); d != nil {
				value = fmt.Sprint(d)
			}
		}
		if strings.Contains(str(get(decl, "Type")), "List") {
			params[name] = strings.Split(value, ",")
		} else {
			params[name] = value
		}
	}
	var failed []string
	for name, rule := range asMap(raw["Rules"]) {
		if cond := get(rule, "RuleCondition"); cond != nil && !ruleValue(t, cond, params).(bool) {
			continue
		}
		for _, a := range list(get(rule, "Assertions")) {
			ok, isBool := ruleValue(t, get(a, "Assert"), params).(bool)
			require.True(t, isBool, "rule %s: an assertion is not a condition", name)
			assert.NotEmpty(t, get(a, "AssertDescription"), "rule %s: every assertion tells the operator what to fix", name)
			if !ok {
				failed = append(failed, name)
				break
			}
		}
	}
	sort.Strings(failed)
	return failed
}

// ruleValue evaluates the functions CloudFormation allows in rules.
func ruleValue(t *testing.T, v any, params map[string]any) any {
	t.Helper()
	switch v := v.(type) {
	case string, bool:
		return v
	case []any:
		out := make([]string, len(v))
		for i, e := range v {
			out[i] = fmt.Sprint(ruleValue(t, e, params))
		}
		return out
	case map[string]any:
		require.Len(t, v, 1, "a rule function is a one-key map: %v", v)
		for fn, arg := range v {
			args := list(arg)
			switch fn {
			case "Ref":
				p, ok := params[str(arg)]
				require.True(t, ok, "Ref to unknown parameter %v", arg)
				return p
			case "Fn::Not":
				return !ruleValue(t, args[0], params).(bool)
			case "Fn::And", "Fn::Or":
				and := fn == "Fn::And"
				for _, a := range args {
					if ruleValue(t, a, params).(bool) != and {
						return !and
					}
				}
				return and
			case "Fn::Equals":
				return fmt.Sprint(ruleValue(t, args[0], params)) == fmt.Sprint(ruleValue(t, args[1], params))
			case "Fn::Contains":
				return slices.Contains(ruleValue(t, args[0], params).([]string), ruleValue(t, args[1], params).(string))
			case "Fn::EachMemberEquals":
				for _, m := range ruleValue(t, args[0], params).([]string) {
					if m != ruleValue(t, args[1], params).(string) {
						return false
					}
				}
				return true
			case "Fn::EachMemberIn":
				allowed := ruleValue(t, args[1], params).([]string)
				for _, m := range ruleValue(t, args[0], params).([]string) {
					if !slices.Contains(allowed, m) {
						return false
					}
				}
				return true
			}
			t.Fatalf("rule function %s is not evaluated here; teach ruleValue it", fn)
		}
	}
	t.Fatalf("unexpected rule value %#v", v)
	return nil
}
