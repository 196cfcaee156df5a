package credit_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBureauAccessRecoversRefusedCredentials is what every area calling the
// bureau gets: a refusal caused by a change left half done is settled and
// the call made once more with the credentials that hold; any other answer
// stands after one call.
func TestBureauAccessRecoversRefusedCredentials(t *testing.T) {
	down := errors.New("injected: down")
	tests := []struct {
		name string
		// arrange leaves the fixture as the case needs; it returns the
		// password the stored credentials must end with, if any.
		arrange func(t *testing.T, f *passwordFixture) string
		code    string
		calls   int
	}{
		{
			name:    "credentials that work: one call",
			arrange: func(*testing.T, *passwordFixture) string { return "" },
			calls:   1,
		},
		{
			name: "a change left pending: settled, then the call succeeds",
			arrange: func(t *testing.T, f *passwordFixture) string {
				pw := f.passwords.next(credit.CredentialConsultation)
				f.secrets.Inject(failAlways("Promote", down))
				requireCode(t, f.change(credit.CredentialConsultation, pw), credit.CodePasswordChangeIncomplete, credit.KindUnavailable)
				f.secrets.Inject(nil)
				return pw
			},
			calls: 2,
		},
		{
			name: "a refusal nothing explains stands, after one call",
			arrange: func(t *testing.T, f *passwordFixture) string {
				f.bureau.set(credit.CredentialConsultation, "Elsewh#1")
				return ""
			},
			code:  credit.CodeBureauBadCredentials,
			calls: 1,
		},
		{
			name: "other errors are not retried",
			arrange: func(t *testing.T, f *passwordFixture) string {
				f.consultations.consult = func(context.Context, credit.BureauAccount, credit.ConsultQuery) (credit.Report, error) {
					return credit.Report{}, credit.BureauUnavailable(down)
				}
				return ""
			},
			code:  credit.CodeBureauUnavailable,
			calls: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPasswordFixture(t)
			want := tt.arrange(t, f)
			_, err := f.access.Consult(f.ctx(), f.integration, credit.ConsultQuery{Document: credit.MustParseDocument(testCPF), Plan: credit.PlanReportScore, UF: "SP"})
			if tt.code == "" {
				require.NoError(t, err)
			} else {
				assert.Equal(t, tt.code, credit.ErrorCode(err), "%v", err)
			}
			assert.Equal(t, tt.calls, f.consultations.calls())
			if want != "" {
				assert.Equal(t, want, f.current(t).ConsultationPassword)
				f.requireConsistent(t)
			}
		})
	}
}

// TestBureauAccessChecksStoredCredentials: the connection test asks with
// the credentials stored now and never recovers: a refusal is its answer.
func TestBureauAccessChecksStoredCredentials(t *testing.T) {
	f := newPasswordFixture(t)
	f.bureau.set(credit.CredentialPEFIN, "975310")
	acct, err := f.access.StoredAccount(f.ctx(), f.integration)
	require.NoError(t, err)
	assert.Equal(t, initialPEFIN, acct.Credentials.PEFINPassword)
	check, err := f.access.CheckCredentials(f.ctx(), acct)
	require.NoError(t, err)
	assert.Equal(t, credit.CredentialCheck{Consultation: true}, check)
}

// The deadline tests' request: deadlineWindow of time left, of which the
// bureau calls keep deadlineMargin for the work after them (room enough
// under load).
const (
	deadlineMargin = 400 * time.Millisecond
	deadlineWindow = 1600 * time.Millisecond
)

// bureauTooSlow answers when the bureau would, long after the request is
// over, unless its context ends first: a bureau timeout then.
func bureauTooSlow(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return credit.BureauTimeout(ctx.Err())
	case <-time.After(time.Minute):
		return nil
	}
}

