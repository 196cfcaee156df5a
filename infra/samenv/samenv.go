// Package samenv writes the environment file `sam local --env-vars` reads,
// so that functions under SAM CLI run against the local runner's stand-ins,
// accept its tokens and run the billing rule in process, as under `make
// run`. The local runner writes it as .local/sam-env.json.
package samenv

import (
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"strings"

	"creditanalysis/shared/app/billingrule"
	"creditanalysis/shared/httpapi"
)

// Env is what every function needs under SAM CLI: the stack's environment,
// the local signing key, which a function checks tokens with there since
// SAM CLI runs no JWT authorizer, and the runner's own choice of roles
// claim and role groups (ROLES_CLAIM, ROLE_GROUPS) when it made one, so
// that a token grants the same roles under SAM CLI as under `make run`.
func Env(stack map[string]string, key []byte) map[string]string {
	env := maps.Clone(stack)
	if env == nil {
		env = map[string]string{}
	}
	env[httpapi.EnvSAMLocalJWTKey] = hex.EncodeToString(key)
	for _, name := range []string{"ROLES_CLAIM", "ROLE_GROUPS"} {
		if v := os.Getenv(name); v != "" {
			env[name] = v
		}
	}
	return env
}

// functionEnv adds what one area's function needs beyond env.
func functionEnv(area string, env map[string]string) map[string]string {
	if area != "billing-rule" {
		return env
	}
	env = maps.Clone(env)
	// Empty runs a started billing run in a goroutine of the function, as
	// the local runner does; the template names the function itself, which
	// SAM CLI cannot invoke asynchronously.
	env[billingrule.EnvFunctionName] = ""
	return env
}

// Write writes env in the format of `sam local --env-vars`: "Parameters"
// applies to every function, and each function's logical id
// ("ParametersFunction" for area "parameters") gets its own complete copy.
// SAM CLI only overrides variables the template declares, so a variable
// reaches a function only where the template lists it. The file holds the
// signing key: it is readable by its owner only.
func Write(path string, areas []string, env map[string]string) error {
	doc := map[string]map[string]string{"Parameters": env}
	for _, a := range areas {
		doc[LogicalID(a)] = functionEnv(a, env)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	// WriteFile keeps the mode of a file already there.
	if err := os.Chmod(tmp, 0o600); err != nil {
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
