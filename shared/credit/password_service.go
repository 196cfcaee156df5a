package credit

import (
	"context"
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

var _ CredentialRecovery = (*PasswordService)(nil)

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
	// through BureauAccess: a change must know which password it used.
	Bureau BureauAccounts
	// Hasher hashes replaced passwords; the zero value is
	// DefaultPasswordHasher.
	Hasher PasswordHasher
	// Lease is DefaultPasswordLease when zero.
	Lease time.Duration
	Now   func() time.Time
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

// RecoveryOutcome is what a recovery found.
type RecoveryOutcome string

const (
	// RecoveryNothingPending: no change was left half done.
	RecoveryNothingPending RecoveryOutcome = "nothing_pending"
	// RecoveryCompleted: the bureau held the pending password, which is now
	// the current one.
	RecoveryCompleted RecoveryOutcome = "completed"
	// RecoveryRolledBack: the bureau held the current password; the pending
	// one was dropped.
	RecoveryRolledBack RecoveryOutcome = "rolled_back"
)

// Recovery is what Recover found and did.
type Recovery struct {
	Outcome RecoveryOutcome
	// Closed are the changes whose requests died before recording how they
	// ended, now closed.
	Closed []PasswordChange
}

// ErrPasswordChangeUnresolved is the 409 for a half-done change that the
// bureau confirms neither way.
func ErrPasswordChangeUnresolved(kinds []CredentialKind) *Error {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = string(k)
	}
	return NewError(KindConflict, CodePasswordChangeUnresolved,
		"Uma alteração de senha desta integração ficou pendente e o bureau de crédito não aceita nem a senha guardada nem a nova. Confirme a senha junto ao parceiro antes de tentar novamente.").
		WithDetails(map[string]any{"kinds": names})
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
	if c.ReplacedHash, err = s.hasher().Hash(current.password(req.Kind)); err != nil {
		return err
	}
	c.StartedAt = s.now()
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
			s.log().Warn("password change: pending version left for recovery", s.attrs(c, slog.String("error", derr.Error()))...)
		}
		s.finish(ctx, c, PasswordChangeFailed, ErrorCode(err))
		return err
	}

	if err := s.changeAtBureau(ctx, i, req.Kind, current, req.NewPassword); err != nil {
		return s.afterBureauFailure(ctx, i, c, current, next, versionID, err)
	}
	return s.complete(ctx, i, c, versionID)
}

