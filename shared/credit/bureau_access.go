package credit

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// DefaultBureauMargin is the part of an invocation's time BureauAccess keeps
// for what follows a bureau call: recording its outcome (a negativation's
// takes up to outcomeTimeout), storing the report and answering. Lambda's
// 29 s less this margin is what every bureau call of a request may use.
const DefaultBureauMargin = 6 * time.Second

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
//
// No bureau call outlives its request: when the context has a deadline (the
// invocation's, which Lambda gives), every call ends Margin before it,
// whatever the adapter's own timeout, and the second call gets only what the
// first left. A call with no time left is not made: bureau_unavailable, so
// the caller records a definite failure and answers 502 in time.
type BureauAccess struct {
	Secrets      SecretStore
	Consultation ConsultationBureau
	Registry     PEFINRegistry
	Accounts     BureauAccounts
	// Recovery settles a password change left half done before the
	// credentials are read again; *PasswordService is the one. Without it
	// the credentials are only read again.
	Recovery CredentialRecovery
	// Margin is kept before the context's deadline for recording the
	// outcome; zero means DefaultBureauMargin.
	Margin time.Duration
	Log    *slog.Logger
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
// Both calls share one budget that ends Margin before ctx's deadline.
func (a *BureauAccess) do(ctx context.Context, i Integration, call func(context.Context, BureauAccount) error) error {
	sec, err := a.Secrets.Current(ctx, i.SecretRef)
	if err != nil {
		return err
	}
	bctx, cancel := a.budget(ctx)
	defer cancel()
	err = a.within(bctx, call, i.Account(sec))
	if ErrorCode(err) != CodeBureauBadCredentials {
		return err
	}
	if a.Recovery != nil {
		if rec, rerr := a.Recovery.Recover(ctx, i.ID); rerr != nil {
			if bctx.Err() != nil {
				// The recovery keeps to the same deadline: with the budget
				// spent, the credentials could be neither settled nor tried
				// again, so the refusal may be stale.
				return BureauTimeout(errNoTimeLeft)
			}
			a.log().WarnContext(ctx, "credentials refused and recovery not possible now", slog.String("integrationId", i.ID), slog.String("error", rerr.Error()))
		} else if rec.Outcome != RecoveryNothingPending {
			a.log().InfoContext(ctx, "credentials refused: a half-done password change was settled", slog.String("integrationId", i.ID), slog.String("outcome", string(rec.Outcome)))
		}
	}
	fresh, rerr := a.Secrets.Reload(ctx, i.SecretRef)
	if rerr != nil || fresh == sec {
		return err
	}
	return a.within(bctx, call, i.Account(fresh))
}

// errNoTimeLeft is why a bureau call was not made.
var errNoTimeLeft = errors.New("no time left for the bureau call before the request's deadline")

// budget bounds the bureau calls of one operation: they end Margin before
// ctx's deadline. A context without a deadline is left to the adapter's
// timeouts.
func (a *BureauAccess) budget(ctx context.Context) (context.Context, context.CancelFunc) {
	return bureauBudget(ctx, a.Margin)
}

// within makes the call unless the budget is spent, and names an error the
// spent budget caused a bureau timeout whatever the adapter made of it.
func (a *BureauAccess) within(bctx context.Context, call func(context.Context, BureauAccount) error, acct BureauAccount) error {
	return bureauWithin(bctx, func(ctx context.Context) error { return call(ctx, acct) })
}

// bureauBudget is the time the bureau calls of one operation may use: until
// margin (DefaultBureauMargin when zero) before ctx's deadline. A context
// without a deadline is left to the adapter's timeouts.
func bureauBudget(ctx context.Context, margin time.Duration) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	if margin <= 0 {
		margin = DefaultBureauMargin
	}
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// bureauWithin makes the call unless the budget bctx is spent (then
// bureau_unavailable wrapping errNoTimeLeft: nothing was sent), and names
// an error the spent budget caused a bureau timeout whatever the adapter
// made of it.
func bureauWithin(bctx context.Context, call func(context.Context) error) error {
	if bctx.Err() != nil {
		return BureauTimeout(errNoTimeLeft)
	}
	err := call(bctx)
	if _, ok := AsError(err); err != nil && !ok && bctx.Err() != nil {
		return BureauTimeout(err)
	}
	return err
}

// reach runs a bureau call that answers a value through do.
func reach[T any](ctx context.Context, a *BureauAccess, i Integration, call func(context.Context, BureauAccount) (T, error)) (T, error) {
	var out T
	err := a.do(ctx, i, func(ctx context.Context, acct BureauAccount) (err error) {
		out, err = call(ctx, acct)
		return err
	})
	return out, err
}

// Consult buys a credit report for the integration's account.
func (a *BureauAccess) Consult(ctx context.Context, i Integration, q ConsultQuery) (Report, error) {
	return reach(ctx, a, i, func(ctx context.Context, acct BureauAccount) (Report, error) {
		return a.Consultation.Consult(ctx, acct, q)
	})
}

// Plans lists the plans the integration's account may consult.
func (a *BureauAccess) Plans(ctx context.Context, i Integration) ([]BureauPlan, error) {
	return reach(ctx, a, i, func(ctx context.Context, acct BureauAccount) ([]BureauPlan, error) {
		return a.Consultation.Plans(ctx, acct)
	})
}

// Include registers a debt for the integration's account.
func (a *BureauAccess) Include(ctx context.Context, i Integration, r NegativationRequest) (BureauRecord, error) {
	return reach(ctx, a, i, func(ctx context.Context, acct BureauAccount) (BureauRecord, error) {
		return a.Registry.Include(ctx, acct, r)
	})
}

// Remove takes a record of the integration's account off.
func (a *BureauAccess) Remove(ctx context.Context, i Integration, r RemovalRequest) error {
	return a.do(ctx, i, func(ctx context.Context, acct BureauAccount) error { return a.Registry.Remove(ctx, acct, r) })
}

// Status reads records of the integration's account.
func (a *BureauAccess) Status(ctx context.Context, i Integration, references []string) ([]BureauRecord, error) {
	return reach(ctx, a, i, func(ctx context.Context, acct BureauAccount) ([]BureauRecord, error) {
		return a.Registry.Status(ctx, acct, references)
	})
}

// RestrictionCodes lists the bureau's restriction codes for the
// integration's account.
func (a *BureauAccess) RestrictionCodes(ctx context.Context, i Integration) ([]BureauCode, error) {
	return reach(ctx, a, i, func(ctx context.Context, acct BureauAccount) ([]BureauCode, error) {
		return a.Registry.RestrictionCodes(ctx, acct)
	})
}

// RemovalCodes lists the bureau's removal codes for the integration's
// account.
func (a *BureauAccess) RemovalCodes(ctx context.Context, i Integration) ([]BureauCode, error) {
	return reach(ctx, a, i, func(ctx context.Context, acct BureauAccount) ([]BureauCode, error) {
		return a.Registry.RemovalCodes(ctx, acct)
	})
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
	bctx, cancel := a.budget(ctx)
	defer cancel()
	var out CredentialCheck
	err := a.within(bctx, func(ctx context.Context, acct BureauAccount) (err error) {
		out, err = a.Accounts.CheckCredentials(ctx, acct)
		return err
	}, acct)
	return out, err
}

func (a *BureauAccess) log() *slog.Logger {
	if a.Log != nil {
		return a.Log
	}
	return slog.Default()
}
