package credit

import (
	"strconv"
	"strings"
)

// Cents is an amount of money in integer centavos of the Brazilian real:
// R$ 1.234,56 is Cents(123456). Money is never a float anywhere in the
// service; JSON carries Cents as a plain integer.
type Cents int64

// CodeInvalidBRL is the code of a text that is not a valid amount in reais.
const CodeInvalidBRL = "invalid_brl_amount"

// MaxCents bounds parsing so that sums of many amounts stay far from int64
// overflow: a trillion reais is beyond any debt a bureau reports.
const MaxCents = Cents(100_000_000_000_000) // R$ 1.000.000.000.000,00

// ParseBRL reads an amount written the Brazilian way, as the bureau does
// ("R$ 1.234,56"). The rules are strict so that no text is read two ways:
//
//   - surrounding spaces are ignored; an optional "-" comes first, then an
//     optional "R$" followed by at most one space (or no-break space);
//   - the integer part has no leading zeros (except "0" itself), and either no
//     thousands separators at all ("1234,56") or "." between every group of
//     three digits ("1.234,56"), never a mix;
//   - the centavos are mandatory: "," and exactly two digits. "R$ 10",
//     "10,5", "10.50" (a float) and "1.234" (thousands or decimals?) are
//     refused;
//   - amounts beyond R$ 1 trillion are refused, so no sum of them can
//     overflow.
//
// The error is a 400 invalid_brl_amount.
func ParseBRL(s string) (Cents, error) {
	c, ok := parseBRL(s)
	if !ok {
		return 0, NewError(KindInvalid, CodeInvalidBRL, "Valor em reais inválido.")
	}
	return c, nil
}

func parseBRL(s string) (Cents, bool) {
	s = strings.Trim(s, " \t")
	negative := false
	if rest, ok := strings.CutPrefix(s, "-"); ok {
		negative, s = true, rest
	}
	if rest, ok := strings.CutPrefix(s, "R$"); ok {
		s = rest
		if r, ok := strings.CutPrefix(s, " "); ok {
			s = r
		} else if r, ok := strings.CutPrefix(s, "\u00a0"); ok {
			s = r
		}
	}
	integer, fraction, ok := strings.Cut(s, ",")
	if !ok || len(fraction) != 2 || !allDigits(fraction) || integer == "" {
		return 0, false
	}
	var digits string
	if strings.Contains(integer, ".") {
		groups := strings.Split(integer, ".")
		if len(groups[0]) < 1 || len(groups[0]) > 3 {
			return 0, false
		}
		for _, g := range groups[1:] {
			if len(g) != 3 {
				return 0, false
			}
		}
		digits = strings.Join(groups, "")
	} else {
		digits = integer
	}
	if !allDigits(digits) || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	if len(digits) > 13 { // more than R$ 9.999.999.999.999: surely out of range
		return 0, false
	}
	whole, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, false
	}
	cents, _ := strconv.ParseInt(fraction, 10, 64)
	c := Cents(whole*100 + cents)
	if c > MaxCents {
		return 0, false
	}
	if negative {
		if c == 0 {
			return 0, false // "-R$ 0,00" has no honest meaning
		}
		c = -c
	}
	return c, true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// BRL formats c the way ParseBRL reads it: "R$ 1.234,56", "-R$ 0,01".
// Every amount within ±MaxCents reads back to itself.
func (c Cents) BRL() string {
	var u uint64
	negative := c < 0
	if negative {
		u = uint64(-(c + 1)) + 1 // no overflow for the smallest int64
	} else {
		u = uint64(c)
	}
	whole := strconv.FormatUint(u/100, 10)
	frac := u % 100
	var b strings.Builder
	b.Grow(len(whole) + len(whole)/3 + 8)
	if negative {
		b.WriteByte('-')
	}
	b.WriteString("R$ ")
	first := len(whole) % 3
	if first == 0 {
		first = 3
	}
	b.WriteString(whole[:first])
	for i := first; i < len(whole); i += 3 {
		b.WriteByte('.')
		b.WriteString(whole[i : i+3])
	}
	b.WriteByte(',')
	b.WriteByte(byte('0' + frac/10))
	b.WriteByte(byte('0' + frac%10))
	return b.String()
}

// Decimal formats c without currency symbol nor thousands separators, as
// bureau forms expect a value: "1234,56".
func (c Cents) Decimal() string {
	s := c.BRL()
	s = strings.Replace(s, "R$ ", "", 1)
	return strings.ReplaceAll(s, ".", "")
}
