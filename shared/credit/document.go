package credit

import (
	"encoding/json"
	"strings"
)

// DocumentKind tells a CPF (natural person) from a CNPJ (company).
type DocumentKind string

const (
	CPF  DocumentKind = "cpf"
	CNPJ DocumentKind = "cnpj"
)

// CodeInvalidDocument is answered for any document that fails validation.
const CodeInvalidDocument = "invalid_document"

// Document is a validated, normalized CPF or CNPJ: digits only, or for the
// alphanumeric CNPJ issued since July 2026, digits and upper-case letters.
type Document struct {
	kind   DocumentKind
	number string
}

// ParseDocument validates s as a CPF (11 digits) or CNPJ (14 characters,
// numeric or alphanumeric), with or without punctuation, and returns it
// normalized.
func ParseDocument(s string) (Document, error) {
	n := normalizeDocument(s)
	switch {
	case len(n) == 11 && validCPF(n):
		return Document{kind: CPF, number: n}, nil
	case len(n) == 14 && validCNPJ(n):
		return Document{kind: CNPJ, number: n}, nil
	}
	return Document{}, NewError(KindInvalid, CodeInvalidDocument, "CPF/CNPJ inválido.")
}

// MustParseDocument is ParseDocument for constants in tests and fixtures.
func MustParseDocument(s string) Document {
	d, err := ParseDocument(s)
	if err != nil {
		panic(err)
	}
	return d
}

func normalizeDocument(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '.' || r == '-' || r == '/' || r == ' ':
		case r >= 'a' && r <= 'z':
			b.WriteRune(r - 'a' + 'A')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (d Document) Kind() DocumentKind { return d.kind }

// Number is the normalized document.
func (d Document) Number() string { return d.number }

// IsZero reports whether d holds no document.
func (d Document) IsZero() bool { return d.number == "" }

func (d Document) String() string { return d.number }

// Formatted renders the document with its usual punctuation.
func (d Document) Formatted() string {
	n := d.number
	switch d.kind {
	case CPF:
		return n[0:3] + "." + n[3:6] + "." + n[6:9] + "-" + n[9:11]
	case CNPJ:
		return n[0:2] + "." + n[2:5] + "." + n[5:8] + "/" + n[8:12] + "-" + n[12:14]
	}
	return n
}

// Masked hides what identifies the person: a CPF shows only its middle six
// digits (***.456.789-**), a CNPJ only its middle six characters
// (**.345.678/****-**). Logs and most answers carry only this form.
func (d Document) Masked() string {
	n := d.number
	switch d.kind {
	case CPF:
		return "***." + n[3:6] + "." + n[6:9] + "-**"
	case CNPJ:
		return "**." + n[2:5] + "." + n[5:8] + "/****-**"
	}
	return ""
}

// MaskDocument masks a raw, possibly invalid, document for a log line: it
// never returns more than a third of its characters.
func MaskDocument(s string) string {
	if d, err := ParseDocument(s); err == nil {
		return d.Masked()
	}
	n := normalizeDocument(s)
	if len(n) <= 3 {
		return strings.Repeat("*", len(n))
	}
	third := len(n) / 3
	return strings.Repeat("*", third) + n[third:2*third] + strings.Repeat("*", len(n)-2*third)
}

func (d Document) MarshalJSON() ([]byte, error) { return json.Marshal(d.number) }

func (d *Document) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == "" {
		*d = Document{}
		return nil
	}
	parsed, err := ParseDocument(s)
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

func allSame(s string) bool {
	return strings.Count(s, s[:1]) == len(s)
}

func validCPF(n string) bool {
	for i := 0; i < 11; i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	if allSame(n) {
		return false
	}
	return checkDigit(n[:9], 10) == n[9] && checkDigit(n[:10], 11) == n[10]
}

// checkDigit is the CPF modulo-11 digit with weights counting down from w.
func checkDigit(s string, w int) byte {
	sum := 0
	for i := 0; i < len(s); i++ {
		sum += int(s[i]-'0') * (w - i)
	}
	r := sum % 11
	if r < 2 {
		return '0'
	}
	return byte('0' + 11 - r)
}

// validCNPJ accepts the numeric CNPJ and the alphanumeric one: twelve
// characters 0-9/A-Z, each worth its ASCII code minus 48, then two numeric
// check digits with the usual modulo-11 weights (2..9, repeating from the
// right).
func validCNPJ(n string) bool {
	for i := 0; i < 12; i++ {
		c := n[i]
		if !(c >= '0' && c <= '9') && !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	for i := 12; i < 14; i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	if allSame(n) {
		return false
	}
	return cnpjDigit(n[:12]) == n[12] && cnpjDigit(n[:13]) == n[13]
}

func cnpjDigit(s string) byte {
	sum, w := 0, 2
	for i := len(s) - 1; i >= 0; i-- {
		sum += int(s[i]-'0') * w
		w++
		if w > 9 {
			w = 2
		}
	}
	r := sum % 11
	if r < 2 {
		return '0'
	}
	return byte('0' + 11 - r)
}
