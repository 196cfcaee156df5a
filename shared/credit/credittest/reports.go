package credittest

import (
	"context"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ReportStore is the contract of credit.ReportStore. fetch downloads a URL
// PresignGet returned, as a browser would, without credentials.
func ReportStore(t *testing.T, newStore func(t *testing.T) (store credit.ReportStore, fetch func(url string) ([]byte, error))) {
	ctx := context.Background()
	const key = "reports/2026/11/00112233445566778899aabbccddeeff.pdf"

	t.Run("put, exists, presigned download", func(t *testing.T) {
		s, fetch := newStore(t)
		exists, err := s.Exists(ctx, key)
		require.NoError(t, err)
		assert.False(t, exists)

		pdf := []byte("%PDF-1.4 relatório de consulta")
		require.NoError(t, s.Put(ctx, key, pdf))
		exists, err = s.Exists(ctx, key)
		require.NoError(t, err)
		assert.True(t, exists)

		before := time.Now()
		url, expires, err := s.PresignGet(ctx, key, credit.ReportURLTTL)
		require.NoError(t, err)
		assert.NotEmpty(t, url)
		assert.WithinDuration(t, before.Add(credit.ReportURLTTL), expires, 5*time.Second, "the link lives the TTL asked")
		assert.False(t, expires.After(before.Add(5*time.Minute+5*time.Second)), "never more than 5 minutes")
		got, err := fetch(url)
		require.NoError(t, err)
		assert.Equal(t, pdf, got)
	})

	t.Run("put replaces", func(t *testing.T) {
		s, fetch := newStore(t)
		require.NoError(t, s.Put(ctx, key, []byte("first")))
		require.NoError(t, s.Put(ctx, key, []byte("second")))
		url, _, err := s.PresignGet(ctx, key, time.Minute)
		require.NoError(t, err)
		got, err := fetch(url)
		require.NoError(t, err)
		assert.Equal(t, "second", string(got))
	})

	t.Run("keys are separate", func(t *testing.T) {
		s, _ := newStore(t)
		require.NoError(t, s.Put(ctx, key, []byte("a")))
		exists, err := s.Exists(ctx, key+".other")
		require.NoError(t, err)
		assert.False(t, exists)
	})
}
