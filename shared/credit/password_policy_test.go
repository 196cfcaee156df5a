package credit_test

import (
	"strings"
	"testing"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPasswordViolations(t *testing.T) {
	const (
		consultation = credit.CredentialConsultation
		pefin        = credit.CredentialPEFIN
	)
	tests := []struct {
		name     string
		kind     credit.CredentialKind
		password string
		want     []string // nil: accepted
	}{
		// consultation: accepted
		{"consultation: one of each class", consultation, "Abcd@123", nil},
		{"consultation: special #", consultation, "zZ9#zzzz", nil},
		{"consultation: special !", consultation, "!!!!aA1!", nil},
		{"consultation: classes anywhere", consultation, "1@aB2#cD", nil},

		// consultation: length, counted in characters
		{"consultation: empty", consultation, "", []string{"length", "lowercase", "uppercase", "digit", "special"}},
		{"consultation: 7 characters", consultation, "Abc@123", []string{"length"}},
		{"consultation: 9 characters", consultation, "Abcd@1234", []string{"length"}},
		{"consultation: 8 bytes but 7 characters", consultation, "Abç@123", []string{"length", "invalid_character"}},
		{"consultation: 8 characters but more bytes", consultation, "Abçd@123", []string{"invalid_character"}},

		// consultation: each class missing
		{"consultation: no lowercase", consultation, "ABCD@123", []string{"lowercase"}},
		{"consultation: no uppercase", consultation, "abcd@123", []string{"uppercase"}},
		{"consultation: no digit", consultation, "Abcd@efg", []string{"digit"}},
		{"consultation: no special", consultation, "Abcd1234", []string{"special"}},
		{"consultation: only digits", consultation, "12345678", []string{"lowercase", "uppercase", "special"}},

		// consultation: characters outside the rules
		{"consultation: other ASCII special", consultation, "Abcd$123", []string{"special", "invalid_character"}},
		{"consultation: other special beside an allowed one", consultation, "Ab@d$123", []string{"invalid_character"}},
		{"consultation: inner space", consultation, "Ab d@123", []string{"invalid_character"}},
		{"consultation: leading space", consultation, " Abc@123", []string{"invalid_character"}},
		{"consultation: trailing space", consultation, "Abc@123 ", []string{"invalid_character"}},
		{"consultation: tab", consultation, "Abc\t@123", []string{"invalid_character"}},
		{"consultation: newline", consultation, "Abc@123\n", []string{"invalid_character"}},
		{"consultation: non-breaking space", consultation, "Abc@12\u00a03", []string{"invalid_character"}},
		{"consultation: zero-width space", consultation, "Abc@12\u200b3", []string{"invalid_character"}},
		{"consultation: NUL", consultation, "Abc@12\x003", []string{"invalid_character"}},
		{"consultation: full-width digits", consultation, "Abcd@１２３", []string{"digit", "invalid_character"}},
		{"consultation: full-width digit beside an ASCII one", consultation, "Abcd@1２3", []string{"invalid_character"}},
		{"consultation: Cyrillic lowercase a", consultation, "A\u0430cd@123", []string{"invalid_character"}},
		{"consultation: Cyrillic letters only", consultation, "\u0410\u0430\u0412\u0432@123", []string{"lowercase", "uppercase", "invalid_character"}},
		{"consultation: Greek capital alpha", consultation, "\u0391bcd@123", []string{"uppercase", "invalid_character"}},
		{"consultation: full-width at sign", consultation, "Abcd\uff20123", []string{"special", "invalid_character"}},
		{"consultation: accented letter", consultation, "Ábcd@123", []string{"uppercase", "invalid_character"}},
		{"consultation: emoji", consultation, "Abc@123😀", []string{"invalid_character"}},
		{"consultation: invalid UTF-8", consultation, "Abc@12\xff3", []string{"invalid_character"}},

		// PEFIN: accepted
		{"pefin: no runs", pefin, "135790", nil},
		{"pefin: 890 is not a run", pefin, "890890", nil},
		{"pefin: 098 is not a run", pefin, "098098", nil},
		{"pefin: repeated digits", pefin, "111111", nil},
		{"pefin: two ascending only", pefin, "121212", nil},
		{"pefin: 9 then 0 then 1", pefin, "901901", nil},

		// PEFIN: length
		{"pefin: empty", pefin, "", []string{"length"}},
		{"pefin: 5 digits", pefin, "13579", []string{"length"}},
		{"pefin: 7 digits", pefin, "1357913", []string{"length"}},

		// PEFIN: runs
		{"pefin: 123", pefin, "123579", []string{"sequential_digits"}},
		{"pefin: 012", pefin, "501279", []string{"sequential_digits"}},
		{"pefin: 987", pefin, "598775", []string{"sequential_digits"}},
		{"pefin: 210 at the end", pefin, "555210", []string{"sequential_digits"}},
		{"pefin: 789", pefin, "478955", []string{"sequential_digits"}},
		{"pefin: whole run", pefin, "123456", []string{"sequential_digits"}},
		{"pefin: run and wrong length", pefin, "1234567", []string{"length", "sequential_digits"}},

		// PEFIN: characters
		{"pefin: letter", pefin, "13579a", []string{"digits_only"}},
		{"pefin: space", pefin, "135 79", []string{"digits_only"}},
		{"pefin: trailing space", pefin, "13579 ", []string{"digits_only"}},
		{"pefin: full-width digits", pefin, "１３５７９０", []string{"digits_only"}},
		{"pefin: Arabic-Indic digits", pefin, "\u0661\u0663\u0665\u0667\u0669\u0660", []string{"digits_only"}},
		{"pefin: full-width digit in 6", pefin, "13579０", []string{"digits_only"}},
		{"pefin: sign", pefin, "-13579", []string{"digits_only"}},
		{"pefin: consultation-style", pefin, "Ab@1", []string{"length", "digits_only"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, credit.PasswordViolations(tt.kind, tt.password))
		})
	}
}

