package credit_test

import (
	"errors"
	"testing"
	"time"

	"creditanalysis/shared/credit"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	lifeAt   = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	lifeBy   = credit.Actor{Subject: "user-1", Name: "Ana"}
	lifeSeed = credit.Actor{Subject: "user-0"}
)

// lifeRecord is a record in status st, last written ago before lifeAt,
// with one history entry.
func lifeRecord(st credit.NegativationStatus, ago time.Duration) credit.Negativation {
	return credit.Negativation{
		ID: "neg-1", Status: st, Attempts: 1,
		CreatedAt: lifeAt.Add(-time.Hour), UpdatedAt: lifeAt.Add(-ago),
		History: []credit.NegativationEvent{{Status: st, At: lifeAt.Add(-ago), By: lifeSeed}},
	}
}

// fresh and stale are how long ago a record was written: within and past
// NegativationStaleAfter.
const (
	fresh = time.Minute
	stale = credit.NegativationStaleAfter + time.Second
)

// transitionCase is one change tried on a record: either it is allowed and
// leaves want (status and the history entry it appends), or it is refused
// with code (or ErrNoChange) and leaves the record as it was.
type transitionCase struct {
	name   string
	from   credit.Negativation
	change func(n *credit.Negativation) error
	// refused is the error code of a refusal, or "no change" for ErrNoChange.
	refused string
	want    credit.NegativationStatus
	// message and errorCode are the history entry's.
	message   string
	errorCode string
	check     func(t *testing.T, n credit.Negativation)
}

const noChange = "no change"

func runTransitions(t *testing.T, cases []transitionCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := tc.from
			n.History = append([]credit.NegativationEvent(nil), tc.from.History...)
			err := tc.change(&n)
			if tc.refused != "" {
				require.Error(t, err)
				if tc.refused == noChange {
					assert.ErrorIs(t, err, credit.ErrNoChange)
				} else {
					assert.False(t, errors.Is(err, credit.ErrNoChange))
					assert.Equal(t, tc.refused, credit.ErrorCode(err))
				}
				assert.Equal(t, tc.from, n, "a refused change leaves the record as it was")
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, n.Status)
			assert.Equal(t, lifeAt, n.UpdatedAt)
			require.Len(t, n.History, len(tc.from.History)+1)
			last := n.History[len(n.History)-1]
			assert.Equal(t, credit.NegativationEvent{Status: tc.want, At: lifeAt, By: lifeBy, RunID: "run-1",
				Message: tc.message, ErrorCode: tc.errorCode}, last)
			if tc.check != nil {
				tc.check(t, n)
			}
		})
	}
}

func TestNegativationSubmit(t *testing.T) {
	submit := func(n *credit.Negativation) error { return n.Submit(lifeAt, lifeBy, "run-1") }
	retried := "Nova tentativa de inclusão enviada ao bureau (mesma referência)."
	attempts := func(want int) func(*testing.T, credit.Negativation) {
		return func(t *testing.T, n credit.Negativation) { assert.Equal(t, want, n.Attempts) }
	}
	cases := []transitionCase{
		{name: "new record", from: credit.Negativation{ID: "neg-1"}, change: submit,
			want: credit.NegativationSubmitting, message: "Inclusão enviada ao bureau.", check: attempts(1)},
		{name: "failed", from: lifeRecord(credit.NegativationFailed, fresh), change: submit,
			want: credit.NegativationSubmitting, message: retried, check: attempts(2)},
		{name: "abandoned submitting", from: lifeRecord(credit.NegativationSubmitting, stale), change: submit,
			want: credit.NegativationSubmitting, message: retried, check: attempts(2)},
		{name: "submitting in flight", from: lifeRecord(credit.NegativationSubmitting, fresh), change: submit,
			refused: credit.CodeAlreadyNegativated},
	}
	for _, st := range []credit.NegativationStatus{credit.NegativationPending, credit.NegativationActive,
		credit.NegativationRejected, credit.NegativationRemoving, credit.NegativationRemoved} {
		cases = append(cases, transitionCase{name: string(st), from: lifeRecord(st, stale), change: submit,
			refused: credit.CodeAlreadyNegativated})
	}
	runTransitions(t, cases)
}

