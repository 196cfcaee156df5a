package credit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"
)

// DefaultPasswordLease is how long a change (or a recovery) holds an
// integration's credentials: far longer than a function may run (29 s
// behind API Gateway), so that a lease only expires once its holder is
// surely gone, and short enough that a crash blocks the next change only
// briefly.
const DefaultPasswordLease = 2 * time.Minute

// PasswordService changes an integration's consultation and PEFIN passwords
// at the bureau and in the secret store without ever losing one ("Alteração
// de Senhas", rule 7).
//
// A change follows the shape of Secrets Manager's rotation: under the
// integration's lease, it stores the new value as the pending version
// beside the current one, changes the password at the bureau with the
// current one, promotes the pending version, and records how it ended. When
// a step fails, or a request dies between steps, the pending version is the
// evidence: whoever comes next (a retry, another change, a reader whose
// credentials the bureau refused, through Recover) asks the bureau which
// password it accepts, then finishes the change or rolls it back.
type PasswordService struct {
	Integrations IntegrationStore
	Store        PasswordStore
	Secrets      SecretStore
	// Bureau is called with the credentials under test or change, never
	// through BureauAccess: a change must know which password it used. Its
	// calls keep to the request's deadline as BureauAccess's do.
	Bureau BureauAccounts
	// Margin is kept before the context's deadline for recording the
	// outcome; zero means DefaultBureauMargin, as for BureauAccess.
	Margin time.Duration
	// Hasher hashes replaced passwords; the zero value is
	// DefaultPasswordHasher.
	Hasher PasswordHasher
	// Pepper keys every hash (see PasswordHasher); required.
	Pepper PepperSource
	// Lease is DefaultPasswordLease when zero.
	Lease time.Duration
	Now   Clock
	NewID func() string
	Log   *slog.Logger
}

// PasswordChangeRequest asks for a new password. Printing or logging it
// never shows the passwords.
type PasswordChangeRequest struct {
	IntegrationID string
	Kind          CredentialKind
	NewPassword   string
	Confirmation  string
	// RequestID is the API request's ID, kept on the change's record.
	RequestID string
}

func (r PasswordChangeRequest) String() string {
	return fmt.Sprintf("{IntegrationID:%s Kind:%s NewPassword:%s Confirmation:%s RequestID:%s}",
		r.IntegrationID, r.Kind, redacted(r.NewPassword), redacted(r.Confirmation), r.RequestID)
}

// Format makes every fmt verb print the redacted form.
func (r PasswordChangeRequest) Format(f fmt.State, verb rune) { io.WriteString(f, r.String()) }

func (r PasswordChangeRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("integrationId", r.IntegrationID), slog.String("kind", string(r.Kind)), slog.String("requestId", r.RequestID))
}

// ErrPasswordChangeIncomplete is the 503 for a password the bureau took but
// the secret store could not yet make current.
func ErrPasswordChangeIncomplete(kind CredentialKind) *Error {
	return Errorf(KindUnavailable, CodePasswordChangeIncomplete,
		"A nova %s já vale no bureau de crédito, mas não pôde ser gravada agora. A alteração será concluída automaticamente; repita o pedido com a mesma senha em alguns instantes.", kind.Name()).
		WithDetails(map[string]any{"kind": string(kind)})
}

