package httpapi

import (
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
)

// TestBranchesClaim: without the claim a caller sees every branch; with it,
// only those listed, in any of the forms a list claim arrives in.
func TestBranchesClaim(t *testing.T) {
	claims := func(kv ...string) map[string]string {
		m := map[string]string{"sub": "u1"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	tests := []struct {
		name   string
		claims map[string]string
		claim  string
		want   credit.Branches
	}{
		{"no claim: every branch", claims(), "", nil},
		{"comma-separated", claims("custom:branches", "7, 9"), "", credit.Branches{"7", "9"}},
		{"flattened array", claims("custom:branches", "[7 9]"), "", credit.Branches{"7", "9"}},
		{"JSON array", claims("custom:branches", `["7","9","7"]`), "", credit.Branches{"7", "9"}},
		{"empty: no branch", claims("custom:branches", ""), "", credit.Branches{}},
		{"configured claim", claims("branches", "3", "custom:branches", "7"), "branches", credit.Branches{"3"}},
		{"other claim than configured: every branch", claims("custom:branches", "7"), "branches", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := withBranches(credit.Actor{Subject: "u1"}, tt.claims, tt.claim)
			assert.Equal(t, tt.want, a.Branches)
			assert.Equal(t, tt.want == nil, a.Branches.All())
		})
	}
	assert.False(t, credit.Branches{}.Allows("7"))
	assert.True(t, credit.Branches(nil).Allows("7"))
}