// TestBureauAccessKeepsToTheRequestsDeadline: every bureau call ends the
// margin before the request's deadline whatever the adapter's timeout, the
// second call gets only what the first left, and a spent budget answers
// bureau_unavailable before the deadline without calling.
func TestBureauAccessKeepsToTheRequestsDeadline(t *testing.T) {
	const margin, window = deadlineMargin, deadlineWindow
	slow := bureauTooSlow
	tests := []struct {
		name string
		// window is the request's time left; zero means window.
		window time.Duration
		// pending leaves a password change half done, so that the first
		// call is refused and the second made with the settled password.
		pending bool
		// first and second run before the fake bureau answers its first
		// and second call.
		first, second func(ctx context.Context) error
		// used is how long the first call takes at least.
		used  time.Duration
		code  string
		calls int
	}{
		{
			name:  "a bureau slower than the request: cut at the budget",
			first: slow,
			code:  credit.CodeBureauUnavailable,
			calls: 1,
		},
		{
			name:  "an adapter that answers the bare context error: still a bureau timeout",
			first: func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
			code:  credit.CodeBureauUnavailable,
			calls: 1,
		},
		{
			name:    "the retry after refused credentials gets only what is left",
			pending: true,
			first:   func(context.Context) error { time.Sleep(150 * time.Millisecond); return nil },
			used:    150 * time.Millisecond,
			second:  slow,
			code:    credit.CodeBureauUnavailable,
			calls:   2,
		},
		{
			name:    "refused when the budget is spent: no second call",
			pending: true,
			first:   func(ctx context.Context) error { <-ctx.Done(); return nil },
			code:    credit.CodeBureauUnavailable,
			calls:   1,
		},
		{
			name:    "a quick refusal and a quick retry: the call succeeds",
			pending: true,
			calls:   2,
		},
		{
			name:   "less time left than the margin: nothing is sent",
			window: margin / 2,
			code:   credit.CodeBureauUnavailable,
			calls:  0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPasswordFixture(t)
			f.access.Margin, f.svc.Margin = margin, margin // the recovery asks the bureau too
			if tt.pending {
				pw := f.passwords.next(credit.CredentialConsultation)
				f.secrets.Inject(failAlways("Promote", errors.New("injected: down")))
				requireCode(t, f.change(credit.CredentialConsultation, pw), credit.CodePasswordChangeIncomplete, credit.KindUnavailable)
				f.secrets.Inject(nil)
			}
			var (
				mu        sync.Mutex
				deadlines []time.Time
				left      []time.Duration
			)
			answer := f.consultations.consult
			f.consultations.consult = func(ctx context.Context, acct credit.BureauAccount, q credit.ConsultQuery) (credit.Report, error) {
				d, ok := ctx.Deadline()
				require.True(t, ok, "a bureau call without a deadline")
				mu.Lock()
				deadlines, left = append(deadlines, d), append(left, time.Until(d))
				n := len(deadlines)
				mu.Unlock()
				if step := map[int]func(context.Context) error{1: tt.first, 2: tt.second}[n]; step != nil {
					if err := step(ctx); err != nil {
						return credit.Report{}, err
					}
				}
				return answer(ctx, acct, q)
			}
			w := tt.window
			if w == 0 {
				w = window
			}
			deadline := time.Now().Add(w)
			ctx, cancel := context.WithDeadline(f.ctx(), deadline)
			defer cancel()

			_, err := f.access.Consult(ctx, f.integration, credit.ConsultQuery{Document: credit.MustParseDocument(testCPF), Plan: credit.PlanReportScore, UF: "SP"})

			assert.True(t, time.Now().Before(deadline), "the answer comes before the request's deadline")
			if tt.code == "" {
				require.NoError(t, err)
			} else {
				assert.Equal(t, tt.code, credit.ErrorCode(err), "%v", err)
			}
			require.Equal(t, tt.calls, f.consultations.calls())
			for i, d := range deadlines {
				assert.Equal(t, deadline.Add(-margin), d, "call %d ends the margin before the request", i+1)
			}
			if len(left) == 2 {
				assert.LessOrEqual(t, left[1], left[0]-tt.used, "the second call gets only what the first left")
			}
		})
	}
}

// TestBureauAccessWithoutDeadline: a context without a deadline leaves each
// call to the adapter's own timeout.
func TestBureauAccessWithoutDeadline(t *testing.T) {
	f := newPasswordFixture(t)
	answer := f.consultations.consult
	f.consultations.consult = func(ctx context.Context, acct credit.BureauAccount, q credit.ConsultQuery) (credit.Report, error) {
		_, ok := ctx.Deadline()
		assert.False(t, ok)
		return answer(ctx, acct, q)
	}
	_, err := f.access.Consult(f.ctx(), f.integration, credit.ConsultQuery{Document: credit.MustParseDocument(testCPF), Plan: credit.PlanReportScore, UF: "SP"})
	require.NoError(t, err)
	assert.Equal(t, 1, f.consultations.calls())
}
