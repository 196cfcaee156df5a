package credit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
)

// IntegrationSecrets are the two bureau passwords of one integration, the
// only values of the service kept in the secret store (rule 11). Printing,
// logging or JSON-encoding it never reveals them: fmt shows "***" for each
// password that is set, slog logs only whether each one is set, and
// json.Marshal refuses, so that no one stores or answers a masked copy by
// mistake. The secret store's adapter serializes the values itself.
type IntegrationSecrets struct {
	// ConsultationPassword is the "senha consulta".
	ConsultationPassword string
	// PEFINPassword is the "senha PEFIN", for negativations.
	PEFINPassword string
}

// ErrSecretsNotSerializable is returned by IntegrationSecrets.MarshalJSON.
var ErrSecretsNotSerializable = errors.New("credit: integration secrets are never serialized; only the secret store's adapter writes them")

func mask(v string) string {
	if v == "" {
		return ""
	}
	return "***"
}

// String shows which passwords are set, never their values.
func (s IntegrationSecrets) String() string {
	return fmt.Sprintf("{ConsultationPassword:%s PEFINPassword:%s}", mask(s.ConsultationPassword), mask(s.PEFINPassword))
}

// GoString keeps %#v as safe as %v.
func (s IntegrationSecrets) GoString() string {
	return "credit.IntegrationSecrets" + s.String()
}

// Format covers every verb (%d or %x would otherwise print the fields).
func (s IntegrationSecrets) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}
	_, _ = f.Write([]byte(s.String()))
}

// LogValue logs whether each password is set.
func (s IntegrationSecrets) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Bool("consultationPasswordSet", s.ConsultationPassword != ""),
		slog.Bool("pefinPasswordSet", s.PEFINPassword != ""),
	)
}

// MarshalJSON refuses: see ErrSecretsNotSerializable.
func (s IntegrationSecrets) MarshalJSON() ([]byte, error) {
	return nil, ErrSecretsNotSerializable
}

var (
	_ fmt.Stringer   = IntegrationSecrets{}
	_ fmt.GoStringer = IntegrationSecrets{}
	_ fmt.Formatter  = IntegrationSecrets{}
	_ slog.LogValuer = IntegrationSecrets{}
)

// Error codes of the secret store.
const (
	// CodeSecretNotFound: the integration's secret, or the version asked
	// for, does not exist or is scheduled for deletion.
	CodeSecretNotFound = "secret_not_found"
	// CodeSecretAlreadyExists: Create found a secret (live or scheduled for
	// deletion) under the integration's name.
	CodeSecretAlreadyExists = "secret_already_exists"
)

// SecretNotFound is the error for a missing secret or secret version.
func SecretNotFound() *Error {
	return NewError(KindNotFound, CodeSecretNotFound, "Credenciais da integração não encontradas.")
}

// SecretAlreadyExists is the error of Create for a name already taken.
func SecretAlreadyExists() *Error {
	return NewError(KindConflict, CodeSecretAlreadyExists, "A integração já possui credenciais cadastradas.")
}

// SecretStore keeps each integration's IntegrationSecrets as one secret with
// versions, following Secrets Manager's rotation protocol so that a password
// change can never lose a password: the new value is stored as the pending
// version beside the current one (PutPending), changed at the bureau, then
// promoted (Promote), or rolled back (DiscardPending). While a change is in
// flight, or after a crash between its steps, a reader or a retry sees both
// versions (Current and Pending) and can find out which one the bureau
// accepts, then finish or roll back.
//
// A ref is the opaque reference Create returns (the secret's ARN on AWS); it
// is what the integration record stores, never the values.
//
// Errors: secret_not_found (KindNotFound) when the ref's secret, or the
// version named, does not exist or was scheduled for deletion;
// secret_already_exists (KindConflict) from Create; anything else is
// internal_error (credit.Internal). No error ever carries a secret value.
type SecretStore interface {
	// Create stores s as the first, current version of a new secret for
	// integrationID and returns its ref. Each integration has one secret;
	// creating it again fails with secret_already_exists, also while an
	// earlier one is scheduled for deletion.
	Create(ctx context.Context, integrationID string, s IntegrationSecrets) (ref string, err error)

	// Current returns the current version. It may be served from a short
	// in-memory cache, which this process's own writes invalidate; other
	// processes' changes can take up to the cache's TTL to be seen.
	Current(ctx context.Context, ref string) (IntegrationSecrets, error)

	// Reload is Current read from the store, skipping and refreshing the
	// cache: for a reader whose cached credentials the bureau refused,
	// because another process may have changed them.
	Reload(ctx context.Context, ref string) (IntegrationSecrets, error)

	// Pending returns the pending version and its ID; ok is false when no
	// change is in flight. Never cached.
	Pending(ctx context.Context, ref string) (s IntegrationSecrets, versionID string, ok bool, err error)

	// PutPending stores s as the pending version, replacing any other
	// pending one, and returns its version ID. token identifies the change
	// and makes it idempotent: a retry with the same token and value returns
	// the same version ID and leaves one pending version (or none, when that
	// version was already promoted). The same token with another value is an
	// internal error.
	PutPending(ctx context.Context, ref string, s IntegrationSecrets, token string) (versionID string, err error)

	// Promote makes versionID the current version (the one it replaces is
	// kept as the previous version) and ends its pending state. Promoting the
	// version already current succeeds, so a retry after a lost answer is
	// safe. An unknown versionID is secret_not_found.
	Promote(ctx context.Context, ref, versionID string) error

	// DiscardPending rolls back a change: the pending version, if any, stops
	// being pending. The current version is untouched. Without a pending
	// version it does nothing and succeeds.
	DiscardPending(ctx context.Context, ref string) error

	// ScheduleDeletion deletes the secret after the store's recovery window;
	// from then on every call on ref answers secret_not_found. Scheduling it
	// again succeeds.
	ScheduleDeletion(ctx context.Context, ref string) error
}
