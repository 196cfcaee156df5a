package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"time"

	"creditanalysis/shared/credit"

	"github.com/google/uuid"
)

// Idempotency keys, after the IETF's Idempotency-Key header draft and
// Stripe's practice: a client that may retry a creating call sends a key;
// the first request with the key does the work and its answer is kept; a
// repeat with the same body gets that answer again, marked with
// IdempotentReplayedHeader, and does nothing.
const (
	IdempotencyKeyHeader     = "Idempotency-Key"
	IdempotentReplayedHeader = "Idempotent-Replayed"
	// IdempotencyKeyRetention is how long a key answers again.
	IdempotencyKeyRetention = 24 * time.Hour
	// MaxIdempotencyKeyLength bounds a key's characters.
	MaxIdempotencyKeyLength = 255
	// defaultIdempotencyLease bounds a request without a deadline (the
	// local runner); in Lambda the lease is the invocation's deadline.
	defaultIdempotencyLease = time.Minute
	// idempotencyLeaseMargin covers keeping the answer after the deadline.
	idempotencyLeaseMargin = 5 * time.Second
)

// Idempotent lists the routes that honour an Idempotency-Key: the ones
// that charge the bureau or create something a retry would create again.
// Any other route ignores the header.
var Idempotent = map[string]bool{
	"POST /consultations":              true,
	"POST /negativations":              true,
	"POST /negativations/{id}/removal": true,
	"POST /integrations":               true,
	"POST /billing-rule/runs":          true,
}

var errInvalidIdempotencyKey = credit.NewError(credit.KindInvalid, credit.CodeInvalidIdempotencyKey,
	"O cabeçalho Idempotency-Key deve ter de 1 a 255 caracteres ASCII imprimíveis e aparecer uma única vez.")

// idempotencyKey reads the header's one value: printable ASCII, 1 to 255
// characters, bare (as Stripe takes it) or as a quoted string (as the
// draft writes it).
func idempotencyKey(values []string) (string, error) {
	if len(values) != 1 {
		return "", errInvalidIdempotencyKey
	}
	k := values[0]
	if len(k) >= 2 && k[0] == '"' && k[len(k)-1] == '"' {
		k = k[1 : len(k)-1]
	}
	if len(k) < 1 || len(k) > MaxIdempotencyKeyLength {
		return "", errInvalidIdempotencyKey
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", errInvalidIdempotencyKey
		}
	}
	return k, nil
}

// fingerprint identifies a request for its key: the operation, the path
// and the body. Only this digest is kept, never the body, which may hold
// passwords.
func fingerprint(r *http.Request, pattern string, body []byte) string {
	h := sha256.New()
	for _, part := range []string{r.Method, pattern, r.URL.EscapedPath(), r.URL.RawQuery} {
		io.WriteString(h, part)
		h.Write([]byte{0})
	}
	h.Write(body)
	return hex.EncodeToString(h.Sum(nil))
}

// keepsAnswer reports whether an answer is final for its key. A 5xx is not
// (the draft and Stripe: a failure of the server is retried), nor a 409: a
// conflict with what ran at that moment (another consultation of the
// document, a concurrent update) did nothing and may succeed later.
func keepsAnswer(status int) bool {
	return status < 500 && status != http.StatusConflict && status != http.StatusTooManyRequests
}

