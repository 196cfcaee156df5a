package credit

import "time"

// This file is a negativation's life cycle: every change of status, the
// states it may come from, and the history entry it leaves. The services
// decide when to call the bureau and how to write; the record decides what
// a change does to it. Each change stamps UpdatedAt with at and records by
// (and the billing run, runID, when one acted) in the history.

// Submit moves n to submitting for an inclusion: a new record (no status
// yet) for its first attempt, or a failed or abandoned submitting one for a
// retry under the same reference, which the bureau never registers twice.
// Anything else is 409 already_negativated.
func (n *Negativation) Submit(at time.Time, by Actor, runID string) error {
	msg := "Inclusão enviada ao bureau."
	switch {
	case n.Status == "":
	case n.retryable(at):
		msg = "Nova tentativa de inclusão enviada ao bureau (mesma referência)."
	default:
		return ErrAlreadyNegativated(*n)
	}
	n.Status, n.UpdatedAt = NegativationSubmitting, at
	n.Attempts++
	n.record(NegativationEvent{Status: NegativationSubmitting, At: at, By: by, RunID: runID, Message: msg})
	return nil
}

// FailInclusion records that the inclusion of a submitting record did not
// go through (cause is the bureau's error): n is failed, live while the
// bureau may have registered it anyway. Any other status is 409
// invalid_status.
func (n *Negativation) FailInclusion(at time.Time, by Actor, runID string, cause error) error {
	if n.Status != NegativationSubmitting {
		return ErrInvalidStatus(*n, "registrar a falha de inclusão de")
	}
	code, msg := ErrorCode(cause), ErrorMessage(cause)
	n.Status, n.UpdatedAt = NegativationFailed, at
	n.OutcomeUnknown = outcomeUnknown(cause)
	n.LastError = &NegativationError{Code: code, Message: msg}
	n.record(NegativationEvent{Status: NegativationFailed, At: at, By: by, RunID: runID, ErrorCode: code,
		Message: "Falha na inclusão: " + msg})
	return nil
}

// outcomeUnknown reports whether a failed bureau call may have been applied
// anyway: anything but a definite refusal.
func outcomeUnknown(err error) bool {
	switch ErrorCode(err) {
	case CodeBureauRejected, CodeBureauBadCredentials, CodeValidation, CodeBureauRecordNotFound:
		return false
	}
	return true
}

// ApplyBureauRecord moves a record in motion (submitting, pending, failed
// or removing) to the status the bureau reports for its reference: pending,
// active, rejected or removed, with the bureau's protocol and message.
// ErrNoChange when the bureau reports the status n already has, or one this
// service does not know; 409 invalid_status from any other status.
func (n *Negativation) ApplyBureauRecord(at time.Time, by Actor, runID string, rec BureauRecord) error {
	switch n.Status {
	case NegativationSubmitting, NegativationPending, NegativationFailed, NegativationRemoving:
	default:
		return ErrInvalidStatus(*n, "atualizar pelo bureau")
	}
	var status NegativationStatus
	switch rec.Status {
	case BureauRecordPending:
		status = NegativationPending
	case BureauRecordActive:
		status = NegativationActive
	case BureauRecordRejected:
		status = NegativationRejected
	case BureauRecordRemoved:
		status = NegativationRemoved
	default:
		return ErrNoChange
	}
	if status == n.Status {
		return ErrNoChange
	}
	if rec.Protocol != "" {
		n.Protocol = cleanBureauMessage(rec.Protocol)
	}
	msg := cleanBureauMessage(rec.Message)
	n.Status, n.OutcomeUnknown, n.LastError, n.UpdatedAt = status, false, nil, at
	if msg != "" {
		n.BureauMessage = msg
	}
	if status == NegativationRemoved && n.RemovedAt.IsZero() {
		n.RemovedAt, n.RemovedBy = at, by
	}
	n.record(NegativationEvent{Status: status, At: at, By: by, RunID: runID, Message: statusMessage(status, msg)})
	return nil
}

func statusMessage(s NegativationStatus, bureauMessage string) string {
	var m string
	switch s {
	case NegativationPending:
		m = "Inclusão recebida pelo bureau; aguardando a carta comunicado ao devedor."
	case NegativationActive:
		m = "Negativação ativa no bureau."
	case NegativationRejected:
		m = "Inclusão rejeitada pelo bureau."
	case NegativationRemoved:
		m = "Baixa registrada no bureau."
	}
	if bureauMessage != "" {
		m += " Bureau: " + bureauMessage
	}
	return m
}