func TestNegativationFailInclusion(t *testing.T) {
	failWith := func(cause error) func(*credit.Negativation) error {
		return func(n *credit.Negativation) error { return n.FailInclusion(lifeAt, lifeBy, "run-1", cause) }
	}
	unknown := func(want bool, code string) func(*testing.T, credit.Negativation) {
		return func(t *testing.T, n credit.Negativation) {
			assert.Equal(t, want, n.OutcomeUnknown)
			require.NotNil(t, n.LastError)
			assert.Equal(t, code, n.LastError.Code)
			assert.Equal(t, want, n.Live())
		}
	}
	timeout := credit.BureauTimeout(errors.New("deadline"))
	refusal := credit.BureauRejected("CPF inválido")
	cases := []transitionCase{
		{name: "timeout: outcome unknown", from: lifeRecord(credit.NegativationSubmitting, fresh), change: failWith(timeout),
			want: credit.NegativationFailed, errorCode: timeout.Code, message: "Falha na inclusão: " + timeout.Message,
			check: unknown(true, timeout.Code)},
		{name: "refusal: outcome known", from: lifeRecord(credit.NegativationSubmitting, fresh), change: failWith(refusal),
			want: credit.NegativationFailed, errorCode: refusal.Code, message: "Falha na inclusão: " + refusal.Message,
			check: unknown(false, refusal.Code)},
	}
	for _, st := range credit.NegativationStatuses {
		if st != credit.NegativationSubmitting {
			cases = append(cases, transitionCase{name: string(st), from: lifeRecord(st, fresh), change: failWith(timeout),
				refused: credit.CodeInvalidStatus})
		}
	}
	runTransitions(t, cases)
}

func TestNegativationApplyBureauRecord(t *testing.T) {
	apply := func(st credit.BureauRecordStatus) func(*credit.Negativation) error {
		return func(n *credit.Negativation) error {
			return n.ApplyBureauRecord(lifeAt, lifeBy, "run-1", credit.BureauRecord{Reference: n.ID, Protocol: "P-9", Status: st, Message: "ok"})
		}
	}
	applied := func(t *testing.T, n credit.Negativation) {
		assert.Equal(t, "P-9", n.Protocol)
		assert.Equal(t, "ok", n.BureauMessage)
		assert.False(t, n.OutcomeUnknown)
		assert.Nil(t, n.LastError)
	}
	failedUnknown := lifeRecord(credit.NegativationFailed, fresh)
	failedUnknown.OutcomeUnknown = true
	failedUnknown.LastError = &credit.NegativationError{Code: credit.BureauTimeout(nil).Code}
	cases := []transitionCase{
		{name: "submitting to pending", from: lifeRecord(credit.NegativationSubmitting, fresh), change: apply(credit.BureauRecordPending),
			want: credit.NegativationPending, message: "Inclusão recebida pelo bureau; aguardando a carta comunicado ao devedor. Bureau: ok", check: applied},
		{name: "pending to active", from: lifeRecord(credit.NegativationPending, fresh), change: apply(credit.BureauRecordActive),
			want: credit.NegativationActive, message: "Negativação ativa no bureau. Bureau: ok", check: applied},
		{name: "failed with unknown outcome to rejected", from: failedUnknown, change: apply(credit.BureauRecordRejected),
			want: credit.NegativationRejected, message: "Inclusão rejeitada pelo bureau. Bureau: ok", check: applied},
		{name: "removing to removed", from: lifeRecord(credit.NegativationRemoving, fresh), change: apply(credit.BureauRecordRemoved),
			want: credit.NegativationRemoved, message: "Baixa registrada no bureau. Bureau: ok", check: func(t *testing.T, n credit.Negativation) {
				applied(t, n)
				assert.Equal(t, lifeAt, n.RemovedAt)
				assert.Equal(t, lifeBy, n.RemovedBy)
			}},
		{name: "the status it has", from: lifeRecord(credit.NegativationPending, fresh), change: apply(credit.BureauRecordPending), refused: noChange},
		{name: "a status the service does not know", from: lifeRecord(credit.NegativationSubmitting, fresh), change: apply("suspended"), refused: noChange},
	}
	for _, st := range []credit.NegativationStatus{credit.NegativationActive, credit.NegativationRejected, credit.NegativationRemoved} {
		cases = append(cases, transitionCase{name: "from " + string(st), from: lifeRecord(st, fresh), change: apply(credit.BureauRecordPending),
			refused: credit.CodeInvalidStatus})
	}
	runTransitions(t, cases)
}

