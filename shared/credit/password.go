package credit

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// PasswordChangeOutcome is where a password change ended.
type PasswordChangeOutcome string

const (
	// PasswordChangeRunning: begun and not finished; a change whose request
	// died stays so until the next change or recovery of its integration
	// closes it.
	PasswordChangeRunning PasswordChangeOutcome = "in_progress"
	// PasswordChanged: the bureau and the secret store hold the new password.
	PasswordChanged PasswordChangeOutcome = "changed"
	// PasswordChangeRejected: the bureau refused the new password; nothing
	// changed.
	PasswordChangeRejected PasswordChangeOutcome = "rejected"
	// PasswordChangeFailed: the change could not be applied (bureau or
	// store unavailable, request interrupted); nothing changed.
	PasswordChangeFailed PasswordChangeOutcome = "failed"
)

// PasswordChange is one attempt to change one of an integration's
// passwords: its audit record (who, when, which password, how it ended).
// It never holds a password; ReplacedHash, the slow salted hash of the
// password the change replaces, is kept by the store to refuse its reuse
// and is never shown.
type PasswordChange struct {
	ID            string
	IntegrationID string
	Kind          CredentialKind
	Actor         Actor
	// RequestID is the API request that asked for the change.
	RequestID  string
	StartedAt  time.Time
	FinishedAt time.Time
	Outcome    PasswordChangeOutcome
	// ErrorCode says why a change that did not apply failed
	// (bureau_rejected, bureau_unavailable, internal_error, interrupted...).
	ErrorCode string
	// Recovered is true when a later change or a reader's recovery, not the
	// change's own request, found out how it ended.
	Recovered    bool
	ReplacedHash string
}

// String shows the change without its hash.
func (c PasswordChange) String() string {
	h := ""
	if c.ReplacedHash != "" {
		h = "[redacted]"
	}
	return fmt.Sprintf("{ID:%s IntegrationID:%s Kind:%s Actor:%s RequestID:%s StartedAt:%s FinishedAt:%s Outcome:%s ErrorCode:%s Recovered:%t ReplacedHash:%s}",
		c.ID, c.IntegrationID, c.Kind, c.Actor.Subject, c.RequestID, c.StartedAt.Format(time.RFC3339Nano), c.FinishedAt.Format(time.RFC3339Nano), c.Outcome, c.ErrorCode, c.Recovered, h)
}

// Format makes every fmt verb print String's form.
func (c PasswordChange) Format(f fmt.State, verb rune) { io.WriteString(f, c.String()) }

// LogValue logs the change without its hash.
func (c PasswordChange) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", c.ID), slog.String("integrationId", c.IntegrationID), slog.String("kind", string(c.Kind)),
		slog.String("outcome", string(c.Outcome)), slog.String("actor", c.Actor.Subject))
}

// ErrorCodeInterrupted marks a change whose request ended before applying
// it, found out by a later recovery.
const ErrorCodeInterrupted = "interrupted"

// PasswordLease lets one change, or one recovery, of an integration's
// credentials run at a time. Both passwords live in one secret with one
// pending version, so a consultation change and a PEFIN change of the same
// integration cannot overlap either. Until bounds it, so that a crashed
// holder blocks nobody for long.
type PasswordLease struct {
	IntegrationID string
	// HolderID is the change's ID, or a recovery's.
	HolderID string
	// Kind is the password being changed; empty for a recovery.
	Kind  CredentialKind
	Until time.Time
}

// PasswordStore keeps what password changes need besides the secrets: the
// lease, the audit record of every change, and the hashes of replaced
// passwords.
//
// Errors: password_change_in_progress (409, Details["kind"] naming the
// holder's kind when it is a change) from AcquirePasswordLease while another
// holder's lease has not expired, and from BeginPasswordChange when the
// change does not hold the lease; invalid_cursor (400) from
// ListPasswordChanges; anything else internal_error. No method ever returns
// a hash except OpenPasswordChanges and PasswordHashes.
type PasswordStore interface {
	// AcquirePasswordLease takes the integration's lease for l.HolderID
	// until l.Until, when it is free or its holder's time has passed (many
	// concurrent callers: exactly one wins). The holder taking it again
	// extends it.
	AcquirePasswordLease(ctx context.Context, l PasswordLease) error
	// ReleasePasswordLease frees the lease if holderID holds it; otherwise
	// it does nothing.
	ReleasePasswordLease(ctx context.Context, integrationID, holderID string) error

	// BeginPasswordChange records c (Outcome in_progress) as open and keeps
	// its ReplacedHash, all at once, provided c.ID holds the integration's
	// lease.
	BeginPasswordChange(ctx context.Context, c PasswordChange) error
	// FinishPasswordChange records how c ended (Outcome, FinishedAt,
	// ErrorCode, Recovered) and closes it; the replaced hash is dropped
	// unless the password changed (it is then still the current one). A
	// change already finished stays as it was: the first finish wins.
	FinishPasswordChange(ctx context.Context, c PasswordChange) error
	// OpenPasswordChanges lists the integration's changes begun and not
	// finished, oldest first, with their ReplacedHash.
	OpenPasswordChanges(ctx context.Context, integrationID string) ([]PasswordChange, error)

	// PasswordHashes returns the hashes of every password of kind the
	// integration replaced (the current one is not among them).
	PasswordHashes(ctx context.Context, integrationID string, kind CredentialKind) ([]string, error)
	// ListPasswordChanges lists the integration's changes, newest first,
	// without ReplacedHash.
	ListPasswordChanges(ctx context.Context, integrationID string, p Page) ([]PasswordChange, string, error)
}