// Reconcile applies what the sync learned from the bureau about n: rec
// when the bureau knows the reference (found), nothing otherwise. It moves
// a pending record, and a stale submitting or removing one, or an
// unknown-outcome failed one, to what the bureau holds: an inclusion the
// bureau never received is failed for sure (retryable, no longer live); a
// removal it never received goes back to pending or active. ErrNoChange
// when nothing changes, whatever n's status.
func (n *Negativation) Reconcile(at time.Time, by Actor, runID string, rec BureauRecord, found bool) error {
	switch {
	case n.Status == NegativationPending:
		if !found {
			return ErrNoChange
		}
		return n.ApplyBureauRecord(at, by, runID, rec)
	case n.Status == NegativationSubmitting && n.stale(at), n.Status == NegativationFailed && n.OutcomeUnknown:
		if found {
			return n.ApplyBureauRecord(at, by, runID, rec)
		}
		if n.Status == NegativationFailed && !n.stale(at) {
			return ErrNoChange
		}
		// The bureau never received it: nothing is registered, and a retry
		// may send it again.
		n.Status, n.OutcomeUnknown, n.UpdatedAt = NegativationFailed, false, at
		n.LastError = &NegativationError{Code: CodeBureauRecordNotFound, Message: "O bureau não recebeu a inclusão."}
		n.record(NegativationEvent{Status: NegativationFailed, At: at, By: by, RunID: runID, ErrorCode: CodeBureauRecordNotFound,
			Message: "O bureau não recebeu a inclusão; ela pode ser enviada novamente."})
		return nil
	case n.Status == NegativationRemoving && n.stale(at):
		if !found {
			return ErrNoChange
		}
		if rec.Status == BureauRecordPending || rec.Status == BureauRecordActive {
			// The removal never arrived: back to what the bureau holds.
			n.Status, n.UpdatedAt = NegativationPending, at
			if rec.Status == BureauRecordActive {
				n.Status = NegativationActive
			}
			n.record(NegativationEvent{Status: n.Status, At: at, By: by, RunID: runID,
				Message: "A baixa não foi confirmada pelo bureau; a negativação continua registrada."})
			return nil
		}
		return n.ApplyBureauRecord(at, by, runID, rec)
	}
	return ErrNoChange
}

// StartRemoval moves a pending or active record (or a removing one whose
// call was abandoned) to removing, with the bureau's removal code, and
// remembers where a refused removal goes back to. Anything else is 409
// invalid_status.
func (n *Negativation) StartRemoval(at time.Time, by Actor, runID, removalCode string) error {
	if !n.removable(at) {
		return ErrInvalidStatus(*n, "baixar")
	}
	if n.Status != NegativationRemoving {
		n.StatusBeforeRemoval = n.Status
	}
	n.Status, n.RemovalCode, n.UpdatedAt = NegativationRemoving, removalCode, at
	n.record(NegativationEvent{Status: NegativationRemoving, At: at, By: by, RunID: runID, Message: "Baixa enviada ao bureau."})
	return nil
}

// ConfirmRemoval records that the bureau took a removing record off: n is
// removed, final. Any other status is 409 invalid_status.
func (n *Negativation) ConfirmRemoval(at time.Time, by Actor, runID string) error {
	if n.Status != NegativationRemoving {
		return ErrInvalidStatus(*n, "confirmar a baixa de")
	}
	n.Status, n.RemovedAt, n.RemovedBy, n.LastError, n.UpdatedAt = NegativationRemoved, at, by, nil, at
	n.record(NegativationEvent{Status: NegativationRemoved, At: at, By: by, RunID: runID, Message: "Baixa confirmada pelo bureau."})
	return nil
}

// FailRemoval records that the bureau refused or failed the removal of a
// removing record (cause is its error): n goes back to the status it had,
// still live. Any other status is 409 invalid_status.
func (n *Negativation) FailRemoval(at time.Time, by Actor, runID string, cause error) error {
	if n.Status != NegativationRemoving {
		return ErrInvalidStatus(*n, "registrar a falha de baixa de")
	}
	code, msg := ErrorCode(cause), ErrorMessage(cause)
	n.Status, n.UpdatedAt = n.StatusBeforeRemoval, at
	n.LastError = &NegativationError{Code: code, Message: msg}
	n.record(NegativationEvent{Status: n.Status, At: at, By: by, RunID: runID, ErrorCode: code, Message: "Falha na baixa: " + msg})
	return nil
}
