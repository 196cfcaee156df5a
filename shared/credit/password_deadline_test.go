package credit_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPasswordChangeKeepsToTheRequestsDeadline: a password change's bureau
// calls keep to the request's budget (the margin before its deadline) like
// every other bureau call, however long the bureau would take. The change
// call takes part of it, so that asking the bureau afterwards still fits:
// the change answers before the deadline, completed or rolled back, never
// left open; with no time left nothing is sent.
func TestPasswordChangeKeepsToTheRequestsDeadline(t *testing.T) {
	const margin, window = deadlineMargin, deadlineWindow
	hang := bureauTooSlow
	tests := []struct {
		name   string
		window time.Duration
		// hangAt is the bureau step that outlives the request: "change"
		// (never made) or "changed" (made, its answer lost).
		hangAt  string
		code    string
		outcome credit.PasswordChangeOutcome
		changed bool
		steps   []string
	}{
		{"the bureau never answers the change: cut, asked, rolled back", 0, "change",
			credit.CodeBureauUnavailable, credit.PasswordChangeFailed, false, []string{"change", "check", "check"}},
		{"the change lands but its answer does not: cut, asked, completed", 0, "changed",
			"", credit.PasswordChanged, true, []string{"change", "changed", "check"}},
		{"less time left than the margin: nothing is sent", margin / 2, "",
			credit.CodeBureauUnavailable, credit.PasswordChangeFailed, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newPasswordFixture(t)
			f.svc.Margin = margin
			var (
				mu        sync.Mutex
				steps     []string
				deadlines = map[string]time.Time{}
			)
			f.bureau.onCall = func(ctx context.Context, step string) error {
				d, ok := ctx.Deadline()
				require.True(t, ok, "a bureau call without a deadline")
				mu.Lock()
				steps = append(steps, step)
				if _, seen := deadlines[step]; !seen {
					deadlines[step] = d
				}
				mu.Unlock()
				if step == tt.hangAt {
					return hang(ctx)
				}
				return nil
			}
			w := tt.window
			if w == 0 {
				w = window
			}
			deadline := time.Now().Add(w)
			ctx, cancel := context.WithDeadline(f.ctx(), deadline)
			defer cancel()
			before := f.current(t)
			pw := f.passwords.next(credit.CredentialConsultation)

			err := f.svc.Change(ctx, credit.PasswordChangeRequest{IntegrationID: f.integration.ID, Kind: credit.CredentialConsultation,
				NewPassword: pw, Confirmation: pw, RequestID: "req-deadline"})

			assert.True(t, time.Now().Before(deadline), "the answer comes before the request's deadline")
			if tt.code == "" {
				require.NoError(t, err)
			} else {
				assert.Equal(t, tt.code, credit.ErrorCode(err), "%v", err)
				assert.Equal(t, credit.KindBadGateway, credit.ErrorKind(err), "502")
			}
			assert.Equal(t, tt.steps, steps)
			if check, ok := deadlines["check"]; ok {
				assert.Equal(t, deadline.Add(-margin), check, "asking the bureau ends the margin before the request")
				assert.True(t, deadlines["change"].Before(check), "the change leaves time to ask")
			}

			// A definite state: the change record is closed, nothing is
			// pending, the bureau and the secret store agree.
			history := f.history_(t)
			require.NotEmpty(t, history)
			assert.Equal(t, tt.outcome, history[0].Outcome)
			assert.False(t, history[0].FinishedAt.IsZero(), "the record is closed")
			f.bureau.onCall = nil
			f.requireConsistent(t)
			if tt.changed {
				assert.Equal(t, pw, f.current(t).ConsultationPassword)
			} else {
				assert.Equal(t, before, f.current(t), "unchanged")
				assert.Zero(t, f.bureau.changeCount())
			}
		})
	}
}
