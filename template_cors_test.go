package creditanalysis_test

import (
	"regexp"
	"strings"
	"testing"

	"creditanalysis/infra/apigateway"

	"github.com/BurntSushi/toml"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTemplateCORS: the HTTP API's CorsConfiguration takes its origins from
// the AllowedOrigins parameter and allows exactly what the local gateway
// allows, so a frontend that works against `make run` works against AWS.
func TestTemplateCORS(t *testing.T) {
	tmpl := loadTemplate(t)
	apis := resourcesOfType(tmpl.raw, "AWS::Serverless::HttpApi")
	require.Len(t, apis, 1)
	cors := asMap(get(tmpl.raw, "Resources", apis[0], "Properties", "CorsConfiguration"))
	require.NotNil(t, cors, "the HTTP API has a CorsConfiguration")

	// SAM takes an intrinsic AllowOrigins as the whole CORS object: the
	// settings sit in the !If's first branch, and no origin means no CORS.
	branches := list(get(cors, "AllowOrigins", "Fn::If"))
	require.Len(t, branches, 3, "AllowOrigins is !If [condition, settings, !Ref AWS::NoValue]")
	condition := str(branches[0])
	assert.Equal(t, "AWS::NoValue", refTarget(branches[2]))
	assert.Equal(t,
		map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "AllowedOrigins"}, ""}}}},
		get(tmpl.raw, "Conditions", condition), "the condition is: AllowedOrigins is not empty")

	settings := asMap(branches[1])
	assert.Equal(t, map[string]any{"Fn::Split": []any{",", map[string]any{"Ref": "AllowedOrigins"}}}, settings["AllowOrigins"])
	assert.Equal(t, toAny(apigateway.CORSAllowMethods), settings["AllowMethods"])
	assert.Equal(t, toAny(apigateway.CORSAllowHeaders), settings["AllowHeaders"])
	assert.Equal(t, toAny(apigateway.CORSExposeHeaders), settings["ExposeHeaders"])
	assert.EqualValues(t, apigateway.CORSMaxAge, settings["MaxAge"])
	assert.NotContains(t, settings, "AllowCredentials", "tokens travel in Authorization, never in cookies")
	for _, m := range apigateway.CORSAllowMethods {
		assert.NotEqual(t, "*", m)
	}
}

// TestTemplateAllowedOriginsRefusesWildcards: the parameter's pattern is
// what CloudFormation checks before a deploy; no stage can open the API to
// every origin, and samconfig's values pass both it and the local gateway.
func TestTemplateAllowedOriginsRefusesWildcards(t *testing.T) {
	tmpl := loadTemplate(t)
	param := asMap(get(tmpl.raw, "Parameters", "AllowedOrigins"))
	require.NotNil(t, param, "parameter AllowedOrigins")
	assert.Equal(t, "String", param["Type"])
	pattern := regexp.MustCompile(str(param["AllowedPattern"]))
	assert.True(t, pattern.MatchString(str(param["Default"])), "the default passes its own pattern")

	tests := []struct {
		value string
		ok    bool
	}{
		{"", true},
		{"https://erp.example.com", true},
		{"https://erp.example.com,http://localhost:5173", true},
		{"http://127.0.0.1:4200", true},
		{"*", false},
		{"https://*.example.com", false},
		{"https://erp.example.com,*", false},
		{"https://erp.example.com/", false},
		{"https://erp.example.com/app", false},
		{"erp.example.com", false},
		{"https://erp.example.com, http://localhost:5173", false},
		{"https://erp.example.com,", false},
		{"null", false},
	}
	for _, tt := range tests {
		t.Run(tt.value, func(t *testing.T) {
			assert.Equal(t, tt.ok, pattern.MatchString(tt.value))
		})
	}

	var doc map[string]any
	_, err := toml.DecodeFile("samconfig.toml", &doc)
	require.NoError(t, err)
	for _, env := range []string{"default", "dev", "prod"} {
		overrides, err := parseOverrides(str(get(doc, env, "deploy", "parameters", "parameter_overrides")))
		require.NoError(t, err)
		origins, given := overrides["AllowedOrigins"]
		require.True(t, given, "%s: AllowedOrigins is set", env)
		assert.True(t, pattern.MatchString(origins), "%s: AllowedOrigins=%q passes the template's pattern", env, origins)
		_, err = apigateway.ParseOrigins(origins)
		assert.NoError(t, err, "%s: the local gateway reads the same list", env)
		if overrides["Stage"] == "dev" {
			assert.Contains(t, strings.Split(origins, ","), "http://localhost:5173", "%s: dev allows the local frontend dev servers", env)
		}
	}
}

func toAny(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