func TestErrPasswordPolicy(t *testing.T) {
	const password = "Ab d$123"
	v := credit.PasswordViolations(credit.CredentialConsultation, password)
	err := credit.ErrPasswordPolicy(credit.CredentialConsultation, v)
	assert.Equal(t, credit.KindInvalid, err.Kind)
	assert.Equal(t, credit.CodePasswordPolicy, err.Code)
	assert.Equal(t, []string{"special", "invalid_character"}, err.Details["violations"])
	assert.Equal(t, "consultation", err.Details["kind"])
	assert.Contains(t, err.Message, "no mínimo um caractere especial (@#!)")
	assert.Contains(t, err.Message, "somente letras a-z e A-Z")
	assert.NotContains(t, err.Error(), password)

	err = credit.ErrPasswordPolicy(credit.CredentialPEFIN, []string{credit.ViolationLength})
	assert.Contains(t, err.Message, "6 dígitos")
	assert.Contains(t, err.Message, "senha PEFIN")
}

// TestPasswordRulesMatchTheirMessages guards the table of messages: every
// code a rule can produce has a Portuguese message.
func TestPasswordRulesMatchTheirMessages(t *testing.T) {
	for _, kind := range []credit.CredentialKind{credit.CredentialConsultation, credit.CredentialPEFIN} {
		for _, code := range []string{
			credit.ViolationLength, credit.ViolationLowercase, credit.ViolationUppercase, credit.ViolationDigit,
			credit.ViolationSpecial, credit.ViolationInvalidCharacter, credit.ViolationDigitsOnly, credit.ViolationSequentialDigits,
		} {
			msg := credit.ErrPasswordPolicy(kind, []string{code}).Message
			require.False(t, strings.HasSuffix(msg, ": ."), "%s/%s has no message: %q", kind, code, msg)
		}
	}
}

// FuzzPasswordViolations holds the rule checker to a plain restatement of
// the rules: a password is accepted exactly when the restatement accepts it,
// and a refused one always names at least one rule.
func FuzzPasswordViolations(f *testing.F) {
	for _, seed := range []string{"Abcd@123", "135790", "123456", "Ab d@123", "１３５７９０", "A\u0430cd@123", "", "\xff\xfe", "890890"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		consultationOK := len(s) == 8 && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789@#!") == "" &&
			strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") && strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") &&
			strings.ContainsAny(s, "0123456789") && strings.ContainsAny(s, "@#!")
		assert.Equal(t, consultationOK, len(credit.PasswordViolations(credit.CredentialConsultation, s)) == 0, "%q", s)

		pefinOK := len(s) == 6 && strings.Trim(s, "0123456789") == ""
		for i := 0; pefinOK && i+2 < len(s); i++ {
			d1, d2, d3 := int(s[i]), int(s[i+1]), int(s[i+2])
			if (d2-d1 == 1 && d3-d2 == 1) || (d1-d2 == 1 && d2-d3 == 1) {
				pefinOK = false
			}
		}
		assert.Equal(t, pefinOK, len(credit.PasswordViolations(credit.CredentialPEFIN, s)) == 0, "%q", s)
	})
}
