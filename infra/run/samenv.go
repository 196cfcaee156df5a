package main

import (
	"encoding/json"
	"os"
	"strings"
)

// writeSAMEnv writes the stack's environment in the format of `sam local
// --env-vars`: "Parameters" applies to every function, and each function's
// logical id ("ParametersFunction" for area "parameters") gets its own copy.
// SAM only overrides variables the template declares, so the endpoint
// variables reach a function only where the template lists them.
func writeSAMEnv(path string, areas []string, env map[string]string) error {
	doc := map[string]map[string]string{"Parameters": env}
	for _, a := range areas {
		doc[LogicalID(a)] = env
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// LogicalID is the template's logical id of an area's function:
// "billing-rule" -> "BillingRuleFunction".
func LogicalID(area string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(area, func(r rune) bool { return r == '-' || r == '_' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String() + "Function"
}