// Change replaces one of the integration's passwords at the bureau and in
// the secret store. Before anything is sent anywhere it checks the rules
// (password_policy, password_confirmation_mismatch); then, holding the
// integration's lease (password_change_in_progress), it settles any change
// left half done, refuses a password used before (password_reused), and
// runs the protocol. The bureau refusing the password (bureau_rejected) or
// being unreachable (bureau_unavailable) leaves the stored credentials as
// they were and working. Repeating a change whose answer was lost, with the
// same password, succeeds once it is found done.
func (s *PasswordService) Change(ctx context.Context, req PasswordChangeRequest) error {
	if !req.Kind.Valid() {
		return Errorf(KindInvalid, CodeValidation, "Tipo de senha inválido: %q.", req.Kind)
	}
	if v := PasswordViolations(req.Kind, req.NewPassword); len(v) > 0 {
		return ErrPasswordPolicy(req.Kind, v)
	}
	if !samePassword(req.NewPassword, req.Confirmation) {
		return ErrPasswordConfirmationMismatch(req.Kind)
	}
	i, err := s.Integrations.GetIntegration(ctx, req.IntegrationID)
	if err != nil {
		return err
	}
	if err := AllowBranch(ctx, i.BranchID); err != nil {
		return err
	}
	actor, _ := ActorFrom(ctx)
	c := PasswordChange{ID: s.NewID(), IntegrationID: i.ID, Kind: req.Kind, Actor: actor, RequestID: req.RequestID, Outcome: PasswordChangeRunning}
	ctx, release, err := s.hold(ctx, i.ID, c.ID, req.Kind)
	if err != nil {
		return err
	}
	defer release()

	res, err := s.resolve(ctx, i)
	if err != nil {
		return err
	}
	if res.Outcome == RecoveryCompleted && slices.Contains(res.changed, req.Kind) && samePassword(res.pending.password(req.Kind), req.NewPassword) {
		// A retry of the change the recovery just finished.
		return nil
	}

	current, err := s.Secrets.Reload(ctx, i.SecretRef)
	if err != nil {
		return err
	}
	if err := s.checkNotReused(ctx, i.ID, req.Kind, current, req.NewPassword); err != nil {
		return err
	}
	// The replaced password's hash is kept from the start: whatever happens
	// next, it has been used.
	pepper, err := s.pepper(ctx)
	if err != nil {
		return err
	}
	if c.ReplacedHash, err = s.hasher().Hash(pepper, current.password(req.Kind)); err != nil {
		return err
	}
	c.StartedAt = s.Now.Now()
	if err := s.Store.BeginPasswordChange(ctx, c); err != nil {
		return err
	}

	next := current.withPassword(req.Kind, req.NewPassword)
	versionID, err := s.Secrets.PutPending(ctx, i.SecretRef, next, c.ID)
	if err != nil {
		// Nothing reached the bureau. The write may have landed with its
		// answer lost: take it back (or leave it to the next recovery,
		// which will find the bureau on the current password).
		if derr := s.Secrets.DiscardPending(ctx, i.SecretRef); derr != nil {
			s.log().WarnContext(ctx, "password change: pending version left for recovery", s.attrs(c, slog.String("error", derr.Error()))...)
		}
		s.finish(ctx, c, PasswordChangeFailed, ErrorCode(err))
		return err
	}

	if err := s.changeAtBureau(ctx, i, req.Kind, current, req.NewPassword); err != nil {
		return s.afterBureauFailure(ctx, i, c, current, next, versionID, err)
	}
	return s.complete(ctx, i, c, versionID)
}

