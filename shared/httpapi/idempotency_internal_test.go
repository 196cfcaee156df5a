package httpapi

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestIdempotencyKeyHeaderValues covers what an API Gateway event cannot
// carry: the header sent twice.
func TestIdempotencyKeyHeaderValues(t *testing.T) {
	for _, tt := range []struct {
		values []string
		want   string
		ok     bool
	}{
		{[]string{"a"}, "a", true},
		{[]string{`"a b"`}, "a b", true},
		{[]string{`"`}, `"`, true},
		{[]string{"a", "a"}, "", false},
		{[]string{""}, "", false},
	} {
		got, err := idempotencyKey(tt.values)
		assert.Equal(t, tt.ok, err == nil, "%q", tt.values)
		assert.Equal(t, tt.want, got, "%q", tt.values)
	}
}
