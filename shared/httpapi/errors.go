package httpapi

import (
	"log/slog"
	"net/http"

	"creditanalysis/shared/credit"
)

// The kinds only HTTP raises: the domain never sees an unauthenticated
// caller, an unknown method or an oversized body. They are kinds of the one
// error type, credit.Error.
const (
	KindUnauthorized     credit.Kind = "unauthorized"       // 401
	KindMethodNotAllowed credit.Kind = "method_not_allowed" // 405
	KindTooLarge         credit.Kind = "too_large"          // 413
)

// The codes only HTTP raises: about the request as it arrived (its route,
// method, body, query parameters, token), before any domain operation runs.
const (
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeRouteNotFound    = "route_not_found"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeInvalidJSON      = "invalid_json"
	CodeBodyTooLarge     = "body_too_large"
	CodeInvalidParameter = "invalid_parameter"
)

// statusByKind is the one place where error kinds, the domain's and HTTP's
// own, become HTTP statuses.
var statusByKind = map[credit.Kind]int{
	credit.KindInvalid:       http.StatusBadRequest,
	KindUnauthorized:         http.StatusUnauthorized,
	credit.KindForbidden:     http.StatusForbidden,
	credit.KindNotFound:      http.StatusNotFound,
	KindMethodNotAllowed:     http.StatusMethodNotAllowed,
	credit.KindConflict:      http.StatusConflict,
	credit.KindGone:          http.StatusGone,
	KindTooLarge:             http.StatusRequestEntityTooLarge,
	credit.KindUnprocessable: http.StatusUnprocessableEntity,
	credit.KindInternal:      http.StatusInternalServerError,
	credit.KindBadGateway:    http.StatusBadGateway,
	credit.KindUnavailable:   http.StatusServiceUnavailable,
}

// StatusOf returns the HTTP status for err.
func StatusOf(err error) int {
	if s, ok := statusByKind[credit.ErrorKind(err)]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorBody is the one shape of every non-2xx answer.
type ErrorBody struct {
	Error     ErrorDetail `json:"error"`
	RequestID string      `json:"requestId"`
}

type ErrorDetail struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details,omitempty"`
}

// WriteError answers err in the one error shape and logs it once: internal
// errors with their full cause at error level, the rest at info.
func WriteError(w http.ResponseWriter, r *http.Request, err error) {
	status := StatusOf(err)
	log := Logger(r.Context())
	body := ErrorBody{RequestID: RequestID(r.Context())}
	if e, ok := credit.AsError(err); ok && e.Kind != credit.KindInternal {
		body.Error = ErrorDetail{Code: e.Code, Message: e.Message, Details: e.Details}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request refused", slog.Int("status", status), slog.String("code", e.Code), slog.Any("cause", causeOf(e)))
	} else {
		body.Error = ErrorDetail{Code: credit.CodeInternal, Message: credit.InternalMessage}
		log.LogAttrs(r.Context(), slog.LevelError, "internal error", slog.Int("status", status), slog.String("error", err.Error()))
	}
	if cw, ok := w.(interface{ setErrorCode(string) }); ok {
		cw.setErrorCode(body.Error.Code)
	}
	WriteJSON(w, status, body)
}

func causeOf(e *credit.Error) any {
	if e.Err == nil {
		return nil
	}
	return e.Err.Error()
}