// afterBureauFailure settles a change whose bureau call failed: a refusal,
// or a call never made for want of time, leaves the bureau on the current
// password; any other failure may have reached it, so the bureau is asked.
func (s *PasswordService) afterBureauFailure(ctx context.Context, i Integration, c PasswordChange, current, next IntegrationSecrets, versionID string, cause error) error {
	notSent := errors.Is(cause, errNoTimeLeft)
	switch {
	case notSent, ErrorCode(cause) == CodeBureauRejected, ErrorCode(cause) == CodeValidation, ErrorCode(cause) == CodeBureauBadCredentials:
		outcome := PasswordChangeFailed
		if ErrorCode(cause) == CodeBureauRejected {
			outcome = PasswordChangeRejected
		}
		if err := s.Secrets.DiscardPending(ctx, i.SecretRef); err != nil {
			s.log().WarnContext(ctx, "password change: pending version left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
		}
		s.finish(ctx, c, outcome, ErrorCode(cause))
		return cause
	}
	outcome, err := s.settle(ctx, i, current, next, versionID)
	switch {
	case outcome == RecoveryCompleted && err != nil:
		s.log().ErrorContext(ctx, "password change: the bureau holds the new password, the secret store not yet; left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
		return ErrPasswordChangeIncomplete(c.Kind).WithCause(err)
	case outcome == RecoveryCompleted:
		s.finish(ctx, c, PasswordChanged, "")
		return nil
	case outcome == RecoveryRolledBack:
		if err != nil {
			s.log().WarnContext(ctx, "password change: pending version left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
		}
		s.finish(ctx, c, PasswordChangeFailed, ErrorCode(cause))
		return cause
	default:
		// The bureau could not tell: the pending version and the open
		// record wait for the next recovery.
		s.log().WarnContext(ctx, "password change: outcome unknown, left for recovery", s.attrs(c, slog.String("error", err.Error()), slog.String("cause", cause.Error()))...)
		return cause
	}
}

// complete promotes the pending version the bureau already holds and
// records the change.
func (s *PasswordService) complete(ctx context.Context, i Integration, c PasswordChange, versionID string) error {
	if err := s.Secrets.Promote(ctx, i.SecretRef, versionID); err != nil {
		// The pending version keeps the new password safe; one more try,
		// then the next reader or retry finishes it.
		if err := s.Secrets.Promote(ctx, i.SecretRef, versionID); err != nil {
			s.log().ErrorContext(ctx, "password change: the bureau holds the new password, the secret store not yet; left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
			return ErrPasswordChangeIncomplete(c.Kind).WithCause(err)
		}
	}
	s.finish(ctx, c, PasswordChanged, "")
	return nil
}

// History lists the integration's password changes, newest first: who, when,
// which password and how it ended, never a password or a hash.
func (s *PasswordService) History(ctx context.Context, integrationID string, p Page) ([]PasswordChange, string, error) {
	if i, err := s.Integrations.GetIntegration(ctx, integrationID); err != nil {
		return nil, "", err
	} else if err := seeBranch(ctx, i.BranchID, "Integração"); err != nil {
		return nil, "", err
	}
	changes, next, err := s.Store.ListPasswordChanges(ctx, integrationID, p.Normalized())
	if err != nil {
		return nil, "", err
	}
	for k := range changes {
		changes[k].ReplacedHash = ""
	}
	return changes, next, nil
}

// changeAtBureau asks the bureau for the change within the request's
// budget (Margin before its deadline), of which it takes two thirds at
// most: asking the bureau which password holds, should the change's answer
// not come, must still fit, so that the change ends completed or rolled
// back rather than open. With no time left nothing is sent
// (errNoTimeLeft).
func (s *PasswordService) changeAtBureau(ctx context.Context, i Integration, kind CredentialKind, current IntegrationSecrets, newPassword string) error {
	bctx, cancel := bureauBudget(ctx, s.Margin)
	defer cancel()
	if d, ok := bctx.Deadline(); ok {
		var cancelShare context.CancelFunc
		bctx, cancelShare = context.WithDeadline(bctx, time.Now().Add(time.Until(d)*2/3))
		defer cancelShare()
	}
	acct := i.Account(current)
	return bureauWithin(bctx, func(ctx context.Context) error {
		if kind == CredentialPEFIN {
			return s.Bureau.ChangePEFINPassword(ctx, acct, newPassword)
		}
		return s.Bureau.ChangeConsultationPassword(ctx, acct, newPassword)
	})
}

// checkNotReused refuses candidate when it is the current password or
// matches the hash of any password of kind the integration replaced.
func (s *PasswordService) checkNotReused(ctx context.Context, integrationID string, kind CredentialKind, current IntegrationSecrets, candidate string) error {
	if samePassword(current.password(kind), candidate) {
		return ErrPasswordReused(kind)
	}
	hashes, err := s.Store.PasswordHashes(ctx, integrationID, kind)
	if err != nil {
		return err
	}
	for _, h := range hashes {
		used, err := s.verifyHash(ctx, h, candidate)
		if err != nil {
			return err
		}
		if used {
			return ErrPasswordReused(kind)
		}
	}
	return nil
}

// hold takes the integration's lease for holderID. The context it returns
// is detached from the caller's cancellation, because stopping half way
// helps no one, and ends well before the lease does, so that no step runs
// once another holder may have started. It keeps the caller's deadline
// (the invocation's, past which nothing runs anyway), so that the bureau
// calls keep to the request's budget.
func (s *PasswordService) hold(ctx context.Context, integrationID, holderID string, kind CredentialKind) (context.Context, func(), error) {
	lease := s.lease()
	if err := s.Store.AcquirePasswordLease(ctx, PasswordLease{IntegrationID: integrationID, HolderID: holderID, Kind: kind, Until: s.Now.Now().Add(lease)}); err != nil {
		return nil, nil, err
	}
	until := time.Now().Add(lease * 3 / 4)
	if d, ok := ctx.Deadline(); ok && d.Before(until) {
		until = d
	}
	held, cancel := context.WithDeadline(context.WithoutCancel(ctx), until)
	release := func() {
		cancel()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer rcancel()
		if err := s.Store.ReleasePasswordLease(rctx, integrationID, holderID); err != nil {
			s.log().ErrorContext(ctx, "password lease not released; it expires by itself", slog.String("integrationId", integrationID), slog.String("error", err.Error()))
		}
	}
	return held, release, nil
}

// finish records how c ended and writes its audit line. A failed write only
// leaves the record open: the next change or recovery closes it.
func (s *PasswordService) finish(ctx context.Context, c PasswordChange, outcome PasswordChangeOutcome, code string) PasswordChange {
	c.Outcome, c.ErrorCode, c.FinishedAt = outcome, code, s.Now.Now()
	if err := s.Store.FinishPasswordChange(ctx, c); err != nil {
		s.log().ErrorContext(ctx, "password change record not closed; the next change closes it", s.attrs(c, slog.String("error", err.Error()))...)
	}
	level := slog.LevelInfo
	if outcome != PasswordChanged {
		level = slog.LevelWarn
	}
	s.log().Log(ctx, level, "password change", s.attrs(c)...)
	return c
}

// attrs describe a change for the log: never a password or a hash.
func (s *PasswordService) attrs(c PasswordChange, extra ...any) []any {
	a := []any{
		slog.String("audit", "password_change"),
		slog.String("integrationId", c.IntegrationID), slog.String("changeId", c.ID),
		slog.String("kind", string(c.Kind)), slog.String("outcome", string(c.Outcome)),
		slog.String("actor", c.Actor.Subject), slog.String("requestId", c.RequestID),
	}
	if c.ErrorCode != "" {
		a = append(a, slog.String("errorCode", c.ErrorCode))
	}
	if c.Recovered {
		a = append(a, slog.Bool("recovered", true))
	}
	return append(a, extra...)
}

// pepper is the pepper hashes are keyed with.
func (s *PasswordService) pepper(ctx context.Context) ([]byte, error) {
	if s.Pepper == nil {
		return nil, Internal(ErrNoPepper, "password service")
	}
	p, err := s.Pepper.Pepper(ctx)
	if err != nil {
		return nil, err
	}
	if len(p) < MinPepperBytes {
		return nil, Internal(ErrNoPepper, "password service")
	}
	return p, nil
}

// verifyHash verifies password against encoded, reading the pepper only
// for a hash that needs it.
func (s *PasswordService) verifyHash(ctx context.Context, encoded, password string) (bool, error) {
	var pepper []byte
	if HashNeedsPepper(encoded) {
		var err error
		if pepper, err = s.pepper(ctx); err != nil {
			return false, err
		}
	}
	return VerifyPasswordHash(encoded, pepper, password)
}

func (s *PasswordService) hasher() PasswordHasher {
	if s.Hasher.Time == 0 {
		return DefaultPasswordHasher
	}
	return s.Hasher
}

func (s *PasswordService) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultPasswordLease
}

func (s *PasswordService) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

// password returns the password of kind.
func (s IntegrationSecrets) password(kind CredentialKind) string {
	if kind == CredentialPEFIN {
		return s.PEFINPassword
	}
	return s.ConsultationPassword
}

// withPassword returns s with the password of kind replaced.
func (s IntegrationSecrets) withPassword(kind CredentialKind, password string) IntegrationSecrets {
	if kind == CredentialPEFIN {
		s.PEFINPassword = password
	} else {
		s.ConsultationPassword = password
	}
	return s
}

// changedKinds lists the passwords that differ between a and b.
func changedKinds(a, b IntegrationSecrets) []CredentialKind {
	var kinds []CredentialKind
	if !samePassword(a.ConsultationPassword, b.ConsultationPassword) {
		kinds = append(kinds, CredentialConsultation)
	}
	if !samePassword(a.PEFINPassword, b.PEFINPassword) {
		kinds = append(kinds, CredentialPEFIN)
	}
	return kinds
}
