package httpapi

import (
	"encoding/json"
	"strings"

	"creditanalysis/shared/credit"
)

// DefaultBranchesClaim is where the caller's branches are, when they are
// kept to some: a comma-separated list of branch ids.
const DefaultBranchesClaim = "custom:branches"

// withBranches keeps a to the branches of its claim: without the claim the
// caller sees every branch; with it, only those listed (none when the list
// is empty).
func withBranches(a credit.Actor, claims map[string]string, claim string) credit.Actor {
	if claim == "" {
		claim = DefaultBranchesClaim
	}
	if v, ok := claims[claim]; ok {
		a.Branches = ParseBranches(v)
	}
	return a
}

// ParseBranches reads a branches claim: "7,9", and the JSON array or
// API Gateway's flattened "[7 9]" forms of a list claim. Never nil.
func ParseBranches(v string) credit.Branches {
	v = strings.TrimSpace(v)
	var parts []string
	if !(strings.HasPrefix(v, "[") && json.Unmarshal([]byte(v), &parts) == nil) {
		parts = strings.FieldsFunc(strings.Trim(v, "[]"), func(r rune) bool { return r == ',' || r == ' ' })
	}
	out := credit.Branches{}
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" && !out.Allows(p) {
			out = append(out, p)
		}
	}
	return out
}
