package credit

import (
	"context"
	"log/slog"
)

// RemoveRequest asks for the removal (baixa) of a negativation.
type RemoveRequest struct {
	// RemovalCode is the bureau's reason; the integration's when empty.
	RemovalCode string
	// Origin automatic (the billing rule, with RunID) removes only records
	// whose invoice is paid or cancelled, for integrations with automation.
	Origin Origin
	RunID  string
}

// Remove takes a pending or active record off the bureau; it ends removed,
// history kept. Anything else is 409 invalid_status. A bureau fault leaves
// the record as it was (still live), with the error in its history, and is
// returned (502 or 422). Of concurrent removals only one reaches the bureau.
// The master switch does not stop it: a paid debt must come off the bureau
// within 5 business days (STJ Súmula 548).
func (s *NegativationService) Remove(ctx context.Context, id string, req RemoveRequest) (Negativation, error) {
	return s.remove(ctx, s.own(), id, req)
}

func (s *NegativationService) remove(ctx context.Context, d negativationDeps, id string, req RemoveRequest) (Negativation, error) {
	var fe FieldErrors
	req.RemovalCode = trimCode(req.RemovalCode)
	if len(req.RemovalCode) > 32 {
		fe.Add("removalCode", "até 32 caracteres")
	}
	validOrigin(&fe, &req.Origin, req.RunID)
	if err := fe.Err(); err != nil {
		return Negativation{}, err
	}
	n, err := s.Store.GetNegativation(ctx, id)
	if err != nil {
		return Negativation{}, err
	}
	if err := AllowBranch(ctx, n.BranchID); err != nil {
		return Negativation{}, err
	}
	if !n.removable(s.Now.Now()) {
		return Negativation{}, ErrInvalidStatus(n, "baixar")
	}
	integration, err := d.integrations.GetIntegration(ctx, n.IntegrationID)
	if err != nil {
		return Negativation{}, err
	}
	removedOn := DateOf(s.Now.Now(), SaoPaulo())
	inv, err := s.Parties.GetInvoice(ctx, n.CustomerID, n.InvoiceID)
	switch {
	case err == nil && inv.Status != InvoiceOpen && !inv.SettledOn.IsZero():
		removedOn = inv.SettledOn // the day the debt stopped being owed
	case err != nil && ErrorKind(err) != KindNotFound:
		return Negativation{}, err
	}
	if req.Origin == OriginAutomatic {
		if !integration.Automation.Enabled {
			return Negativation{}, errAutomationDisabled(integration)
		}
		if err != nil || inv.Status == InvoiceOpen {
			return Negativation{}, Errorf(KindUnprocessable, CodeInvoiceNotSettled,
				"A baixa automática exige a fatura %s paga ou cancelada.", n.InvoiceID)
		}
	}
	code := req.RemovalCode
	if code == "" {
		code = integration.Automation.RemovalCode
	}
	if code == "" {
		return Negativation{}, NewError(KindUnprocessable, CodeRemovalCodeRequired,
			"Informe o código para baixa: a integração não tem um código padrão configurado.")
	}
	// The credentials must be readable before the record is claimed.
	if _, err := d.bureau.Account(ctx, integration); err != nil {
		return Negativation{}, err
	}
	actor := who(ctx)

	claimed, err := s.Store.UpdateNegativation(ctx, id, func(cur *Negativation) error {
		return cur.StartRemoval(s.Now.Now(), actor, req.RunID, code)
	})
	if err != nil {
		return Negativation{}, err
	}

	berr := d.bureau.Remove(ctx, integration, RemovalRequest{Reference: id, RemovalCode: code, Date: removedOn.Time()})
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), outcomeTimeout)
	defer cancel()
	updated, err := s.Store.UpdateNegativation(wctx, id, func(cur *Negativation) error {
		if cur.Status != NegativationRemoving || cur.Version != claimed.Version {
			return ErrNoChange
		}
		if berr == nil {
			return cur.ConfirmRemoval(s.Now.Now(), actor, req.RunID)
		}
		return cur.FailRemoval(s.Now.Now(), actor, req.RunID, berr)
	})
	if err != nil {
		d.log.ErrorContext(ctx, "negativation removal outcome not recorded", slog.String("negativationId", id),
			slog.String("bureauOutcome", ErrorCode(berr)), slog.String("error", err.Error()))
		return Negativation{}, err
	}
	if berr != nil {
		d.log.WarnContext(ctx, "negativation removal failed", slog.String("negativationId", id), slog.String("document", n.Document.Masked()),
			slog.String("code", ErrorCode(berr)), slog.String("error", berr.Error()))
		return updated, naming(berr, updated)
	}
	return updated, nil
}
