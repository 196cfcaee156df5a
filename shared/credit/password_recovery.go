package credit

import (
	"context"
	"log/slog"
)

// This file is the recovery of a password change left half done: asking
// the bureau which password it accepts and making the secret store agree.
// The change itself is in password_service.go.

var _ CredentialRecovery = (*PasswordService)(nil)

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
		s.log().InfoContext(ctx, "password recovery", slog.String("integrationId", i.ID), slog.String("outcome", string(outcome)))
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
		unchanged, err := s.verifyHash(ctx, c.ReplacedHash, current.password(c.Kind))
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

// accepts asks the bureau whether it takes every password of kinds in sec,
// within the request's budget (Margin before its deadline).
func (s *PasswordService) accepts(ctx context.Context, i Integration, sec IntegrationSecrets, kinds []CredentialKind) (bool, error) {
	bctx, cancel := bureauBudget(ctx, s.Margin)
	defer cancel()
	var check CredentialCheck
	err := bureauWithin(bctx, func(ctx context.Context) (err error) {
		check, err = s.Bureau.CheckCredentials(ctx, i.Account(sec))
		return err
	})
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