func TestNegativationReconcile(t *testing.T) {
	known := func(st credit.BureauRecordStatus) func(*credit.Negativation) error {
		return func(n *credit.Negativation) error {
			return n.Reconcile(lifeAt, lifeBy, "run-1", credit.BureauRecord{Reference: n.ID, Status: st}, true)
		}
	}
	unknownToBureau := func(n *credit.Negativation) error {
		return n.Reconcile(lifeAt, lifeBy, "run-1", credit.BureauRecord{}, false)
	}
	failedUnknown := func(ago time.Duration) credit.Negativation {
		n := lifeRecord(credit.NegativationFailed, ago)
		n.OutcomeUnknown = true
		return n
	}
	notReceived := "O bureau não recebeu a inclusão; ela pode ser enviada novamente."
	failedForSure := func(t *testing.T, n credit.Negativation) {
		assert.False(t, n.OutcomeUnknown)
		assert.False(t, n.Live())
		require.NotNil(t, n.LastError)
		assert.Equal(t, credit.CodeBureauRecordNotFound, n.LastError.Code)
	}
	removalLost := "A baixa não foi confirmada pelo bureau; a negativação continua registrada."
	cases := []transitionCase{
		{name: "pending the bureau made active", from: lifeRecord(credit.NegativationPending, fresh), change: known(credit.BureauRecordActive),
			want: credit.NegativationActive, message: "Negativação ativa no bureau."},
		{name: "pending the bureau does not know", from: lifeRecord(credit.NegativationPending, stale), change: unknownToBureau, refused: noChange},
		{name: "stale submitting the bureau holds", from: lifeRecord(credit.NegativationSubmitting, stale), change: known(credit.BureauRecordPending),
			want: credit.NegativationPending, message: "Inclusão recebida pelo bureau; aguardando a carta comunicado ao devedor."},
		{name: "stale submitting the bureau never received", from: lifeRecord(credit.NegativationSubmitting, stale), change: unknownToBureau,
			want: credit.NegativationFailed, errorCode: credit.CodeBureauRecordNotFound, message: notReceived, check: failedForSure},
		{name: "submitting in flight", from: lifeRecord(credit.NegativationSubmitting, fresh), change: known(credit.BureauRecordPending), refused: noChange},
		{name: "unknown-outcome failure the bureau holds", from: failedUnknown(fresh), change: known(credit.BureauRecordActive),
			want: credit.NegativationActive, message: "Negativação ativa no bureau."},
		{name: "stale unknown-outcome failure the bureau never received", from: failedUnknown(stale), change: unknownToBureau,
			want: credit.NegativationFailed, errorCode: credit.CodeBureauRecordNotFound, message: notReceived, check: failedForSure},
		{name: "recent unknown-outcome failure the bureau does not know yet", from: failedUnknown(fresh), change: unknownToBureau, refused: noChange},
		{name: "known failure", from: lifeRecord(credit.NegativationFailed, stale), change: known(credit.BureauRecordActive), refused: noChange},
		{name: "stale removing the bureau still holds active", from: lifeRecord(credit.NegativationRemoving, stale), change: known(credit.BureauRecordActive),
			want: credit.NegativationActive, message: removalLost},
		{name: "stale removing the bureau still holds pending", from: lifeRecord(credit.NegativationRemoving, stale), change: known(credit.BureauRecordPending),
			want: credit.NegativationPending, message: removalLost},
		{name: "stale removing the bureau removed", from: lifeRecord(credit.NegativationRemoving, stale), change: known(credit.BureauRecordRemoved),
			want: credit.NegativationRemoved, message: "Baixa registrada no bureau.", check: func(t *testing.T, n credit.Negativation) {
				assert.Equal(t, lifeAt, n.RemovedAt)
			}},
		{name: "stale removing the bureau does not know", from: lifeRecord(credit.NegativationRemoving, stale), change: unknownToBureau, refused: noChange},
		{name: "removing in flight", from: lifeRecord(credit.NegativationRemoving, fresh), change: known(credit.BureauRecordRemoved), refused: noChange},
	}
	for _, st := range []credit.NegativationStatus{credit.NegativationActive, credit.NegativationRejected, credit.NegativationRemoved} {
		cases = append(cases, transitionCase{name: string(st), from: lifeRecord(st, stale), change: known(credit.BureauRecordRemoved), refused: noChange})
	}
	runTransitions(t, cases)
}

