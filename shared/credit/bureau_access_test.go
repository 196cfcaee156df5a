package credit_test

import (
	"context"
	"errors"
	"testing"

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
