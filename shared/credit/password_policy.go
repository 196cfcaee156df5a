package credit

import (
	"crypto/subtle"
	"strings"
	"unicode/utf8"
)

// Error codes of the password changes.
const (
	// CodePasswordPolicy (400): the new password breaks the bureau's rules
	// for its kind; Details["violations"] lists every broken rule's code.
	CodePasswordPolicy = "password_policy"
	// CodePasswordConfirmationMismatch (400): confirmation differs from the
	// new password.
	CodePasswordConfirmationMismatch = "password_confirmation_mismatch"
	// CodePasswordReused (409): the new password was used before by the
	// integration for that kind, the current one included.
	CodePasswordReused = "password_reused"
	// CodePasswordChangeInProgress (409): another change of the
	// integration's credentials is running.
	CodePasswordChangeInProgress = "password_change_in_progress"
	// CodePasswordChangeUnresolved (409): a change was left half done and
	// the bureau accepts neither the stored password nor the new one, so
	// nothing can tell which one is right.
	CodePasswordChangeUnresolved = "password_change_unresolved"
	// CodePasswordChangeIncomplete (503): the bureau took the new password
	// but it could not be made current in the secret store yet; the next
	// reader or retry finishes the change.
	CodePasswordChangeIncomplete = "password_change_incomplete"
)

// Stable codes of the password rules, listed in a password_policy error's
// Details["violations"].
const (
	ViolationLength           = "length"
	ViolationLowercase        = "lowercase"
	ViolationUppercase        = "uppercase"
	ViolationDigit            = "digit"
	ViolationSpecial          = "special"
	ViolationInvalidCharacter = "invalid_character"
	ViolationDigitsOnly       = "digits_only"
	ViolationSequentialDigits = "sequential_digits"
)

// Password lengths the bureau demands.
const (
	ConsultationPasswordLength = 8
	PEFINPasswordLength        = 6
)

// violationMessages are the reference page's criteria, in its words.
var violationMessages = map[string]string{
	ViolationLength + "/consultation": "deve conter 8 caracteres",
	ViolationLength + "/pefin":        "deve conter 6 dígitos",
	ViolationLowercase:                "deve conter no mínimo uma letra minúscula (a-z)",
	ViolationUppercase:                "deve conter no mínimo uma letra maiúscula (A-Z)",
	ViolationDigit:                    "deve conter no mínimo um número (0-9)",
	ViolationSpecial:                  "deve conter no mínimo um caractere especial (@#!)",
	ViolationInvalidCharacter:         "deve conter somente letras a-z e A-Z, números 0-9 e os caracteres especiais @#!",
	ViolationDigitsOnly:               "deve conter somente números (0-9)",
	ViolationSequentialDigits:         "não pode conter três números em sequência crescente ou decrescente (ex.: 123, 987)",
}

// Valid reports whether k names one of the two passwords.
func (k CredentialKind) Valid() bool {
	return k == CredentialConsultation || k == CredentialPEFIN
}

// Name is the password's Portuguese name.
func (k CredentialKind) Name() string {
	if k == CredentialPEFIN {
		return "senha PEFIN"
	}
	return "senha de consulta"
}

// PasswordViolations returns the code of every rule password breaks for
// kind, in a fixed order; none means it is acceptable. Only ASCII letters,
// digits and @ # ! count: a look-alike (a full-width digit, a Cyrillic
// letter) or any space is an invalid character, and length is counted in
// characters, not bytes.
//
//   - consultation: exactly 8 characters, at least one a-z, one A-Z, one
//     0-9 and one of @ # !, nothing else;
//   - PEFIN: exactly 6 digits 0-9, no three consecutive ascending or
//     descending digits (012 and 987 are runs, 890 is not).
func PasswordViolations(kind CredentialKind, password string) []string {
	if kind == CredentialPEFIN {
		return pefinViolations(password)
	}
	return consultationViolations(password)
}

func consultationViolations(password string) []string {
	var lower, upper, digit, special, other bool
	for _, r := range password {
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r == '@' || r == '#' || r == '!':
			special = true
		default:
			other = true
		}
	}
	var v []string
	if utf8.RuneCountInString(password) != ConsultationPasswordLength {
		v = append(v, ViolationLength)
	}
	for _, rule := range []struct {
		ok   bool
		code string
	}{{lower, ViolationLowercase}, {upper, ViolationUppercase}, {digit, ViolationDigit}, {special, ViolationSpecial}, {!other, ViolationInvalidCharacter}} {
		if !rule.ok {
			v = append(v, rule.code)
		}
	}
	return v
}

func pefinViolations(password string) []string {
	var v []string
	digits := true
	for _, r := range password {
		if r < '0' || r > '9' {
			digits = false
		}
	}
	if utf8.RuneCountInString(password) != PEFINPasswordLength {
		v = append(v, ViolationLength)
	}
	if !digits {
		v = append(v, ViolationDigitsOnly)
	}
	// Runs are looked for among ASCII digits only; a password with anything
	// else is already refused.
	for i := 0; digits && i+2 < len(password); i++ {
		a, b, c := int(password[i]), int(password[i+1]), int(password[i+2])
		if (b == a+1 && c == b+1) || (b == a-1 && c == b-1) {
			v = append(v, ViolationSequentialDigits)
			break
		}
	}
	return v
}

// ErrPasswordPolicy is the 400 naming every broken rule; it never repeats
// the password.
func ErrPasswordPolicy(kind CredentialKind, violations []string) *Error {
	msgs := make([]string, len(violations))
	for i, code := range violations {
		msg, ok := violationMessages[code+"/"+string(kind)]
		if !ok {
			msg = violationMessages[code]
		}
		msgs[i] = msg
	}
	return Errorf(KindInvalid, CodePasswordPolicy, "A nova %s não atende aos critérios de segurança: %s.", kind.Name(), strings.Join(msgs, "; ")).
		WithDetails(map[string]any{"kind": string(kind), "violations": append([]string(nil), violations...)})
}

// ErrPasswordConfirmationMismatch is the 400 for a confirmation that
// differs from the new password.
func ErrPasswordConfirmationMismatch(kind CredentialKind) *Error {
	return Errorf(KindInvalid, CodePasswordConfirmationMismatch, "A confirmação não confere com a nova %s.", kind.Name()).
		WithDetails(map[string]any{"kind": string(kind)})
}

// ErrPasswordReused is the 409 for a password used before (the reference
// page's words).
func ErrPasswordReused(kind CredentialKind) *Error {
	return Errorf(KindConflict, CodePasswordReused, "A nova %s deve ser diferente de qualquer senha utilizada anteriormente.", kind.Name()).
		WithDetails(map[string]any{"kind": string(kind)})
}

// ErrPasswordChangeInProgress is the 409 for a change refused because
// another one holds the integration; kind is the other change's, when known.
func ErrPasswordChangeInProgress(kind CredentialKind) *Error {
	msg := "Já existe uma alteração de senha em andamento nesta integração. Aguarde alguns instantes e tente novamente."
	details := map[string]any{}
	if kind.Valid() {
		msg = "Já existe uma alteração da " + kind.Name() + " em andamento nesta integração. Aguarde alguns instantes e tente novamente."
		details["kind"] = string(kind)
	}
	return NewError(KindConflict, CodePasswordChangeInProgress, msg).WithDetails(details)
}

// samePassword compares in constant time, so that comparing a candidate
// with a stored password says nothing through timing.
func samePassword(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