// afterBureauFailure settles a change whose bureau call failed: a refusal
// leaves the bureau on the current password; any other failure may have
// reached it, so the bureau is asked.
func (s *PasswordService) afterBureauFailure(ctx context.Context, i Integration, c PasswordChange, current, next IntegrationSecrets, versionID string, cause error) error {
	switch ErrorCode(cause) {
	case CodeBureauRejected, CodeValidation, CodeBureauBadCredentials:
		outcome := PasswordChangeFailed
		if ErrorCode(cause) == CodeBureauRejected {
			outcome = PasswordChangeRejected
		}
		if err := s.Secrets.DiscardPending(ctx, i.SecretRef); err != nil {
			s.log().Warn("password change: pending version left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
		}
		s.finish(ctx, c, outcome, ErrorCode(cause))
		return cause
	}
	outcome, err := s.settle(ctx, i, current, next, versionID)
	switch {
	case outcome == RecoveryCompleted && err != nil:
		s.log().Error("password change: the bureau holds the new password, the secret store not yet; left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
		return ErrPasswordChangeIncomplete(c.Kind).WithCause(err)
	case outcome == RecoveryCompleted:
		s.finish(ctx, c, PasswordChanged, "")
		return nil
	case outcome == RecoveryRolledBack:
		if err != nil {
			s.log().Warn("password change: pending version left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
		}
		s.finish(ctx, c, PasswordChangeFailed, ErrorCode(cause))
		return cause
	default:
		// The bureau could not tell: the pending version and the open
		// record wait for the next recovery.
		s.log().Warn("password change: outcome unknown, left for recovery", s.attrs(c, slog.String("error", err.Error()), slog.String("cause", cause.Error()))...)
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
			s.log().Error("password change: the bureau holds the new password, the secret store not yet; left for recovery", s.attrs(c, slog.String("error", err.Error()))...)
			return ErrPasswordChangeIncomplete(c.Kind).WithCause(err)
		}
	}
	s.finish(ctx, c, PasswordChanged, "")
	return nil
}

// Recover settles a change of the integration's passwords left half done:
// for BureauAccess, when the bureau refused the credentials it read (it
// then reads them again with SecretStore.Reload), or an operator. It holds
// the lease like a change (password_change_in_progress while one runs),
// asks the bureau (bureau_unavailable when it cannot tell) and answers
// password_change_unresolved when the bureau accepts neither password.
func (s *PasswordService) Recover(ctx context.Context, integrationID string) (Recovery, error) {
	i, err := s.Integrations.GetIntegration(ctx, integrationID)
	if err != nil {
		return Recovery{}, err
	}
	ctx, release, err := s.hold(ctx, i.ID, "recovery-"+s.NewID(), "")
	if err != nil {
		return Recovery{}, err
	}
	defer release()
	res, err := s.resolve(ctx, i)
	if err != nil {
		return Recovery{}, err
	}
	return res.Recovery, nil
}

// History lists the integration's password changes, newest first: who, when,
// which password and how it ended, never a password or a hash.
func (s *PasswordService) History(ctx context.Context, integrationID string, p Page) ([]PasswordChange, string, error) {
	if _, err := s.Integrations.GetIntegration(ctx, integrationID); err != nil {
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

// resolution is a Recovery with the pending value it settled and the
// passwords that value changed.
type resolution struct {
	Recovery
	pending IntegrationSecrets
	changed []CredentialKind
}

// resolve settles a pending version, then closes the records of changes
// whose requests died; the caller holds the lease.
func (s *PasswordService) resolve(ctx context.Context, i Integration) (resolution, error) {
	res := resolution{Recovery: Recovery{Outcome: RecoveryNothingPending}}
	pending, versionID, ok, err := s.Secrets.Pending(ctx, i.SecretRef)
	if err != nil {
		return res, err
	}
	if ok {
		current, err := s.Secrets.Reload(ctx, i.SecretRef)
		if err != nil {
			return res, err
		}
		outcome, err := s.settle(ctx, i, current, pending, versionID)
		if err != nil {
			if outcome == RecoveryCompleted {
				return res, ErrPasswordChangeIncomplete(changedKinds(current, pending)[0]).WithCause(err)
			}
			return res, err
		}
		res.Outcome, res.pending, res.changed = outcome, pending, changedKinds(current, pending)
		s.log().Info("password recovery", slog.String("integrationId", i.ID), slog.String("outcome", string(outcome)))
	}

	open, err := s.Store.OpenPasswordChanges(ctx, i.ID)
	if err != nil || len(open) == 0 {
		return res, err
	}
	current, err := s.Secrets.Reload(ctx, i.SecretRef)
	if err != nil {
		return res, err
	}
	for _, c := range open {
		// The pending version is settled: the change took effect exactly
		// when the password it replaced is no longer the current one.
		unchanged, err := VerifyPasswordHash(c.ReplacedHash, current.password(c.Kind))
		if err != nil {
			return res, err
		}
		c.Recovered = true
		if unchanged {
			c = s.finish(ctx, c, PasswordChangeFailed, ErrorCodeInterrupted)
		} else {
			c = s.finish(ctx, c, PasswordChanged, "")
		}
		c.ReplacedHash = ""
		res.Closed = append(res.Closed, c)
	}
	return res, nil
}

// settle finds out which of current and pending the bureau accepts and
// makes the secret store agree: promote the pending version, or drop it.
// Only the passwords that differ are asked about, each through an account
// built with the password under test. When the bureau accepted the pending
// version but promoting it failed, the outcome is RecoveryCompleted with
// the error.
func (s *PasswordService) settle(ctx context.Context, i Integration, current, pending IntegrationSecrets, versionID string) (RecoveryOutcome, error) {
	kinds := changedKinds(current, pending)
	if len(kinds) == 0 {
		// Nothing would change: no need to ask.
		return RecoveryRolledBack, s.Secrets.DiscardPending(ctx, i.SecretRef)
	}
	ok, err := s.accepts(ctx, i, pending, kinds)
	if err != nil {
		return "", err
	}
	if ok {
		return RecoveryCompleted, s.Secrets.Promote(ctx, i.SecretRef, versionID)
	}
	ok, err = s.accepts(ctx, i, current, kinds)
	if err != nil {
		return "", err
	}
	if ok {
		return RecoveryRolledBack, s.Secrets.DiscardPending(ctx, i.SecretRef)
	}
	return "", ErrPasswordChangeUnresolved(kinds)
}

// accepts asks the bureau whether it takes every password of kinds in sec.
func (s *PasswordService) accepts(ctx context.Context, i Integration, sec IntegrationSecrets, kinds []CredentialKind) (bool, error) {
	check, err := s.Bureau.CheckCredentials(ctx, i.Account(sec))
	if err != nil {
		return false, err
	}
	for _, k := range kinds {
		if (k == CredentialConsultation && !check.Consultation) || (k == CredentialPEFIN && !check.PEFIN) {
			return false, nil
		}
	}
	return true, nil
}

func (s *PasswordService) changeAtBureau(ctx context.Context, i Integration, kind CredentialKind, current IntegrationSecrets, newPassword string) error {
	acct := i.Account(current)
	if kind == CredentialPEFIN {
		return s.Bureau.ChangePEFINPassword(ctx, acct, newPassword)
	}
	return s.Bureau.ChangeConsultationPassword(ctx, acct, newPassword)
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
		used, err := VerifyPasswordHash(h, candidate)
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
// once another holder may have started.
func (s *PasswordService) hold(ctx context.Context, integrationID, holderID string, kind CredentialKind) (context.Context, func(), error) {
	lease := s.lease()
	if err := s.Store.AcquirePasswordLease(ctx, PasswordLease{IntegrationID: integrationID, HolderID: holderID, Kind: kind, Until: s.now().Add(lease)}); err != nil {
		return nil, nil, err
	}
	held, cancel := context.WithTimeout(context.WithoutCancel(ctx), lease*3/4)
	release := func() {
		cancel()
		rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer rcancel()
		if err := s.Store.ReleasePasswordLease(rctx, integrationID, holderID); err != nil {
			s.log().Error("password lease not released; it expires by itself", slog.String("integrationId", integrationID), slog.String("error", err.Error()))
		}
	}
	return held, release, nil
}

// finish records how c ended and writes its audit line. A failed write only
// leaves the record open: the next change or recovery closes it.
func (s *PasswordService) finish(ctx context.Context, c PasswordChange, outcome PasswordChangeOutcome, code string) PasswordChange {
	c.Outcome, c.ErrorCode, c.FinishedAt = outcome, code, s.now()
	if err := s.Store.FinishPasswordChange(ctx, c); err != nil {
		s.log().Error("password change record not closed; the next change closes it", s.attrs(c, slog.String("error", err.Error()))...)
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

func (s *PasswordService) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
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
