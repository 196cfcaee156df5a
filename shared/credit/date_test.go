package credit_test

import (
	"encoding/json"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDateYearsUntil(t *testing.T) {
	tests := []struct {
		birth, on string
		want      int
	}{
		{"2008-11-26", "2026-11-26", 18},
		{"2008-11-27", "2026-11-26", 17},
		{"2008-12-01", "2026-11-26", 17},
		{"2008-02-29", "2026-02-28", 17},
		{"2008-02-29", "2026-03-01", 18},
		{"1970-01-01", "2026-11-26", 56},
	}
	for _, tt := range tests {
		b, err := credit.ParseDate(tt.birth)
		require.NoError(t, err)
		on, err := credit.ParseDate(tt.on)
		require.NoError(t, err)
		assert.Equal(t, tt.want, b.YearsUntil(on), "%s on %s", tt.birth, tt.on)
	}
}

func TestDateJSONAndZone(t *testing.T) {
	var d credit.Date
	require.NoError(t, json.Unmarshal([]byte(`"2026-02-28"`), &d))
	assert.Equal(t, "2026-02-28", d.String())
	assert.Error(t, json.Unmarshal([]byte(`"2026-02-30"`), &d))
	assert.Error(t, json.Unmarshal([]byte(`"28/02/2026"`), &d))
	b, _ := json.Marshal(credit.Date{})
	assert.Equal(t, "null", string(b))
	// 01:00 UTC on the 27th is still the 26th in São Paulo.
	assert.Equal(t, "2026-11-26", credit.DateOf(time.Date(2026, 11, 27, 1, 0, 0, 0, time.UTC), credit.SaoPaulo()).String())
}
