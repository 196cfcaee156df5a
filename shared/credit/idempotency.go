package credit

import (
	"context"
	"time"
)

// Codes of idempotent requests (the Idempotency-Key header).
const (
	CodeInvalidIdempotencyKey = "invalid_idempotency_key"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeRequestInProgress     = "request_in_progress"
)

var (
	// ErrIdempotencyKeyReused refuses a key already used for another
	// request (another operation or another body).
	ErrIdempotencyKeyReused = NewError(KindUnprocessable, CodeIdempotencyKeyReused,
		"Esta Idempotency-Key já foi usada em outra requisição, com outro conteúdo. Use uma nova chave para uma nova operação.")
	// ErrRequestInProgress refuses a repeat while the key's first request
	// still runs.
	ErrRequestInProgress = NewError(KindConflict, CodeRequestInProgress,
		"Uma requisição com esta Idempotency-Key ainda está em andamento. Aguarde e tente novamente.")
)

// IdempotencyClaim is one attempt at a request that carries an idempotency
// key. A key belongs to its caller: the same key from two callers names two
// requests.
type IdempotencyClaim struct {
	// Caller is the authenticated subject; Key is the header's value.
	Caller, Key string
	// Fingerprint identifies the request (operation, path and body); a key
	// answers again only a request with the same fingerprint.
	Fingerprint string
	// Holder identifies this attempt, so that only it completes or releases
	// the claim.
	Holder string
	// LeaseUntil bounds how long the claim blocks repeats while the attempt
	// runs: a crashed attempt frees the key once it has passed.
	LeaseUntil time.Time
	// ExpiresAt is when the key, and the answer kept under it, is
	// forgotten.
	ExpiresAt time.Time
}

// IdempotentResponse is the answer kept under a key: never a request body,
// only what the first request answered.
type IdempotentResponse struct {
	Status int
	Header map[string][]string
	Body   []byte
	// AuditTarget is what the first request's audit event named beyond the
	// path's ids (the id it created, the masked document), so that a
	// replay's event names the same record.
	AuditTarget map[string]string
}

// IdempotencyStore keeps idempotency keys and the answers given under them.
//
// Errors: idempotency_key_reused (422) from BeginIdempotency when the key
// holds another fingerprint; request_in_progress (409) from
// BeginIdempotency while another attempt's lease has not passed, and from
// CompleteIdempotency when the attempt no longer holds the claim; anything
// else internal_error.
type IdempotencyStore interface {
	// BeginIdempotency claims c's key for c.Holder when the key is unknown,
	// expired, or its last attempt's lease has passed without an answer
	// (many concurrent callers: exactly one wins), and returns nil. When the
	// key already holds an answer for the same fingerprint it returns that
	// answer and claims nothing.
	BeginIdempotency(ctx context.Context, c IdempotencyClaim) (*IdempotentResponse, error)
	// CompleteIdempotency keeps r as the key's answer until c.ExpiresAt,
	// provided c.Holder still holds the claim (its lease may have passed if
	// nobody took over).
	CompleteIdempotency(ctx context.Context, c IdempotencyClaim, r IdempotentResponse) error
	// ReleaseIdempotency forgets the key, so that a retry runs again,
	// provided c.Holder holds an unanswered claim; otherwise it does
	// nothing.
	ReleaseIdempotency(ctx context.Context, c IdempotencyClaim) error
}
