package credit_test

import (
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseDocument(t *testing.T) {
	tests := []struct {
		in      string
		kind    credit.DocumentKind
		number  string
		invalid bool
	}{
		{in: "529.982.247-25", kind: credit.CPF, number: "52998224725"},
		{in: "52998224725", kind: credit.CPF, number: "52998224725"},
		{in: " 529 982 247 25 ", kind: credit.CPF, number: "52998224725"},
		{in: "529.982.247-24", invalid: true},
		{in: "111.111.111-11", invalid: true},
		{in: "00000000000", invalid: true},
		{in: "11.222.333/0001-81", kind: credit.CNPJ, number: "11222333000181"},
		{in: "11222333000181", kind: credit.CNPJ, number: "11222333000181"},
		{in: "11.222.333/0001-80", invalid: true},
		// Alphanumeric CNPJ, the Receita Federal's published example.
		{in: "12.ABC.345/01DE-35", kind: credit.CNPJ, number: "12ABC34501DE35"},
		{in: "12abc34501de35", kind: credit.CNPJ, number: "12ABC34501DE35"},
		{in: "12.ABC.345/01DE-36", invalid: true},
		{in: "12ABC34501DEA5", invalid: true}, // letters not allowed in check digits
		{in: "1234567890", invalid: true},
		{in: "", invalid: true},
		{in: "5299822472５", invalid: true}, // full-width digit
		{in: "52998224725'; DROP TABLE", invalid: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			d, err := credit.ParseDocument(tt.in)
			if tt.invalid {
				require.Error(t, err)
				assert.Equal(t, credit.CodeInvalidDocument, credit.ErrorCode(err))
				assert.Equal(t, credit.KindInvalid, credit.ErrorKind(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.kind, d.Kind())
			assert.Equal(t, tt.number, d.Number())
		})
	}
}

func TestDocumentMaskedAndFormatted(t *testing.T) {
	cpf := credit.MustParseDocument("52998224725")
	assert.Equal(t, "***.982.247-**", cpf.Masked())
	assert.Equal(t, "529.982.247-25", cpf.Formatted())
	cnpj := credit.MustParseDocument("11222333000181")
	assert.Equal(t, "**.222.333/****-**", cnpj.Masked())
	assert.Equal(t, "11.222.333/0001-81", cnpj.Formatted())
	assert.Equal(t, "****5678****", credit.MaskDocument("123456789012"))
	assert.Equal(t, "***.982.247-**", credit.MaskDocument("529.982.247-25"))
}

func FuzzParseDocument(f *testing.F) {
	for _, s := range []string{"52998224725", "11.222.333/0001-81", "12ABC34501DE35", "", "abc", "00000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := credit.ParseDocument(s)
		if err != nil {
			assert.Equal(t, credit.CodeInvalidDocument, credit.ErrorCode(err))
			return
		}
		// A valid document round-trips through its formatted and normalized forms.
		again, err := credit.ParseDocument(d.Formatted())
		require.NoError(t, err)
		assert.Equal(t, d, again)
		assert.NotContains(t, d.Masked(), d.Number())
		switch d.Kind() {
		case credit.CPF:
			assert.Len(t, d.Number(), 11)
		case credit.CNPJ:
			assert.Len(t, d.Number(), 14)
		}
	})
}
