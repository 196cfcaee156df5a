package dynamo

import (
	"regexp"

	"creditanalysis/shared/credit"
)

// Keys carry documents: DOC#<cpf>, CONSULTATIONS#DOC#<cpf>, and a party's
// key carries the ERP's id, which may well be a CPF or CNPJ. Error text that
// names a key goes through redact, so that no full document reaches an
// error, and from it a log line.

// documentLike matches what may be a CPF or CNPJ: a run of 11 or more
// digits, or one written with its punctuation.
var documentLike = regexp.MustCompile(`\d{11,}|\d{3}\.\d{3}\.\d{3}-\d{2}|\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}`)

// redact masks every document-like run in s (credit.MaskDocument).
func redact(s string) string {
	return documentLike.ReplaceAllStringFunc(s, credit.MaskDocument)
}

// redactedError is a cause whose text is redacted; errors.Is and As still
// see the cause.
type redactedError struct{ err error }

func (e redactedError) Error() string { return redact(e.err.Error()) }
func (e redactedError) Unwrap() error { return e.err }

// keyError is the internal error of a call on the item pk/sk: the keys and
// the cause's text redacted.
func keyError(err error, what, pk, sk string) error {
	return credit.Internal(redactedError{err}, "dynamo: %s %s/%s", what, redact(pk), redact(sk))
}
