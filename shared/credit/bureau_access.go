package credit

import (
	"context"
	"log/slog"
)

// BureauAccess is the one way the services reach the bureau for an
// integration: consultations, negativations, the integration's plans, codes
// and connection test, and the billing rule through the negativations. It
// reads the integration's credentials from the secret store and makes the
// call. When the bureau refuses them (bureau_bad_credentials) they may be
// stale: another process changed them (the secret store's cache lags) or a
// change was left half done. It then has Recovery settle such a change,
// reads the credentials again past the cache, and makes the call once more
// if they differ; otherwise the refusal stands.
//
// The second call is safe: a refused login costs nothing at the bureau, so
// a consultation is never charged twice, and every registry call may be
// repeated (the reference makes inclusions idempotent, removing a removed
// record succeeds, status reads change nothing).
type BureauAccess struct {
	Secrets      SecretStore
	Consultation ConsultationBureau
	Registry     PEFINRegistry
	Accounts     BureauAccounts
	// Recovery settles a password change left half done before the
	// credentials are read again; *PasswordService is the one. Without it
	// the credentials are only read again.
	Recovery CredentialRecovery
	Log      *slog.Logger
}

// CredentialRecovery settles a change of an integration's passwords left
// half done (see PasswordService.Recover).
type CredentialRecovery interface {
	Recover(ctx context.Context, integrationID string) (Recovery, error)
}

// RegistryAccess is the PEFIN registry as the negativation flow reaches it.
// *BureauAccess is the one implementation; a billing-rule run wraps it with
// its throttle.
type RegistryAccess interface {
	// Account reads the integration's current credentials, so that a flow
	// can make sure they are readable before it writes anything.
	Account(ctx context.Context, i Integration) (BureauAccount, error)
	Include(ctx context.Context, i Integration, r NegativationRequest) (BureauRecord, error)
	Remove(ctx context.Context, i Integration, r RemovalRequest) error
	Status(ctx context.Context, i Integration, references []string) ([]BureauRecord, error)
}

var _ RegistryAccess = (*BureauAccess)(nil)

// Account reads the integration's current credentials (through the secret
// store's cache).
func (a *BureauAccess) Account(ctx context.Context, i Integration) (BureauAccount, error) {
	sec, err := a.Secrets.Current(ctx, i.SecretRef)
	if err != nil {
		return BureauAccount{}, err
	}
	return i.Account(sec), nil
}

// do runs call with the integration's current credentials and, when the
// bureau refuses them, recovers and runs it once more with fresher ones.
func (a *BureauAccess) do(ctx context.Context, i Integration, call func(BureauAccount) error) error {
	sec, err := a.Secrets.Current(ctx, i.SecretRef)
	if err != nil {
		return err
	}
	err = call(i.Account(sec))
	if ErrorCode(err) != CodeBureauBadCredentials {
		return err
	}
	if a.Recovery != nil {
		if rec, rerr := a.Recovery.Recover(ctx, i.ID); rerr != nil {
			a.log().WarnContext(ctx, "credentials refused and recovery not possible now", slog.String("integrationId", i.ID), slog.String("error", rerr.Error()))
		} else if rec.Outcome != RecoveryNothingPending {
			a.log().InfoContext(ctx, "credentials refused: a half-done password change was settled", slog.String("integrationId", i.ID), slog.String("outcome", string(rec.Outcome)))
		}
	}
	fresh, rerr := a.Secrets.Reload(ctx, i.SecretRef)
	if rerr != nil || fresh == sec {
		return err
	}
	return call(i.Account(fresh))
}

// reach runs a bureau call that answers a value through do.
func reach[T any](ctx context.Context, a *BureauAccess, i Integration, call func(BureauAccount) (T, error)) (T, error) {
	var out T
	err := a.do(ctx, i, func(acct BureauAccount) (err error) {
		out, err = call(acct)
		return err
	})
	return out, err
}

// Consult buys a credit report for the integration's account.
func (a *BureauAccess) Consult(ctx context.Context, i Integration, q ConsultQuery) (Report, error) {
	return reach(ctx, a, i, func(acct BureauAccount) (Report, error) { return a.Consultation.Consult(ctx, acct, q) })
}

// Plans lists the plans the integration's account may consult.
func (a *BureauAccess) Plans(ctx context.Context, i Integration) ([]BureauPlan, error) {
	return reach(ctx, a, i, func(acct BureauAccount) ([]BureauPlan, error) { return a.Consultation.Plans(ctx, acct) })
}

// Include registers a debt for the integration's account.
func (a *BureauAccess) Include(ctx context.Context, i Integration, r NegativationRequest) (BureauRecord, error) {
	return reach(ctx, a, i, func(acct BureauAccount) (BureauRecord, error) { return a.Registry.Include(ctx, acct, r) })
}

// Remove takes a record of the integration's account off.
func (a *BureauAccess) Remove(ctx context.Context, i Integration, r RemovalRequest) error {
	return a.do(ctx, i, func(acct BureauAccount) error { return a.Registry.Remove(ctx, acct, r) })
}

// Status reads records of the integration's account.
func (a *BureauAccess) Status(ctx context.Context, i Integration, references []string) ([]BureauRecord, error) {
	return reach(ctx, a, i, func(acct BureauAccount) ([]BureauRecord, error) { return a.Registry.Status(ctx, acct, references) })
}

// RestrictionCodes lists the bureau's restriction codes for the
// integration's account.
func (a *BureauAccess) RestrictionCodes(ctx context.Context, i Integration) ([]BureauCode, error) {
	return reach(ctx, a, i, func(acct BureauAccount) ([]BureauCode, error) { return a.Registry.RestrictionCodes(ctx, acct) })
}

// RemovalCodes lists the bureau's removal codes for the integration's
// account.
func (a *BureauAccess) RemovalCodes(ctx context.Context, i Integration) ([]BureauCode, error) {
	return reach(ctx, a, i, func(acct BureauAccount) ([]BureauCode, error) { return a.Registry.RemovalCodes(ctx, acct) })
}

// StoredAccount reads the integration's credentials as the secret store
// holds them now, past any cache: a connection test must tell the truth
// about what is stored.
func (a *BureauAccess) StoredAccount(ctx context.Context, i Integration) (BureauAccount, error) {
	sec, err := a.Secrets.Reload(ctx, i.SecretRef)
	if err != nil {
		return BureauAccount{}, err
	}
	return i.Account(sec), nil
}

// CheckCredentials asks the bureau which of acct's passwords it accepts,
// as they are: no recovery, no second call.
func (a *BureauAccess) CheckCredentials(ctx context.Context, acct BureauAccount) (CredentialCheck, error) {
	return a.Accounts.CheckCredentials(ctx, acct)
}

func (a *BureauAccess) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}
