package credit_test

import (
	"math"
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseBRL(t *testing.T) {
	tests := []struct {
		in   string
		want credit.Cents
		bad  bool
	}{
		{in: "R$ 1.234,56", want: 123456},
		{in: "R$1.234,56", want: 123456},
		{in: "R$\u00a01.234,56", want: 123456},
		{in: "1.234,56", want: 123456},
		{in: "1234,56", want: 123456},
		{in: "  R$ 0,01 ", want: 1},
		{in: "R$ 0,00", want: 0},
		{in: "R$ 999,99", want: 99999},
		{in: "R$ 1.000.000,00", want: 100000000},
		{in: "-R$ 12,30", want: -1230},
		{in: "R$ 1.000.000.000.000,00", want: credit.MaxCents},
		{in: "R$ 1.000.000.000.000,01", bad: true}, // beyond MaxCents
		{in: "R$ 99.999.999.999.999.999,99", bad: true},
		{in: "R$ 9223372036854775807,00", bad: true},
		{in: "R$ 10", bad: true},       // centavos are mandatory
		{in: "R$ 10,5", bad: true},     // exactly two centavos digits
		{in: "R$ 10,500", bad: true},   // exactly two centavos digits
		{in: "10.50", bad: true},       // a float, not Brazilian notation
		{in: "1.234", bad: true},       // thousands or decimals? refused
		{in: "1,234.56", bad: true},    // US notation
		{in: "1.23,45", bad: true},     // broken grouping
		{in: "12.3456,00", bad: true},  // broken grouping
		{in: "1234.567,00", bad: true}, // first group too long
		{in: ".123,00", bad: true},
		{in: "01,00", bad: true}, // leading zero
		{in: "0.123,00", bad: true},
		{in: "R$  1,00", bad: true}, // two spaces
		{in: "R$ -1,00", bad: true}, // sign in the wrong place
		{in: "-R$ 0,00", bad: true},
		{in: "--1,00", bad: true},
		{in: "+1,00", bad: true},
		{in: "", bad: true},
		{in: "R$", bad: true},
		{in: ",00", bad: true},
		{in: "R$ 1,0a", bad: true},
		{in: "R$ １,００", bad: true}, // full-width digits
		{in: "US$ 1,00", bad: true},
		{in: "NaN", bad: true},
		{in: "1e3,00", bad: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := credit.ParseBRL(tt.in)
			if tt.bad {
				require.Error(t, err)
				assert.Equal(t, credit.CodeInvalidBRL, credit.ErrorCode(err))
				assert.Equal(t, credit.KindInvalid, credit.ErrorKind(err))
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestCentsBRL(t *testing.T) {
	tests := []struct {
		in   credit.Cents
		want string
		dec  string
	}{
		{0, "R$ 0,00", "0,00"},
		{1, "R$ 0,01", "0,01"},
		{99, "R$ 0,99", "0,99"},
		{100, "R$ 1,00", "1,00"},
		{123456, "R$ 1.234,56", "1234,56"},
		{100000, "R$ 1.000,00", "1000,00"},
		{12345678, "R$ 123.456,78", "123456,78"},
		{-1230, "-R$ 12,30", "-12,30"},
		{credit.Cents(math.MaxInt64), "R$ 92.233.720.368.547.758,07", "92233720368547758,07"},
		{credit.Cents(math.MinInt64), "-R$ 92.233.720.368.547.758,08", "-92233720368547758,08"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, tt.in.BRL())
			assert.Equal(t, tt.dec, tt.in.Decimal())
		})
	}
}

func FuzzParseBRL(f *testing.F) {
	for _, s := range []string{"R$ 1.234,56", "0,01", "-R$ 12,30", "1.234", "10.50", "R$ 1.000.000.000.000,00", "R$\u00a09,99", ""} {
		f.Add(s, int64(123456))
	}
	f.Add("", int64(math.MinInt64))
	f.Add("", int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, s string, n int64) {
		// Whatever parses formats back to text that parses to the same amount.
		if c, err := credit.ParseBRL(s); err == nil {
			again, err := credit.ParseBRL(c.BRL())
			require.NoError(t, err, "formatted %q from %q", c.BRL(), s)
			assert.Equal(t, c, again)
			assert.LessOrEqual(t, c, credit.MaxCents)
			assert.GreaterOrEqual(t, c, -credit.MaxCents)
		}
		// Every amount in range round-trips; the others are refused.
		c := credit.Cents(n)
		got, err := credit.ParseBRL(c.BRL())
		if c >= -credit.MaxCents && c <= credit.MaxCents {
			require.NoError(t, err, c.BRL())
			assert.Equal(t, c, got)
			dec, err := credit.ParseBRL(c.Decimal())
			require.NoError(t, err, c.Decimal())
			assert.Equal(t, c, dec)
		} else {
			assert.Error(t, err, c.BRL())
		}
	})
}
