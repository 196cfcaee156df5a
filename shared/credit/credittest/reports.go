package credittest

import (
	"context"
	"fmt"
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

	t.Run("delete removes one PDF, twice is no error", func(t *testing.T) {
		s, fetch := newStore(t)
		require.NoError(t, s.Put(ctx, key, []byte("a")))
		require.NoError(t, s.Put(ctx, key+".other", []byte("b")))
		url, _, err := s.PresignGet(ctx, key, time.Minute)
		require.NoError(t, err)
		require.NoError(t, s.Delete(ctx, key))
		exists, err := s.Exists(ctx, key)
		require.NoError(t, err)
		assert.False(t, exists)
		_, err = fetch(url)
		assert.Error(t, err, "a link signed before the deletion downloads nothing")
		exists, err = s.Exists(ctx, key+".other")
		require.NoError(t, err)
		assert.True(t, exists, "only the key asked")
		require.NoError(t, s.Delete(ctx, key))
	})
}

// LargeReport is FullReport with n pendencies and a raw answer of about as
// many kilobytes as n/8: what the bureau answers for a document with
// thousands of debts.
func LargeReport(n int) credit.Report {
	r := FullReport()
	items := make([]credit.Pendency, n)
	for i := range items {
		items[i] = credit.Pendency{Kind: credit.PendencyPEFIN, Date: time.Date(2025, 1, 1+i%28, 0, 0, 0, 0, time.UTC),
			Modality: "Prestação de serviços", Amount: credit.Cents(1000 + i), Contract: fmt.Sprintf("CT-%06d", i), Origin: "Telecom Ficção Ltda"}
	}
	r.Pendencies = credit.NewSection(items)
	r.Occurrences = n
	raw := make([]byte, 0, n*130)
	raw = append(raw, `{"pendencias":[`...)
	for i := range n {
		if i > 0 {
			raw = append(raw, ',')
		}
		raw = fmt.Appendf(raw, `{"contrato":"CT-%06d","valor":%d,"origem":"Telecom Ficção Ltda","modalidade":"Prestação de serviços"}`, i, 1000+i)
	}
	r.Raw = append(raw, "]}"...)
	return r
}

// ReportArchive is the contract of credit.ReportArchive.
func ReportArchive(t *testing.T, newArchive func(t *testing.T) credit.ReportArchive) {
	ctx := context.Background()
	const key = "reports/2026/11/00112233445566778899aabbccddeeff.json.gz"

	t.Run("a report comes back whole, raw answer included", func(t *testing.T) {
		a := newArchive(t)
		want := FullReport()
		require.NoError(t, a.PutReport(ctx, key, want))
		got, err := a.GetReport(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, want.Protocol, got.Protocol)
		assert.JSONEq(t, string(want.Raw), string(got.Raw))
		assert.Equal(t, want.WithoutRaw(), got.WithoutRaw())
	})

	t.Run("a report larger than a table item", func(t *testing.T) {
		a := newArchive(t)
		want := LargeReport(15000)
		require.Greater(t, len(want.Raw), 1<<20, "the fixture is megabytes")
		require.NoError(t, a.PutReport(ctx, key, want))
		got, err := a.GetReport(ctx, key)
		require.NoError(t, err)
		assert.Len(t, got.Pendencies.Entries, 15000)
		assert.Equal(t, want.Pendencies.Summary, got.Pendencies.Summary)
		assert.Equal(t, len(want.Raw), len(got.Raw))
	})

	t.Run("put replaces; a missing key is not_found", func(t *testing.T) {
		a := newArchive(t)
		_, err := a.GetReport(ctx, key)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err), "%v", err)
		first, second := FullReport(), FullReport()
		second.Protocol = "CSA-2"
		require.NoError(t, a.PutReport(ctx, key, first))
		require.NoError(t, a.PutReport(ctx, key, second))
		got, err := a.GetReport(ctx, key)
		require.NoError(t, err)
		assert.Equal(t, "CSA-2", got.Protocol)
		_, err = a.GetReport(ctx, key+".other")
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
	})
	t.Run("delete removes the report, twice is no error", func(t *testing.T) {
		a := newArchive(t)
		require.NoError(t, a.PutReport(ctx, key, FullReport()))
		require.NoError(t, a.DeleteReport(ctx, key))
		_, err := a.GetReport(ctx, key)
		assert.Equal(t, credit.KindNotFound, credit.ErrorKind(err))
		require.NoError(t, a.DeleteReport(ctx, key))
	})
}
