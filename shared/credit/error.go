package credit

import (
	"errors"
	"fmt"
)

// Kind classifies an error for transports; the HTTP layer maps each kind to
// one status code in one place. These are the kinds the domain raises; a
// transport adds its own (an unknown route, a body too large) to the same
// type.
type Kind string

const (
	KindInvalid       Kind = "invalid"       // 400
	KindForbidden     Kind = "forbidden"     // 403
	KindNotFound      Kind = "not_found"     // 404
	KindConflict      Kind = "conflict"      // 409
	KindGone          Kind = "gone"          // 410
	KindUnprocessable Kind = "unprocessable" // 422
	KindInternal      Kind = "internal"      // 500
	KindBadGateway    Kind = "bad_gateway"   // 502
	KindUnavailable   Kind = "unavailable"   // 503
)

// Stable error codes shared by several areas. Area-specific codes are declared
// next to the rule that raises them; the codes only a transport raises live
// with it.
const (
	CodeInternal          = "internal_error"
	CodeValidation        = "validation_failed"
	CodeNotFound          = "not_found"
	CodeInvalidCursor     = "invalid_cursor"
	CodeConcurrentUpdate  = "concurrent_update"
	CodeBureauUnavailable = "bureau_unavailable"
	CodeBureauRejected    = "bureau_rejected"
)

// InternalMessage is what callers see for any error that is not an *Error.
const InternalMessage = "erro interno"

// Error is the one error type of the service: a stable machine-readable Code,
// a Portuguese Message for people, optional Details for the caller, and the
// underlying cause, which is logged but never shown.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Details map[string]any
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// NewError builds an *Error.
func NewError(kind Kind, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// Errorf builds an *Error with a formatted message.
func Errorf(kind Kind, code, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetails returns a copy of e carrying details for the caller.
func (e *Error) WithDetails(details map[string]any) *Error {
	c := *e
	c.Details = details
	return &c
}

// WithCause returns a copy of e that wraps cause (logged, never shown).
func (e *Error) WithCause(cause error) *Error {
	c := *e
	c.Err = cause
	return &c
}

// AsError returns the *Error in err's chain, if any.
func AsError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return nil, false
}

// ErrorCode returns the stable code of err, or CodeInternal for anything that
// is not an *Error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := AsError(err); ok {
		return e.Code
	}
	return CodeInternal
}

// ErrorKind returns the kind of err, or KindInternal.
func ErrorKind(err error) Kind {
	if e, ok := AsError(err); ok {
		return e.Kind
	}
	return KindInternal
}

// ErrorMessage returns the message callers may see: the *Error's message, or
// InternalMessage for anything else.
func ErrorMessage(err error) string {
	if e, ok := AsError(err); ok && e.Kind != KindInternal {
		return e.Message
	}
	return InternalMessage
}

// Internal wraps an unexpected failure (a store or SDK error) so that its
// detail reaches the log and only InternalMessage reaches the caller.
func Internal(cause error, format string, args ...any) *Error {
	return &Error{Kind: KindInternal, Code: CodeInternal, Message: InternalMessage, Err: fmt.Errorf(format+": %w", append(args, cause)...)}
}

// NotFound is the error for a missing entity; what names it in Portuguese.
func NotFound(what string) *Error {
	return Errorf(KindNotFound, CodeNotFound, "%s não encontrado(a).", what)
}

// FieldErrors accumulates validation problems so that one answer names every
// bad field at once.
type FieldErrors struct {
	fields  []string
	reasons map[string]string
}

// Add records a problem with field; the first reason for a field wins.
func (f *FieldErrors) Add(field, reason string) {
	if f.reasons == nil {
		f.reasons = map[string]string{}
	}
	if _, seen := f.reasons[field]; seen {
		return
	}
	f.fields = append(f.fields, field)
	f.reasons[field] = reason
}

// Empty reports whether no problem was recorded.
func (f *FieldErrors) Empty() bool { return len(f.fields) == 0 }

// Err returns nil when no problem was recorded, else a 400 validation_failed
// naming every field in details.fields with a reason per field in
// details.reasons.
func (f *FieldErrors) Err() error {
	if f.Empty() {
		return nil
	}
	return f.As(KindInvalid, CodeValidation, "Dados inválidos")
}

// As builds the error with a chosen kind, code and message prefix; the
// message lists each field's reason.
func (f *FieldErrors) As(kind Kind, code, prefix string) *Error {
	msg := prefix + ":"
	for i, field := range f.fields {
		if i > 0 {
			msg += ";"
		}
		msg += " " + field + " (" + f.reasons[field] + ")"
	}
	fields := append([]string(nil), f.fields...)
	reasons := make(map[string]string, len(f.reasons))
	for k, v := range f.reasons {
		reasons[k] = v
	}
	return NewError(kind, code, msg+".").WithDetails(map[string]any{"fields": fields, "reasons": reasons})
}