// handle runs the route's handler, through its idempotency key when the
// route honours one and the request carries one.
func (s *Server) handle(rt Route, w http.ResponseWriter, r *http.Request) {
	values := r.Header.Values(IdempotencyKeyHeader)
	if s.cfg.Idempotency == nil || !Idempotent[rt.Pattern()] || len(values) == 0 {
		s.run(rt, w, r)
		return
	}
	ctx := r.Context()
	key, err := idempotencyKey(values)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		WriteError(w, r, credit.NewError(credit.KindInvalid, CodeInvalidJSON, "Não foi possível ler o corpo da requisição.").WithCause(err))
		return
	}
	if len(body) > MaxBodyBytes {
		WriteError(w, r, errBodyTooLarge)
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))

	now := s.now()
	lease := now.Add(defaultIdempotencyLease)
	if d, ok := ctx.Deadline(); ok {
		lease = d.Add(idempotencyLeaseMargin)
	}
	c := credit.IdempotencyClaim{
		Caller: Actor(ctx).Subject, Key: key, Fingerprint: fingerprint(r, rt.Pattern(), body),
		// Unique per attempt, whatever Config.NewID does.
		Holder: uuid.NewString(), LeaseUntil: lease, ExpiresAt: now.Add(IdempotencyKeyRetention),
	}
	kept, err := s.cfg.Idempotency.BeginIdempotency(ctx, c)
	if err != nil {
		WriteError(w, r, err)
		return
	}
	if kept != nil {
		Logger(ctx).Info("idempotent replay", slog.Int("status", kept.Status))
		// The replay's event names what the first one did.
		for name, value := range kept.AuditTarget {
			credit.NameAuditTarget(ctx, name, value)
		}
		replay(w, *kept)
		return
	}

	// The answer is held back until it is kept, so that a client never
	// retries an answer it has seen while the key still looks in progress.
	rec := &answerRecorder{header: http.Header{}, status: http.StatusOK, outer: w}
	store := context.WithoutCancel(ctx)
	defer func() {
		if p := recover(); p != nil {
			s.releaseIdempotency(store, r, c)
			panic(p)
		}
	}()
	s.run(rt, rec, r)
	if keepsAnswer(rec.status) {
		answer := credit.IdempotentResponse{Status: rec.status, Header: rec.header, Body: rec.body.Bytes()}
		if n := credit.AuditNoteFrom(ctx); n != nil {
			answer.AuditTarget = n.Targets()
		}
		if err := s.cfg.Idempotency.CompleteIdempotency(store, c, answer); err != nil {
			// The work is done and answered; the key stays claimed until
			// its lease passes.
			Logger(ctx).Error("idempotent answer not kept", slog.String("error", err.Error()))
		}
	} else {
		s.releaseIdempotency(store, r, c)
	}
	rec.flush(w)
}

func (s *Server) releaseIdempotency(ctx context.Context, r *http.Request, c credit.IdempotencyClaim) {
	if err := s.cfg.Idempotency.ReleaseIdempotency(ctx, c); err != nil {
		Logger(r.Context()).Error("idempotency key not released", slog.String("error", err.Error()))
	}
}

// run calls the route's handler, answering its error in the one shape.
func (s *Server) run(rt Route, w http.ResponseWriter, r *http.Request) {
	if err := rt.Handler(w, r); err != nil {
		WriteError(w, r, err)
	}
}

// replay answers a kept answer again, with its status, headers and body.
func replay(w http.ResponseWriter, a credit.IdempotentResponse) {
	for name, values := range a.Header {
		w.Header()[name] = append([]string(nil), values...)
	}
	w.Header().Set(IdempotentReplayedHeader, "true")
	if a.Status >= 400 {
		// The audit trail names the replayed error's code.
		var e ErrorBody
		if cw, ok := w.(interface{ setErrorCode(string) }); ok && json.Unmarshal(a.Body, &e) == nil {
			cw.setErrorCode(e.Error.Code)
		}
	}
	w.WriteHeader(a.Status)
	_, _ = w.Write(a.Body)
}

// answerRecorder holds a handler's answer until it is kept.
type answerRecorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
	outer  http.ResponseWriter
}

func (a *answerRecorder) Header() http.Header { return a.header }

func (a *answerRecorder) WriteHeader(status int) {
	if !a.wrote {
		a.status, a.wrote = status, true
	}
}

func (a *answerRecorder) Write(b []byte) (int, error) {
	a.wrote = true
	return a.body.Write(b)
}

// setErrorCode passes WriteError's code on to the audit trail.
func (a *answerRecorder) setErrorCode(code string) {
	if cw, ok := a.outer.(interface{ setErrorCode(string) }); ok {
		cw.setErrorCode(code)
	}
}

func (a *answerRecorder) flush(w http.ResponseWriter) {
	for name, values := range a.header {
		w.Header()[name] = values
	}
	w.WriteHeader(a.status)
	_, _ = w.Write(a.body.Bytes())
}

func (s *Server) now() time.Time {
	if s.cfg.Now != nil {
		return s.cfg.Now()
	}
	return time.Now()
}