func TestNegativationRemoval(t *testing.T) {
	start := func(n *credit.Negativation) error { return n.StartRemoval(lifeAt, lifeBy, "run-1", "R1") }
	confirm := func(n *credit.Negativation) error { return n.ConfirmRemoval(lifeAt, lifeBy, "run-1") }
	refusal := credit.BureauRejected("registro inexistente")
	fail := func(n *credit.Negativation) error { return n.FailRemoval(lifeAt, lifeBy, "run-1", refusal) }
	removing := func(before credit.NegativationStatus, ago time.Duration) credit.Negativation {
		n := lifeRecord(credit.NegativationRemoving, ago)
		n.StatusBeforeRemoval = before
		return n
	}
	started := func(before credit.NegativationStatus) func(*testing.T, credit.Negativation) {
		return func(t *testing.T, n credit.Negativation) {
			assert.Equal(t, "R1", n.RemovalCode)
			assert.Equal(t, before, n.StatusBeforeRemoval)
		}
	}
	cases := []transitionCase{
		{name: "start from pending", from: lifeRecord(credit.NegativationPending, fresh), change: start,
			want: credit.NegativationRemoving, message: "Baixa enviada ao bureau.", check: started(credit.NegativationPending)},
		{name: "start from active", from: lifeRecord(credit.NegativationActive, fresh), change: start,
			want: credit.NegativationRemoving, message: "Baixa enviada ao bureau.", check: started(credit.NegativationActive)},
		{name: "start again an abandoned removal", from: removing(credit.NegativationActive, stale), change: start,
			want: credit.NegativationRemoving, message: "Baixa enviada ao bureau.", check: started(credit.NegativationActive)},
		{name: "start a removal in flight", from: removing(credit.NegativationActive, fresh), change: start, refused: credit.CodeInvalidStatus},
		{name: "confirm", from: removing(credit.NegativationActive, fresh), change: confirm,
			want: credit.NegativationRemoved, message: "Baixa confirmada pelo bureau.", check: func(t *testing.T, n credit.Negativation) {
				assert.Equal(t, lifeAt, n.RemovedAt)
				assert.Equal(t, lifeBy, n.RemovedBy)
				assert.Nil(t, n.LastError)
				assert.False(t, n.Live())
			}},
		{name: "fail back to active", from: removing(credit.NegativationActive, fresh), change: fail,
			want: credit.NegativationActive, errorCode: refusal.Code, message: "Falha na baixa: " + refusal.Message,
			check: func(t *testing.T, n credit.Negativation) {
				require.NotNil(t, n.LastError)
				assert.Equal(t, refusal.Code, n.LastError.Code)
				assert.True(t, n.Live())
			}},
		{name: "fail back to pending", from: removing(credit.NegativationPending, fresh), change: fail,
			want: credit.NegativationPending, errorCode: refusal.Code, message: "Falha na baixa: " + refusal.Message},
	}
	for _, st := range credit.NegativationStatuses {
		switch st {
		case credit.NegativationPending, credit.NegativationActive:
		case credit.NegativationRemoving:
			continue
		default:
			cases = append(cases, transitionCase{name: "start from " + string(st), from: lifeRecord(st, stale), change: start,
				refused: credit.CodeInvalidStatus})
		}
		cases = append(cases,
			transitionCase{name: "confirm from " + string(st), from: lifeRecord(st, fresh), change: confirm, refused: credit.CodeInvalidStatus},
			transitionCase{name: "fail from " + string(st), from: lifeRecord(st, fresh), change: fail, refused: credit.CodeInvalidStatus})
	}
	runTransitions(t, cases)
}
